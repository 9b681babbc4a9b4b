/**
 * The one IR: Model → Graph → Node ⇄ Value, with def-use links kept by the IR itself.
 *
 * - A `Value` knows its producer (`producer`, `index`) and its uses (`(node, inputIndex)` pairs).
 *   Only `Node` mutates these links (in its constructor, `setInput`, `appendInput`, `detach`),
 *   so they can never drift from the graph.
 * - A node inside a subgraph (If/Loop/Scan body) may use a value of an enclosing graph; that use
 *   is recorded on the outer value like any other, so `replaceAllUsesWith` reaches into bodies.
 * - Graph inputs, initializers and node outputs are all Values. An initializer is a Value whose
 *   `initializer` holds the constant Tensor; it may also be a graph input (IR < 4 style).
 */
import { LitheError } from '../errors.js';
import {
  AttributeType,
  DataType,
  type FunctionProto,
  type SparseTensorProto,
  type StringStringEntryProto,
  type TensorAnnotation,
  type TypeProto,
  type UnknownFields,
} from '../onnx/proto.js';
import type { Tensor } from './tensor.js';

export type Dim = number | string | null; // fixed size, symbolic name, unknown

export interface Use {
  node: Node;
  index: number;
}

export class Value {
  name: string;
  type: TypeProto | undefined;
  docString: string | undefined;
  metadataProps: StringStringEntryProto[] | undefined;
  /** Set when this value is a constant initializer of its graph. */
  initializer: Tensor | undefined;
  private _producer: Node | null = null;
  private _index = -1;
  private readonly _uses: Use[] = [];

  constructor(name: string, type?: TypeProto) {
    this.name = name;
    this.type = type;
  }

  producer(): Node | null {
    return this._producer;
  }
  /** Output index on the producer, -1 when the value has no producer. */
  index(): number {
    return this._index;
  }
  uses(): readonly Use[] {
    return this._uses;
  }
  isUsed(): boolean {
    return this._uses.length > 0;
  }

  /** Element type of a tensor value, or undefined when unknown. */
  get dtype(): DataType | undefined {
    return this.initializer?.dtype ?? this.type?.tensorType?.elemType;
  }
  /** Shape of a tensor value (null entries are unknown dims), or undefined when the rank is unknown. */
  get shape(): Dim[] | undefined {
    if (this.initializer) return [...this.initializer.dims];
    const s = this.type?.tensorType?.shape;
    if (!s) return undefined;
    return s.dim.map((d) => d.dimValue ?? d.dimParam ?? null);
  }
  /** Sets a tensor type; `shape` undefined means rank unknown. */
  setTensorType(dtype: DataType, shape?: readonly Dim[]): void {
    this.type = {
      tensorType: {
        elemType: dtype,
        shape: shape && {
          dim: shape.map((d) =>
            typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
          ),
        },
      },
    };
  }

  /** Points every use of this value at `other` instead. Graph outputs are the caller's business. */
  replaceAllUsesWith(other: Value): void {
    if (other === this) return;
    for (const { node, index } of [...this._uses]) node.setInput(index, other);
  }

  /** @internal only Node calls these. */
  _setProducer(node: Node | null, index: number): void {
    this._producer = node;
    this._index = index;
  }
  /** @internal */
  _addUse(node: Node, index: number): void {
    this._uses.push({ node, index });
  }
  /** @internal */
  _removeUse(node: Node, index: number): void {
    const i = this._uses.findIndex((u) => u.node === node && u.index === index);
    if (i >= 0) this._uses.splice(i, 1);
  }
}

/** An attribute; GRAPH/GRAPHS values are IR graphs, TENSOR/TENSORS are IR tensors. */
export interface Attribute {
  name: string;
  type: AttributeType;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: Tensor;
  g?: Graph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: Tensor[];
  graphs?: Graph[];
  sparseTensor?: SparseTensorProto;
  sparseTensors?: SparseTensorProto[];
  tp?: TypeProto;
  typeProtos?: TypeProto[];
  refAttrName?: string;
  docString?: string;
  unknown?: UnknownFields;
}

