/**
 * GraphBuilder: writes ONNX graphs in code.
 *
 *   const g = new GraphBuilder();                     // opset 17 unless told otherwise
 *   const x = g.input('input', DataType.FLOAT, ['N', 1, 28, 28]);
 *   const w = g.initializer('conv1.weight', weights, [16, 1, 3, 3]);
 *   const y = g.Relu(g.Conv(x, w, b, { pads: [1, 1, 1, 1] }));
 *   g.output(y, 'logits');
 *   const model = g.model();
 *
 * Every call appends one node (or inserts it before `insertBefore(anchor)`), gives it a unique
 * name (`Conv_0`, or `scope.name` under `g.scope('features.0', …)`) and runs shape inference for
 * it, so every value carries dtype and shape. `g.op()` emits any op; the named methods know
 * which opset turned which attribute into an input (Squeeze/Unsqueeze/ReduceSum/Split axes at 13,
 * ReduceMean/Max/Min axes at 18, Clip min/max and Pad pads at 11, Slice starts/ends at 10).
 */
import { LitheError } from '../errors.js';
import { DataType } from '../onnx/proto.js';
import { Graph, Model, Node, Value, makeAttribute, type Attribute, type AttributeInput, type Dim } from './ir.js';
import { inferNode } from './shape-inference.js';
import { Tensor } from './tensor.js';

export type Attrs = Record<string, AttributeInput | undefined>;
export interface Named {
  /** Node name; made unique and prefixed with the current scope. */
  name?: string;
}
export interface OpOptions extends Named {
  domain?: string;
  /** Number of outputs (default 1). */
  outputs?: number;
}
type Shape = Value | readonly number[];

/** Attribute names that ONNX types as FLOAT(S) even when the JS number is integral. */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'ratio', 'bias', 'lambd', 'value_float', 'spatial_scale', 'extrapolation_value', 'cubic_coeff_a', 'seed', 'value', 'min', 'max']);
const FLOATS_ATTRS = new Set(['value_floats', 'scales']);

export interface ConvAttrs extends Named {
  kernel_shape?: number[];
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  group?: number;
  auto_pad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
}
export interface ConvTransposeAttrs extends ConvAttrs {
  output_padding?: number[];
  output_shape?: number[];
}
export interface PoolAttrs extends Named {
  kernel_shape: number[];
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  ceil_mode?: 0 | 1;
  count_include_pad?: 0 | 1;
  auto_pad?: ConvAttrs['auto_pad'];
}
export interface ReduceAttrs extends Named {
  keepdims?: 0 | 1;
  noop_with_empty_axes?: 0 | 1;
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly opset: number;
  private readonly valueNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly scopes: string[] = [];
  private readonly constants = new Map<string, Value>();
  private anchor: Node | null = null;

  constructor(opts: { graph?: Graph; opset?: number } = {}) {
    this.graph = opts.graph ?? new Graph('main');
    this.opset = opts.opset ?? 17;
    for (const v of this.graph.values()) this.valueNames.add(v.name);
    for (const n of this.graph.nodes) this.nodeNames.add(n.name);
  }

  /** A builder that edits an existing model's main graph at the model's opset. */
  static edit(model: Model): GraphBuilder {
    return new GraphBuilder({ graph: model.graph, opset: model.opset('') ?? 17 });
  }

  /** Wraps the graph in a Model with this builder's opset. */
  model(opts: { irVersion?: number; producerName?: string } = {}): Model {
    return new Model(this.graph, { ...opts, opset: this.opset });
  }

  /** New nodes go before `anchor` (null: append at the end). */
  insertBefore(anchor: Node | null): void {
    this.anchor = anchor;
  }

