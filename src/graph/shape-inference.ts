/**
 * Shape inference: walks a graph in topological order and applies the per-op rules of
 * `shape-rules.ts` to give every node output a dtype and (possibly symbolic) shape.
 *
 * - `computeShapes(model)` is pure: it returns a Value → TypeInfo map and leaves the model alone
 *   (profilers use it with the batch dimension bound to a number).
 * - `inferShapes(model)` writes the result into `Value.type` of node outputs.
 * - `inferNode(node, opset)` types one node from its inputs' current types (the builder calls it
 *   for every node it emits).
 *
 * Merging: an inferred dim wins over a declared one, except that a declared dim fills a dim the
 * rule could not tell (null). Constant shape inputs come from initializers, Constant nodes, or
 * small int expressions (Shape of a static shape, Gather/Concat/Unsqueeze/Squeeze/Cast on them),
 * evaluated on demand from the graph, so nothing can drift from it.
 * Subgraphs (If/Loop bodies) and non-ONNX domains are not inferred: their outputs stay as declared.
 */
import { DataType } from '../onnx/proto.js';
import type { Dim, Graph, Model, Node, Value } from './ir.js';
import { externalInputs } from './ir.js';
import { SHAPE_RULES, type InferContext, type TypeInfo } from './shape-rules.js';
import { isStatic } from './dims.js';

export type { TypeInfo } from './shape-rules.js';

type TypeOf = (v: Value) => TypeInfo | undefined;

/** The declared type of a value (initializer dims, or its TypeProto). */
export function declaredType(v: Value): TypeInfo | undefined {
  const dt = v.dtype;
  return dt === undefined ? undefined : { dtype: dt, shape: v.shape };
}

/** Types the outputs of one node from its inputs' types; undefined entries are unknown. */
export function inferNodeTypes(node: Node, opset: number, typeOf: TypeOf = declaredType): (TypeInfo | undefined)[] {
  const rule = node.domain === '' || node.domain === 'ai.onnx' ? SHAPE_RULES[node.opType] : undefined;
  if (!rule) return node.outputs.map(() => undefined);
  const ctx: InferContext = {
    node,
    opset,
    type: (i) => {
      const v = node.input(i);
      return v ? typeOf(v) : undefined;
    },
    ints: (i) => {
      const v = node.input(i);
      return v ? constantInts(v, typeOf) : undefined;
    },
    has: (i) => !!node.input(i),
  };
  return rule(ctx);
}

/** Types a node's outputs in place (merging with what they declare). */
export function inferNode(node: Node, opset: number): void {
  inferNodeTypes(node, opset).forEach((t, i) => {
    const v = node.outputs[i];
    const merged = v && mergeTypes(t, declaredType(v));
    if (v && merged) v.setTensorType(merged.dtype, merged.shape);
  });
}

export interface ComputeShapesOptions {
  /** Replaces the declared shapes of graph inputs (e.g. to bind the batch dim). */
  inputShapes?: ReadonlyMap<Value, readonly Dim[]>;
}

/** Infers types for every value of the main graph without modifying the model. */
export function computeShapes(model: Model, opts: ComputeShapesOptions = {}): Map<Value, TypeInfo> {
  const graph = model.graph;
  const opset = model.opset('') ?? 17;
  const types = new Map<Value, TypeInfo>();
  for (const v of graph.values()) {
    if (v.producer()) continue;
    const t = declaredType(v);
    const bound = opts.inputShapes?.get(v);
    if (t) types.set(v, bound ? { dtype: t.dtype, shape: [...bound] } : t);
  }
  const typeOf: TypeOf = (v) => types.get(v) ?? declaredType(v);
  for (const node of topologicalOrder(graph)) {
    inferNodeTypes(node, opset, typeOf).forEach((t, i) => {
      const v = node.outputs[i];
      const merged = v && mergeTypes(t, declaredType(v));
      if (v && merged) types.set(v, merged);
    });
  }
  return types;
}

export interface InferShapesResult {
  /** Node outputs that now have a dtype and a shape of known rank. */
  typed: number;
  /** Nodes with at least one output whose shape is still unknown. */
  untyped: Node[];
}

/** Infers types for the main graph and stores them in `Value.type` of node outputs. */
export function inferShapes(model: Model): InferShapesResult {
  const types = computeShapes(model);
  let typed = 0;
  const untyped = new Set<Node>();
  for (const node of model.graph.nodes) {
    for (const v of node.outputs) {
      const t = types.get(v);
      if (t) v.setTensorType(t.dtype, t.shape);
      if (t?.shape) typed++;
      else if (v.name !== '') untyped.add(node);
    }
  }
  return { typed, untyped: [...untyped] };
}