export type AttributeInput = number | number[] | string | string[] | Tensor | Graph | Attribute;

const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();

export interface NodeInit {
  opType: string;
  domain?: string;
  name?: string;
  inputs?: (Value | null)[];
  /** Output values (fresh, unproduced) or the number of outputs to create with generated names. */
  outputs?: Value[];
  attributes?: Attribute[];
  docString?: string;
}

export class Node {
  opType: string;
  domain: string;
  name: string;
  overload: string | undefined;
  docString: string | undefined;
  metadataProps: StringStringEntryProto[] | undefined;
  unknown: UnknownFields | undefined;
  readonly attributes = new Map<string, Attribute>();
  /** The graph this node belongs to, set by Graph.append/insert. */
  graph: Graph | null = null;
  private readonly _inputs: (Value | null)[] = [];
  private readonly _outputs: Value[] = [];
  /** False after detach(): a removed node records no uses until it is inserted again. */
  private _linked = true;

  constructor(init: NodeInit) {
    this.opType = init.opType;
    this.domain = init.domain ?? '';
    this.name = init.name ?? '';
    this.docString = init.docString;
    for (const v of init.inputs ?? []) this.appendInput(v);
    for (const v of init.outputs ?? []) this.appendOutput(v);
    for (const a of init.attributes ?? []) this.attributes.set(a.name, a);
  }

  get inputs(): readonly (Value | null)[] {
    return this._inputs;
  }
  get outputs(): readonly Value[] {
    return this._outputs;
  }
  input(i: number): Value | null {
    return this._inputs[i] ?? null;
  }
  output(i: number): Value {
    const v = this._outputs[i];
    if (!v) throw new Error(`node ${this.describe()} has no output ${i}`);
    return v;
  }

  /** Human-readable identity for messages: `Conv "conv1"`. */
  describe(): string {
    return `${this.domain && this.domain !== 'ai.onnx' ? this.domain + '.' : ''}${this.opType} "${this.name || this._outputs[0]?.name || '?'}"`;
  }

  setInput(i: number, v: Value | null): void {
    if (i < 0 || i >= this._inputs.length) throw new Error(`${this.describe()}: input index ${i} out of range`);
    if (this._linked) this._inputs[i]?._removeUse(this, i);
    this._inputs[i] = v;
    if (this._linked) v?._addUse(this, i);
  }
  appendInput(v: Value | null): void {
    this._inputs.push(v);
    if (this._linked) v?._addUse(this, this._inputs.length - 1);
  }
  /** Drops trailing inputs from index `n` on. */
  truncateInputs(n: number): void {
    while (this._inputs.length > n) {
      const i = this._inputs.length - 1;
      if (this._linked) this._inputs[i]?._removeUse(this, i);
      this._inputs.pop();
    }
  }
  appendOutput(v: Value): void {
    if (v.producer()) throw new Error(`value "${v.name}" is already produced by ${v.producer()!.describe()}`);
    if (this._linked) v._setProducer(this, this._outputs.length);
    this._outputs.push(v);
  }
  /** Unlinks this node from its inputs (its outputs keep their identity but lose the producer). */
  detach(): void {
    if (!this._linked) return;
    this._inputs.forEach((v, i) => v?._removeUse(this, i));
    this._outputs.forEach((v) => v._setProducer(null, -1));
    this._linked = false;
  }
  /** @internal Graph calls this when a detached node is inserted again: relinks inputs and outputs. */
  _attach(): void {
    if (this._linked) return;
    for (const v of this._outputs) {
      const p = v.producer();
      if (p) throw new Error(`cannot insert ${this.describe()}: its output "${v.name}" is now produced by ${p.describe()}`);
    }
    this._inputs.forEach((v, i) => v?._addUse(this, i));
    this._outputs.forEach((v, i) => v._setProducer(this, i));
    this._linked = true;
  }