  /** Runs `fn` with names prefixed by `name.` (nested scopes join with '.'). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private scoped(name: string): string {
    return [...this.scopes, name].join('.');
  }
  private unique(taken: Set<string>, base: string): string {
    let name = base;
    let k = this.counters.get(base) ?? 0;
    while (taken.has(name)) name = `${base}_${++k}`;
    this.counters.set(base, k);
    taken.add(name);
    return name;
  }
  private claimExact(name: string): string {
    if (this.valueNames.has(name)) throw new LitheError('E_USAGE', `graph "${this.graph.name}" already has a value named "${name}"`);
    this.valueNames.add(name);
    return name;
  }

  // ---- graph inputs, outputs, constants ------------------------------------------------------

  input(name: string, dtype: DataType, shape: readonly Dim[]): Value {
    const v = new Value(this.claimExact(name));
    v.setTensorType(dtype, shape);
    return this.graph.addInput(v);
  }

  /** Marks `v` as a graph output, renaming it to `name` (through an Identity when v is an input or constant). */
  output(v: Value, name?: string): Value {
    let out = v;
    if (name !== undefined && v.name !== name) {
      if (!v.producer()) out = this.op('Identity', [v], {}, { name });
      this.valueNames.delete(out.name);
      out.name = this.claimExact(name);
    }
    this.graph.outputs.push(out);
    return out;
  }

  /** A constant initializer named `name` (scoped). Float32Array/number[] data need `dims`. */
  initializer(name: string, data: Tensor | Float32Array | readonly number[], dims?: readonly number[]): Value {
    const full = this.claimExact(this.scoped(name));
    const t = data instanceof Tensor ? data : Tensor.fromArray(DataType.FLOAT, [...(dims ?? [data.length])], data as ArrayLike<number>);
    return this.graph.addInitializer(t, full);
  }

  /** An int64 1-D initializer (shapes, axes, pads), shared when the same values recur. */
  ints(values: readonly number[]): Value {
    return this.cached(`i64:[${values.join(',')}]`, () => Tensor.fromArray(DataType.INT64, [values.length], values));
  }
  /** A 0-D initializer of `dtype`, shared when the same value recurs. */
  scalar(value: number, dtype: DataType = DataType.FLOAT): Value {
    return this.cached(`${dtype}:${value}`, () => Tensor.scalar(dtype, value));
  }
  zero(dtype: DataType = DataType.FLOAT): Value {
    return this.scalar(0, dtype);
  }
  one(dtype: DataType = DataType.FLOAT): Value {
    return this.scalar(1, dtype);
  }
  private cached(key: string, make: () => Tensor): Value {
    const hit = this.constants.get(key);
    if (hit && this.graph.initializers.get(hit.name) === hit) return hit;
    const v = this.graph.addInitializer(make(), this.unique(this.valueNames, 'const'));
    this.constants.set(key, v);
    return v;
  }
  private shapeInput(s: Shape): Value {
    return s instanceof Value ? s : this.ints(s);
  }

  // ---- the generic emitter -------------------------------------------------------------------

  /** Emits any op. Inputs may be null for skipped optional inputs; undefined attrs are omitted. */
  op(opType: string, inputs: readonly (Value | null | undefined)[], attrs?: Attrs, opts?: OpOptions & { outputs?: 1 }): Value;
  op(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Attrs, opts: OpOptions & { outputs: number }): Value[];
  op(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Attrs = {}, opts: OpOptions = {}): Value | Value[] {
    const name = this.unique(this.nodeNames, this.scoped(opts.name ?? opType));
    const count = opts.outputs ?? 1;
    const outputs = Array.from({ length: count }, (_, i) => new Value(this.unique(this.valueNames, count === 1 ? name : `${name}_${i}`)));
    // Trailing missing inputs are dropped; inner ones stay as empty names per ONNX.
    const ins = inputs.map((v) => v ?? null);
    while (ins.length && ins[ins.length - 1] === null) ins.pop();
    const attributes: Attribute[] = [];
    for (const [k, a] of Object.entries(attrs)) {
      if (a === undefined) continue;
      attributes.push(makeAttribute(k, a, FLOAT_ATTRS.has(k) ? 'float' : FLOATS_ATTRS.has(k) ? 'floats' : undefined));
    }
    const node = new Node({ opType, domain: opts.domain ?? '', name, inputs: ins, outputs, attributes });
    if (this.anchor) this.graph.insertBefore(this.anchor, node);
    else this.graph.append(node);
    inferNode(node, this.opset);
    return opts.outputs === undefined || opts.outputs === 1 ? outputs[0]! : outputs;
  }

  private op1(opType: string, inputs: readonly (Value | null | undefined)[], attrs: Attrs & Named = {}): Value {
    const { name, ...rest } = attrs;
    return this.op(opType, inputs, rest as Attrs, { name: name as string | undefined });
  }