/** Inferred type, with declared dims filling the dims inference could not tell. */
export function mergeTypes(inferred: TypeInfo | undefined, declared: TypeInfo | undefined): TypeInfo | undefined {
  if (!inferred) return declared;
  if (!declared?.shape || !inferred.shape || declared.shape.length !== inferred.shape.length) {
    return { dtype: inferred.dtype, shape: inferred.shape ?? declared?.shape };
  }
  const ds = declared.shape;
  return { dtype: inferred.dtype, shape: inferred.shape.map((d, i) => (d === null ? ds[i]! : d)) };
}

/** Nodes of `graph` in a topological order, without reordering the graph (iterative DFS). */
export function topologicalOrder(graph: Graph): Node[] {
  const inGraph = new Set(graph.nodes);
  const done = new Set<Node>();
  const order: Node[] = [];
  for (const root of graph.nodes) {
    if (done.has(root)) continue;
    const stack: { node: Node; deps: Node[] }[] = [];
    const push = (n: Node) => {
      done.add(n); // marked on entry so that a cycle cannot loop forever
      const deps = [...externalInputs(n)].map((v) => v.producer()).filter((p): p is Node => !!p && inGraph.has(p) && !done.has(p));
      stack.push({ node: n, deps });
    };
    push(root);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const next = top.deps.pop();
      if (next && !done.has(next)) push(next);
      else if (!next) order.push(stack.pop()!.node);
    }
  }
  return order;
}

// ---- constant int evaluation ------------------------------------------------------------------

const MAX_DEPTH = 16;

/** Tensor elements as numbers, int64 clamped to ±2^53 (Slice ends are often INT64_MAX). */
function tensorNumbers(t: import('./tensor.js').Tensor): number[] | undefined {
  if (t.size > 1024) return undefined; // shape tensors are small; skip weights
  try {
    const a = t.toArray();
    return Array.from(a as ArrayLike<number | bigint>, (x) =>
      typeof x === 'bigint' ? Number(x > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : x < -BigInt(Number.MAX_SAFE_INTEGER) ? -Number.MAX_SAFE_INTEGER : x) : x,
    );
  } catch {
    return undefined;
  }
}

/** The constant elements of `v` when the graph determines them (small int/float tensors only). */
export function constantInts(v: Value, typeOf: TypeOf = declaredType, depth = 0): number[] | undefined {
  if (v.initializer) return tensorNumbers(v.initializer);
  const n = v.producer();
  if (!n || depth > MAX_DEPTH || (n.domain !== '' && n.domain !== 'ai.onnx')) return undefined;
  const arg = (i: number) => {
    const x = n.input(i);
    return x ? constantInts(x, typeOf, depth + 1) : undefined;
  };
  switch (n.opType) {
    case 'Constant': {
      const t = n.getTensor('value');
      if (t) return tensorNumbers(t);
      const a = n.attr('value_int') ?? n.attr('value_float');
      if (a) return [a.i ?? a.f ?? 0];
      return n.getInts('value_ints') ?? n.attr('value_floats')?.floats;
    }
    case 'Shape': {
      const x = n.input(0);
      const s = x ? typeOf(x)?.shape : undefined;
      if (!s) return undefined;
      const r = s.length;
      const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
      const part = s.slice(clamp(n.getInt('start', 0)), clamp(n.getInt('end', r)));
      return isStatic(part) ? part : undefined;
    }
    case 'Identity':
    case 'Cast':
      return arg(0);
    case 'Concat': {
      const parts = n.inputs.map((_, i) => arg(i));
      return parts.every((p) => p) ? parts.flatMap((p) => p!) : undefined;
    }
    case 'Unsqueeze':
    case 'Squeeze':
      return arg(0); // the elements are unchanged; only the rank moves
    case 'Gather': {
      const [data, idx] = [arg(0), arg(1)];
      const x0 = n.input(0);
      const rank = x0 ? typeOf(x0)?.shape?.length : undefined;
      if (!data || !idx || rank !== 1) return undefined; // only 1-D data: its elements are its rows
      const out = idx.map((i) => data[i < 0 ? i + data.length : i]);
      return out.every((x) => x !== undefined) ? (out as number[]) : undefined;
    }
    default:
      return undefined;
  }
}

/** Convenience for callers that need the dtype of a value's constant (e.g. to pick int vs float). */
export function isIntegerType(dt: DataType | undefined): boolean {
  return dt === DataType.INT64 || dt === DataType.INT32 || dt === DataType.INT8 || dt === DataType.UINT8 || dt === DataType.INT16 || dt === DataType.UINT16;
}