  // ---- attributes -----------------------------------------------------------
  attr(name: string): Attribute | undefined {
    return this.attributes.get(name);
  }
  getInt(name: string, fallback: number): number;
  getInt(name: string): number | undefined;
  getInt(name: string, fallback?: number): number | undefined {
    return this.attributes.get(name)?.i ?? fallback;
  }
  getFloat(name: string, fallback: number): number;
  getFloat(name: string): number | undefined;
  getFloat(name: string, fallback?: number): number | undefined {
    return this.attributes.get(name)?.f ?? fallback;
  }
  getInts(name: string): number[] | undefined {
    return this.attributes.get(name)?.ints;
  }
  getString(name: string, fallback: string): string;
  getString(name: string): string | undefined;
  getString(name: string, fallback?: string): string | undefined {
    const s = this.attributes.get(name)?.s;
    return s ? utf8.decode(s) : fallback;
  }
  getTensor(name: string): Tensor | undefined {
    return this.attributes.get(name)?.t;
  }
  /** Sets an attribute, inferring its type from the JS value (integers in arrays → INTS). */
  setAttr(name: string, value: AttributeInput, kind?: 'float' | 'floats'): void {
    this.attributes.set(name, makeAttribute(name, value, kind));
  }
  /** Subgraphs held by this node's attributes. */
  subgraphs(): Graph[] {
    const out: Graph[] = [];
    for (const a of this.attributes.values()) {
      if (a.g) out.push(a.g);
      if (a.graphs) out.push(...a.graphs);
    }
    return out;
  }
}

/** Builds an Attribute from a JS value. Numbers are INT when integral unless `kind` says float. */
export function makeAttribute(name: string, value: AttributeInput, kind?: 'float' | 'floats'): Attribute {
  if (value instanceof Graph) return { name, type: AttributeType.GRAPH, g: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: utf8enc.encode(value) };
  if (typeof value === 'number') {
    if (kind === 'float' || !Number.isInteger(value)) return { name, type: AttributeType.FLOAT, f: value };
    return { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'string'))
      return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((x) => utf8enc.encode(x)) };
    const nums = value as number[];
    if (kind === 'floats' || nums.some((x) => !Number.isInteger(x))) return { name, type: AttributeType.FLOATS, floats: nums };
    return { name, type: AttributeType.INTS, ints: nums };
  }
  if ('type' in value && 'name' in value && !('dims' in value)) return { ...(value as Attribute), name };
  return { name, type: AttributeType.TENSOR, t: value as Tensor };
}

export interface RemoveOptions {
  /** Refuse to remove a node whose outputs are still used or are graph outputs. Default true. */
  safe?: boolean;
}