  // ---- convolution, pooling, linear algebra ------------------------------------------------

  Conv(x: Value, w: Value, b?: Value | null, attrs: ConvAttrs = {}): Value {
    return this.op1('Conv', [x, w, b], { ...attrs });
  }
  ConvTranspose(x: Value, w: Value, b?: Value | null, attrs: ConvTransposeAttrs = {}): Value {
    return this.op1('ConvTranspose', [x, w, b], { ...attrs });
  }
  Gemm(a: Value, b: Value, c?: Value | null, attrs: Named & { alpha?: number; beta?: number; transA?: 0 | 1; transB?: 0 | 1 } = {}): Value {
    return this.op1('Gemm', [a, b, c], { ...attrs });
  }
  MatMul(a: Value, b: Value, o: Named = {}): Value {
    return this.op1('MatMul', [a, b], { ...o });
  }
  MaxPool(x: Value, attrs: PoolAttrs): Value {
    return this.op1('MaxPool', [x], { ...attrs });
  }
  AveragePool(x: Value, attrs: PoolAttrs): Value {
    return this.op1('AveragePool', [x], { ...attrs });
  }
  GlobalAveragePool(x: Value, o: Named = {}): Value {
    return this.op1('GlobalAveragePool', [x], { ...o });
  }
  GlobalMaxPool(x: Value, o: Named = {}): Value {
    return this.op1('GlobalMaxPool', [x], { ...o });
  }

  // ---- elementwise -----------------------------------------------------------------------------

  Add(a: Value, b: Value, o: Named = {}): Value { return this.op1('Add', [a, b], { ...o }); }
  Sub(a: Value, b: Value, o: Named = {}): Value { return this.op1('Sub', [a, b], { ...o }); }
  Mul(a: Value, b: Value, o: Named = {}): Value { return this.op1('Mul', [a, b], { ...o }); }
  Div(a: Value, b: Value, o: Named = {}): Value { return this.op1('Div', [a, b], { ...o }); }
  Pow(a: Value, b: Value, o: Named = {}): Value { return this.op1('Pow', [a, b], { ...o }); }
  Max(xs: Value[], o: Named = {}): Value { return this.op1('Max', xs, { ...o }); }
  Min(xs: Value[], o: Named = {}): Value { return this.op1('Min', xs, { ...o }); }
  Sum(xs: Value[], o: Named = {}): Value { return this.op1('Sum', xs, { ...o }); }
  Sqrt(x: Value, o: Named = {}): Value { return this.op1('Sqrt', [x], { ...o }); }
  Neg(x: Value, o: Named = {}): Value { return this.op1('Neg', [x], { ...o }); }
  Abs(x: Value, o: Named = {}): Value { return this.op1('Abs', [x], { ...o }); }
  Exp(x: Value, o: Named = {}): Value { return this.op1('Exp', [x], { ...o }); }
  Log(x: Value, o: Named = {}): Value { return this.op1('Log', [x], { ...o }); }
  Reciprocal(x: Value, o: Named = {}): Value { return this.op1('Reciprocal', [x], { ...o }); }
  Sign(x: Value, o: Named = {}): Value { return this.op1('Sign', [x], { ...o }); }
  Relu(x: Value, o: Named = {}): Value { return this.op1('Relu', [x], { ...o }); }
  Sigmoid(x: Value, o: Named = {}): Value { return this.op1('Sigmoid', [x], { ...o }); }
  Tanh(x: Value, o: Named = {}): Value { return this.op1('Tanh', [x], { ...o }); }
  Erf(x: Value, o: Named = {}): Value { return this.op1('Erf', [x], { ...o }); }
  HardSwish(x: Value, o: Named = {}): Value { return this.op1('HardSwish', [x], { ...o }); }
  Not(x: Value, o: Named = {}): Value { return this.op1('Not', [x], { ...o }); }
  LeakyRelu(x: Value, attrs: Named & { alpha?: number } = {}): Value { return this.op1('LeakyRelu', [x], { ...attrs }); }
  HardSigmoid(x: Value, attrs: Named & { alpha?: number; beta?: number } = {}): Value { return this.op1('HardSigmoid', [x], { ...attrs }); }
  Equal(a: Value, b: Value, o: Named = {}): Value { return this.op1('Equal', [a, b], { ...o }); }
  Greater(a: Value, b: Value, o: Named = {}): Value { return this.op1('Greater', [a, b], { ...o }); }
  Less(a: Value, b: Value, o: Named = {}): Value { return this.op1('Less', [a, b], { ...o }); }
  Where(cond: Value, a: Value, b: Value, o: Named = {}): Value { return this.op1('Where', [cond, a, b], { ...o }); }