export class Graph {
  name: string;
  docString: string | undefined;
  metadataProps: StringStringEntryProto[] | undefined;
  sparseInitializers: SparseTensorProto[] = [];
  quantizationAnnotation: TensorAnnotation[] = [];
  unknown: UnknownFields | undefined;
  /** value_info entries whose names match no value of the graph; kept so that load→save is lossless. */
  danglingValueInfo: Value[] = [];
  /**
   * Values that nodes or outputs of this graph name but nothing defines (an invalid model, or a
   * sparse initializer's name); they have no producer. Kept so that such a model saves as loaded.
   */
  unresolved: Value[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  /** Initializers in file order, by name. */
  readonly initializers = new Map<string, Value>();
  /** The node that owns this graph through an attribute; null for the main graph. */
  parentNode: Node | null = null;
  private readonly _nodes: Node[] = [];
  private _nameCounter = 0;

  constructor(name = 'main') {
    this.name = name;
  }

  get nodes(): readonly Node[] {
    return this._nodes;
  }

  /** The graph enclosing this one (for subgraphs). */
  parentGraph(): Graph | null {
    return this.parentNode?.graph ?? null;
  }

  append(node: Node): Node {
    return this.insertAt(this._nodes.length, node);
  }
  insertBefore(anchor: Node, node: Node): Node {
    return this.insertAt(this.indexOf(anchor), node);
  }
  insertAfter(anchor: Node, node: Node): Node {
    return this.insertAt(this.indexOf(anchor) + 1, node);
  }
  private insertAt(i: number, node: Node): Node {
    if (node.graph) throw new Error(`${node.describe()} already belongs to graph "${node.graph.name}"`);
    node._attach();
    node.graph = this;
    for (const g of node.subgraphs()) g.parentNode = node;
    this._nodes.splice(i, 0, node);
    return node;
  }
  private indexOf(node: Node): number {
    const i = this._nodes.indexOf(node);
    if (i < 0) throw new Error(`${node.describe()} is not in graph "${this.name}"`);
    return i;
  }

  /**
   * Removes a node and unlinks it from its inputs. With `safe` (the default) it refuses while any
   * output is still used or is a graph output.
   */
  remove(node: Node, { safe = true }: RemoveOptions = {}): void {
    const i = this.indexOf(node);
    if (safe) {
      for (const v of node.outputs) {
        if (v.isUsed()) throw new Error(`cannot remove ${node.describe()}: output "${v.name}" is still used by ${v.uses()[0]!.node.describe()}`);
        if (this.outputs.includes(v)) throw new Error(`cannot remove ${node.describe()}: output "${v.name}" is a graph output`);
      }
    }
    this._nodes.splice(i, 1);
    node.detach();
    node.graph = null;
  }

  /**
   * Replaces `old` by `other` in this graph: every use, and a graph-output slot, where `other`
   * takes over the output's name and declared type so that the model's interface is unchanged.
   * `old`'s producer stays in place (remove it afterwards).
   */
  replaceValue(old: Value, other: Value): void {
    old.replaceAllUsesWith(other);
    const i = this.outputs.indexOf(old);
    if (i < 0) return;
    this.outputs[i] = other;
    other.name = old.name;
    other.type = old.type ?? other.type;
  }

  addInput(v: Value): Value {
    this.inputs.push(v);
    return v;
  }
  /** Adds (or replaces) a constant initializer and returns its value. */
  addInitializer(tensor: Tensor, name = tensor.name): Value {
    const existing = this.initializers.get(name);
    const v = existing ?? new Value(name);
    v.initializer = tensor;
    tensor.name = name;
    this.initializers.set(name, v);
    return v;
  }
  removeInitializer(name: string): void {
    const v = this.initializers.get(name);
    if (!v) return;
    if (v.isUsed()) throw new Error(`cannot remove initializer "${name}": still used by ${v.uses()[0]!.node.describe()}`);
    this.initializers.delete(name);
    const i = this.inputs.indexOf(v);
    if (i >= 0) this.inputs.splice(i, 1);
  }

  /** A name not used by any value in this graph or its ancestors: `prefix`, `prefix_1`, … */
  uniqueName(prefix: string): string {
    const taken = this.allNames();
    if (!taken.has(prefix)) return prefix;
    for (;;) {
      const name = `${prefix}_${++this._nameCounter}`;
      if (!taken.has(name)) return name;
    }
  }
  private allNames(): Set<string> {
    const names = new Set<string>();
    let g: Graph | null = this;
    while (g) {
      for (const v of g.values()) names.add(v.name);
      for (const v of g.unresolved) names.add(v.name);
      g = g.parentGraph();
    }
    return names;
  }

  /** Every value defined in this graph: inputs, initializers, node outputs (not subgraph values). */
  *values(): Generator<Value> {
    const seen = new Set<Value>();
    for (const v of this.inputs) if (!seen.has(v)) (seen.add(v), yield v);
    for (const v of this.initializers.values()) if (!seen.has(v)) (seen.add(v), yield v);
    for (const n of this._nodes) for (const v of n.outputs) if (!seen.has(v)) (seen.add(v), yield v);
  }
  /** Looks a value up by name, in this graph then in enclosing graphs. */
  findValue(name: string): Value | undefined {
    for (const v of this.values()) if (v.name === name) return v;
    return this.parentGraph()?.findValue(name);
  }
  /** Nodes of this graph and, recursively, of all its subgraphs. */
  *allNodes(): Generator<Node> {
    for (const n of this._nodes) {
      yield n;
      for (const g of n.subgraphs()) yield* g.allNodes();
    }
  }

  /**
   * Reorders nodes topologically (Kahn's algorithm, stable: among ready nodes the earliest in the
   * current order goes first). A node depends on the producers of its inputs and on the producers
   * of outer values its subgraphs use. Throws on a cycle.
   */
  sortTopologically(): void {
    const order = this._nodes;
    const pos = new Map(order.map((n, i) => [n, i] as const));
    const deps = new Map<Node, Set<Node>>();
    const dependents = new Map<Node, Node[]>();
    for (const n of order) {
      const d = new Set<Node>();
      for (const v of externalInputs(n)) {
        const p = v.producer();
        if (p && p !== n && pos.has(p)) d.add(p);
      }
      deps.set(n, d);
      for (const p of d) (dependents.get(p) ?? dependents.set(p, []).get(p)!).push(n);
    }
    const ready = order.filter((n) => deps.get(n)!.size === 0);
    const result: Node[] = [];
    while (ready.length) {
      ready.sort((a, b) => pos.get(a)! - pos.get(b)!);
      const n = ready.shift()!;
      result.push(n);
      for (const m of dependents.get(n) ?? []) {
        const d = deps.get(m)!;
        d.delete(n);
        if (d.size === 0) ready.push(m);
      }
    }
    if (result.length !== order.length) {
      const stuck = order.find((n) => !result.includes(n))!;
      throw new LitheError('E_BAD_MODEL', `graph "${this.name}" has a cycle through ${stuck.describe()}`);
    }
    order.splice(0, order.length, ...result);
  }
}

/** Values a node reads: its inputs plus outer values used inside its subgraphs. */
export function externalInputs(node: Node): Set<Value> {
  const out = new Set<Value>();
  for (const v of node.inputs) if (v) out.add(v);
  for (const g of node.subgraphs()) {
    const inner = new Set<Value>(g.values());
    for (const m of g.allNodes()) {
      for (const v of m.inputs) if (v && !inner.has(v) && !isDefinedInside(v, g)) out.add(v);
    }
  }
  return out;
}

function isDefinedInside(v: Value, g: Graph): boolean {
  const p = v.producer();
  let owner: Graph | null = p ? p.graph : null;
  while (owner) {
    if (owner === g) return true;
    owner = owner.parentGraph();
  }
  return false;
}

export class Model {
  irVersion: number;
  /** Opset version by domain; '' is the default ONNX domain. Insertion order is kept. */
  readonly opsetImports = new Map<string, number>();
  producerName: string | undefined;
  producerVersion: string | undefined;
  domain: string | undefined;
  modelVersion: number | undefined;
  docString: string | undefined;
  metadataProps: StringStringEntryProto[] = [];
  /** Model-local functions, kept verbatim. */
  functions: FunctionProto[] = [];
  trainingInfo: Uint8Array[] | undefined;
  configuration: Uint8Array[] | undefined;
  unknown: UnknownFields | undefined;
  graph: Graph;

  constructor(graph: Graph, opts: { irVersion?: number; opset?: number; producerName?: string } = {}) {
    this.graph = graph;
    this.irVersion = opts.irVersion ?? 8;
    this.opsetImports.set('', opts.opset ?? 17);
    this.producerName = opts.producerName ?? 'lithe';
  }

  /** The opset version of `domain` ('' or 'ai.onnx' for the default domain). */
  opset(domain = ''): number | undefined {
    return this.opsetImports.get(domain === 'ai.onnx' ? '' : domain) ?? (domain === '' ? this.opsetImports.get('ai.onnx') : undefined);
  }
}