  /** Clip to [min, max]; numbers become scalar constants of x's dtype (inputs since opset 11). */
  Clip(x: Value, min?: Value | number | null, max?: Value | number | null, o: Named = {}): Value {
    const dt = x.dtype ?? DataType.FLOAT;
    const bound = (b: Value | number | null | undefined) => (typeof b === 'number' ? this.scalar(b, dt) : b);
    if (this.opset < 11) return this.op1('Clip', [x], { ...o, min: min as number | undefined, max: max as number | undefined });
    return this.op1('Clip', [x, bound(min), bound(max)], { ...o });
  }

  // ---- normalisation, activation with axes -------------------------------------------------

  Softmax(x: Value, attrs: Named & { axis?: number } = {}): Value { return this.op1('Softmax', [x], { ...attrs }); }
  LogSoftmax(x: Value, attrs: Named & { axis?: number } = {}): Value { return this.op1('LogSoftmax', [x], { ...attrs }); }
  BatchNormalization(x: Value, scale: Value, bias: Value, mean: Value, variance: Value, attrs: Named & { epsilon?: number; momentum?: number } = {}): Value {
    return this.op1('BatchNormalization', [x, scale, bias, mean, variance], { ...attrs });
  }
  LayerNormalization(x: Value, scale: Value, bias?: Value | null, attrs: Named & { axis?: number; epsilon?: number } = {}): Value {
    return this.op1('LayerNormalization', [x, scale, bias], { ...attrs });
  }
  /** Inference-mode Dropout (an identity in ORT); `ratio` becomes an input since opset 12. */
  Dropout(x: Value, attrs: Named & { ratio?: number } = {}): Value {
    const { ratio, ...rest } = attrs;
    if (this.opset < 12) return this.op1('Dropout', [x], { ...rest, ratio });
    return this.op1('Dropout', [x, ratio === undefined ? null : this.scalar(ratio, x.dtype ?? DataType.FLOAT)], { ...rest });
  }

  // ---- shape manipulation ----------------------------------------------------------------------

  Flatten(x: Value, attrs: Named & { axis?: number } = {}): Value { return this.op1('Flatten', [x], { ...attrs }); }
  Reshape(x: Value, shape: Shape, attrs: Named & { allowzero?: 0 | 1 } = {}): Value {
    return this.op1('Reshape', [x, this.shapeInput(shape)], { ...attrs });
  }
  Transpose(x: Value, perm?: number[], o: Named = {}): Value { return this.op1('Transpose', [x], { ...o, perm }); }
  Squeeze(x: Value, axes?: number[], o: Named = {}): Value { return this.axesOp('Squeeze', x, axes, 13, { ...o }); }
  Unsqueeze(x: Value, axes: number[], o: Named = {}): Value { return this.axesOp('Unsqueeze', x, axes, 13, { ...o }); }
  Concat(xs: Value[], axis: number, o: Named = {}): Value { return this.op1('Concat', xs, { ...o, axis }); }
  Expand(x: Value, shape: Shape, o: Named = {}): Value { return this.op1('Expand', [x, this.shapeInput(shape)], { ...o }); }
  Tile(x: Value, repeats: Shape, o: Named = {}): Value { return this.op1('Tile', [x, this.shapeInput(repeats)], { ...o }); }
  Shape(x: Value, attrs: Named & { start?: number; end?: number } = {}): Value { return this.op1('Shape', [x], { ...attrs }); }
  Identity(x: Value, o: Named = {}): Value { return this.op1('Identity', [x], { ...o }); }
  Cast(x: Value, to: DataType, o: Named = {}): Value { return this.op1('Cast', [x], { ...o, to }); }
  Gather(x: Value, indices: Value | number | number[], attrs: Named & { axis?: number } = {}): Value {
    const idx = typeof indices === 'number' ? this.scalar(indices, DataType.INT64) : Array.isArray(indices) ? this.ints(indices) : indices;
    return this.op1('Gather', [x, idx], { ...attrs });
  }
  /** Splits into `sizes.length` parts of the given sizes, or into `parts` equal parts. */
  Split(x: Value, spec: { axis?: number; sizes?: number[]; parts?: number }, o: Named = {}): Value[] {
    const n = spec.sizes?.length ?? spec.parts ?? 2;
    const attrs: Attrs = { axis: spec.axis };
    const inputs: (Value | null)[] = [x];
    if (spec.sizes && this.opset >= 13) inputs.push(this.ints(spec.sizes));
    else if (spec.sizes) attrs.split = spec.sizes;
    else if (this.opset >= 18) attrs.num_outputs = n;
    return this.op('Split', inputs, attrs, { name: o.name, outputs: n });
  }
  Slice(x: Value, starts: Shape, ends: Shape, axes?: Shape, steps?: Shape, o: Named = {}): Value {
    const opt = (s: Shape | undefined) => (s === undefined ? null : this.shapeInput(s));
    return this.op1('Slice', [x, this.shapeInput(starts), this.shapeInput(ends), opt(axes), opt(steps)], { ...o });
  }
  /** Pads with `pads` = [x1_begin, x2_begin, …, x1_end, x2_end, …]. */
  Pad(x: Value, pads: Shape, attrs: Named & { mode?: 'constant' | 'reflect' | 'edge' | 'wrap'; value?: number } = {}): Value {
    const { value, ...rest } = attrs;
    const fill = value === undefined ? null : this.scalar(value, x.dtype ?? DataType.FLOAT);
    return this.op1('Pad', [x, this.shapeInput(pads), fill], { ...rest });
  }

  // ---- reductions ------------------------------------------------------------------------------

  ReduceSum(x: Value, axes?: number[], attrs: ReduceAttrs = {}): Value { return this.axesOp('ReduceSum', x, axes, 13, { ...attrs }); }
  ReduceMean(x: Value, axes?: number[], attrs: ReduceAttrs = {}): Value { return this.axesOp('ReduceMean', x, axes, 18, { ...attrs }); }
  ReduceMax(x: Value, axes?: number[], attrs: ReduceAttrs = {}): Value { return this.axesOp('ReduceMax', x, axes, 18, { ...attrs }); }
  ArgMax(x: Value, attrs: Named & { axis?: number; keepdims?: 0 | 1; select_last_index?: 0 | 1 } = {}): Value {
    return this.op1('ArgMax', [x], { ...attrs });
  }
  /** Ops whose `axes` moved from attribute to input at `inputFrom`. */
  private axesOp(opType: string, x: Value, axes: number[] | undefined, inputFrom: number, attrs: Attrs & Named): Value {
    if (this.opset >= inputFrom) return this.op1(opType, [x, axes && this.ints(axes)], attrs);
    return this.op1(opType, [x], { ...attrs, axes });
  }

  // ---- constants and quantisation ----------------------------------------------------------

  /** A Constant node; numbers become float32, number[] float32 1-D (use a Tensor for other types). */
  Constant(value: Tensor | number | number[], o: Named = {}): Value {
    const t = value instanceof Tensor ? value : Tensor.fromArray(DataType.FLOAT, typeof value === 'number' ? [] : [value.length], typeof value === 'number' ? [value] : value);
    return this.op1('Constant', [], { ...o, value: t });
  }
  ConstantOfShape(shape: Shape, value?: Tensor, o: Named = {}): Value {
    return this.op1('ConstantOfShape', [this.shapeInput(shape)], { ...o, value });
  }
  QuantizeLinear(x: Value, scale: Value, zeroPoint?: Value | null, attrs: Named & { axis?: number } = {}): Value {
    return this.op1('QuantizeLinear', [x, scale, zeroPoint], { ...attrs });
  }
  DequantizeLinear(x: Value, scale: Value, zeroPoint?: Value | null, attrs: Named & { axis?: number } = {}): Value {
    return this.op1('DequantizeLinear', [x, scale, zeroPoint], { ...attrs });
  }
}
