/**
 * Per-op type rules: (node, input types, constant inputs) → output dtype and shape.
 *
 *   Conv        [N, M, o…], o = ⌊(i + pb + pe − d·(k−1) − 1)/s⌋ + 1; SAME_*: ⌈i/s⌉; M = W[0]
 *   ConvTranspose  o = s·(i−1) + out_pad + d·(k−1) + 1 − pb − pe; SAME_*: i·s; M = W[1]·group
 *   pools       as Conv with kernel_shape (ceil_mode → ⌈⌉, but no window may start in the end pad)
 *   Gemm        [M, N] after transA/transB;  MatMul  numpy matmul with broadcast batch dims
 *   elementwise numpy broadcast (see dims.ts); comparisons give bool
 *   shape ops   Reshape/Slice/Pad/Squeeze/… read their shape inputs when those are constant
 *               (initializers, Constant nodes, or small int expressions over static Shapes)
 *
 * A rule returns one entry per output; `undefined` means "cannot tell" and leaves the output
 * untyped. Rules never throw on odd input: shape inference is advisory, ORT is the judge.
 */
import { DataType } from '../onnx/proto.js';
import type { Dim, Node } from './ir.js';
import {
  addDim, broadcastShapes, divideProducts, dimProduct, normAxis, productDim, sameOut, windowOut,
} from './dims.js';

export interface TypeInfo {
  dtype: DataType;
  /** undefined: rank unknown. */
  shape?: Dim[];
}

export interface InferContext {
  readonly node: Node;
  /** Opset of the default ONNX domain. */
  readonly opset: number;
  type(i: number): TypeInfo | undefined;
  /** Constant values of input i (int64 clamped to ±2^53), or undefined when not constant. */
  ints(i: number): number[] | undefined;
  /** True when input i is present (not missing/empty). */
  has(i: number): boolean;
}

export type ShapeRule = (ctx: InferContext) => (TypeInfo | undefined)[];

const shape = (c: InferContext, i: number) => c.type(i)?.shape;
const dtype = (c: InferContext, i: number) => c.type(i)?.dtype;
const out = (dt: DataType | undefined, sh?: Dim[]): TypeInfo | undefined => (dt === undefined ? undefined : { dtype: dt, shape: sh });

const sameAs0: ShapeRule = (c) => [out(dtype(c, 0), shape(c, 0))];
const broadcast: ShapeRule = (c) => [out(dtype(c, 0), broadcastShapes(c.node.inputs.map((_, i) => shape(c, i))))];
const compare: ShapeRule = (c) => [out(DataType.BOOL, broadcastShapes(c.node.inputs.map((_, i) => shape(c, i))))];

/** Attribute ints, or an input's constant ints from `fromOpset` on (ONNX moved many attrs to inputs). */
function attrOrInput(c: InferContext, name: string, input: number, fromOpset: number): number[] | undefined | 'unknown' {
  if (c.opset >= fromOpset) {
    if (!c.has(input)) return undefined;
    return c.ints(input) ?? 'unknown';
  }
  return c.node.getInts(name);
}

// ---- convolution and pooling ----------------------------------------------------------------

interface Window {
  k: number[];
  s: number[];
  d: number[];
  pads: number[];
  autoPad: string;
}

function window(c: InferContext, spatial: number, kernel: readonly Dim[] | undefined): Window | undefined {
  const n = c.node;
  const k = n.getInts('kernel_shape') ?? kernel;
  if (!k || k.length !== spatial || k.some((x) => typeof x !== 'number')) return undefined;
  return {
    k: k as number[],
    s: n.getInts('strides') ?? Array(spatial).fill(1),
    d: n.getInts('dilations') ?? Array(spatial).fill(1),
    pads: n.getInts('pads') ?? Array(2 * spatial).fill(0),
    autoPad: n.getString('auto_pad', 'NOTSET'),
  };
}

function spatialOut(c: InferContext, x: Dim[], w: Window): Dim[] {
  const ceil = c.node.getInt('ceil_mode', 0) === 1;
  const sp = x.length - 2;
  return x.slice(2).map((i, a) => {
    const [k, s, d] = [w.k[a]!, w.s[a] ?? 1, w.d[a] ?? 1];
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return sameOut(i, s);
    if (w.autoPad === 'VALID') return windowOut(i, k, s, d, 0, 0, false);
    return windowOut(i, k, s, d, w.pads[a] ?? 0, w.pads[a + sp] ?? 0, ceil);
  });
}

const Conv: ShapeRule = (c) => {
  const [x, wt] = [shape(c, 0), shape(c, 1)];
  if (!x || !wt || x.length < 3) return [out(dtype(c, 0))];
  const w = window(c, x.length - 2, wt.slice(2));
  return [out(dtype(c, 0), w && [x[0]!, wt[0]!, ...spatialOut(c, x, w)])];
};

const ConvTranspose: ShapeRule = (c) => {
  const [x, wt] = [shape(c, 0), shape(c, 1)];
  if (!x || !wt || x.length < 3) return [out(dtype(c, 0))];
  const sp = x.length - 2;
  const w = window(c, sp, wt.slice(2));
  const group = c.node.getInt('group', 1);
  const m = typeof wt[1] === 'number' ? wt[1] * group : null;
  if (!w) return [out(dtype(c, 0))];
  const explicit = c.node.getInts('output_shape');
  const outPad = c.node.getInts('output_padding') ?? Array(sp).fill(0);
  const dims = x.slice(2).map((i, a): Dim => {
    if (explicit) return explicit[a] ?? null;
    const [k, s, d] = [w.k[a]!, w.s[a] ?? 1, w.d[a] ?? 1];
    if (typeof i !== 'number') return null;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return i * s;
    const [pb, pe] = w.autoPad === 'VALID' ? [0, 0] : [w.pads[a] ?? 0, w.pads[a + sp] ?? 0];
    return s * (i - 1) + (outPad[a] ?? 0) + d * (k - 1) + 1 - pb - pe;
  });
  return [out(dtype(c, 0), [x[0]!, m, ...dims])];
};

const pool: ShapeRule = (c) => {
  const x = shape(c, 0);
  const w = x && x.length >= 3 ? window(c, x.length - 2, undefined) : undefined;
  const sh = x && w ? [x[0]!, x[1]!, ...spatialOut(c, x, w)] : undefined;
  return [out(dtype(c, 0), sh), out(DataType.INT64, sh)]; // MaxPool's Indices
};

const globalPool: ShapeRule = (c) => {
  const x = shape(c, 0);
  return [out(dtype(c, 0), x && [x[0]!, x[1]!, ...x.slice(2).map(() => 1)])];
};

// ---- linear algebra ---------------------------------------------------------------------------

const Gemm: ShapeRule = (c) => {
  const [a, b] = [shape(c, 0), shape(c, 1)];
  if (!a || !b || a.length !== 2 || b.length !== 2) return [out(dtype(c, 0))];
  const m = c.node.getInt('transA', 0) ? a[1]! : a[0]!;
  const n = c.node.getInt('transB', 0) ? b[0]! : b[1]!;
  return [out(dtype(c, 0), [m, n])];
};

const MatMul: ShapeRule = (c) => {
  let [a, b] = [shape(c, 0), shape(c, 1)];
  if (!a || !b || a.length === 0 || b.length === 0) return [out(dtype(c, 0))];
  const vecA = a.length === 1;
  const vecB = b.length === 1;
  if (vecA) a = [1, a[0]!];
  if (vecB) b = [b[0]!, 1];
  const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)])!;
  const dims = [...batch, ...(vecA ? [] : [a[a.length - 2]!]), ...(vecB ? [] : [b[b.length - 1]!])];
  return [out(dtype(c, 0), dims)];
};

// ---- normalisation ----------------------------------------------------------------------------

const BatchNormalization: ShapeRule = (c) => {
  const x = shape(c, 0);
  const ch = x && x.length > 1 ? [x[1]!] : undefined;
  return [out(dtype(c, 0), x), out(dtype(c, 3), ch), out(dtype(c, 4), ch)];
};

const LayerNormalization: ShapeRule = (c) => {
  const x = shape(c, 0);
  const axis = x ? normAxis(c.node.getInt('axis', -1), x.length) : 0;
  const stat = x?.map((d, i) => (i < axis ? d : 1));
  const stash = c.node.getInt('stash_type', 1) === 1 ? DataType.FLOAT : dtype(c, 0);
  return [out(dtype(c, 0), x), out(stash, stat), out(stash, stat)];
};

// ---- shape manipulation -----------------------------------------------------------------------

const Flatten: ShapeRule = (c) => {
  const x = shape(c, 0);
  if (!x) return [out(dtype(c, 0))];
  const axis = normAxis(c.node.getInt('axis', 1), x.length);
  return [out(dtype(c, 0), [productDim(dimProduct(x.slice(0, axis))), productDim(dimProduct(x.slice(axis)))])];
};

const Reshape: ShapeRule = (c) => {
  const [x, target] = [shape(c, 0), c.ints(1)];
  if (!target) return [out(dtype(c, 0))];
  const allowZero = c.node.getInt('allowzero', 0) === 1;
  const dims: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (x ? (x[i] ?? null) : null) : t));
  const hole = dims.indexOf(-1);
  if (hole >= 0) {
    const rest = dims.filter((_, i) => i !== hole);
    dims[hole] = x ? divideProducts(dimProduct(x), dimProduct(rest)) : null;
  }
  return [out(dtype(c, 0), dims)];
};

const Transpose: ShapeRule = (c) => {
  const x = shape(c, 0);
  if (!x) return [out(dtype(c, 0))];
  const perm = c.node.getInts('perm') ?? x.map((_, i) => x.length - 1 - i);
  return [out(dtype(c, 0), perm.map((p) => x[p] ?? null))];
};

const Squeeze: ShapeRule = (c) => {
  const x = shape(c, 0);
  const axes = attrOrInput(c, 'axes', 1, 13);
  if (!x || axes === 'unknown') return [out(dtype(c, 0))];
  if (!axes) return [out(dtype(c, 0), x.some((d) => d === null) ? undefined : x.filter((d) => d !== 1))];
  const drop = new Set(axes.map((a) => normAxis(a, x.length)));
  return [out(dtype(c, 0), x.filter((_, i) => !drop.has(i)))];
};

const Unsqueeze: ShapeRule = (c) => {
  const x = shape(c, 0);
  const axes = attrOrInput(c, 'axes', 1, 13);
  if (!x || !axes || axes === 'unknown') return [out(dtype(c, 0))];
  const rank = x.length + axes.length;
  const ones = new Set(axes.map((a) => normAxis(a, rank)));
  const rest = [...x];
  return [out(dtype(c, 0), Array.from({ length: rank }, (_, i) => (ones.has(i) ? 1 : (rest.shift() ?? null))))];
};

const Concat: ShapeRule = (c) => {
  const shapes = c.node.inputs.map((_, i) => shape(c, i));
  const first = shapes[0];
  if (!first || shapes.some((s) => !s || s.length !== first.length)) return [out(dtype(c, 0))];
  const axis = normAxis(c.node.getInt('axis', 0), first.length);
  const dims = first.map((d, i) => {
    const col = shapes.map((s) => s![i]!);
    if (i === axis) return col.every((x) => typeof x === 'number') ? (col as number[]).reduce((s, x) => s + x, 0) : null;
    return col.find((x) => typeof x === 'number') ?? col.find((x) => typeof x === 'string') ?? null;
  });
  return [out(dtype(c, 0), dims)];
};

const Split: ShapeRule = (c) => {
  const x = shape(c, 0);
  const n = c.node.outputs.length;
  if (!x) return Array(n).fill(out(dtype(c, 0)));
  const axis = normAxis(c.node.getInt('axis', 0), x.length);
  const given = attrOrInput(c, 'split', 1, 13);
  const d = x[axis];
  let sizes: Dim[];
  if (given === 'unknown') sizes = Array(n).fill(null);
  else if (given) sizes = given;
  else if (typeof d !== 'number') sizes = Array(n).fill(null);
  else {
    const chunk = Math.ceil(d / n); // opset 18: the last chunk may be smaller
    sizes = Array.from({ length: n }, (_, i) => Math.min(chunk, d - chunk * i));
  }
  return sizes.map((s) => out(dtype(c, 0), x.map((v, i) => (i === axis ? s : v))));
};

function sliceLen(dim: number, start: number, end: number, step: number): number {
  if (step > 0) {
    const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim);
    const e = Math.min(Math.max(end < 0 ? end + dim : end, 0), dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim - 1);
  const e = Math.min(Math.max(end < 0 ? end + dim : end, -1), dim - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

const Slice: ShapeRule = (c) => {
  const x = shape(c, 0);
  if (!x) return [out(dtype(c, 0))];
  const old = c.opset < 10;
  const starts = old ? c.node.getInts('starts') : c.ints(1);
  const ends = old ? c.node.getInts('ends') : c.ints(2);
  const axes = (old ? c.node.getInts('axes') : c.has(3) ? c.ints(3) : undefined) ?? starts?.map((_, i) => i);
  const steps = (!old && c.has(4) ? c.ints(4) : undefined) ?? starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) return [out(dtype(c, 0), x.map(() => null))];
  const dims = [...x];
  axes.forEach((a, j) => {
    const i = normAxis(a, x.length);
    const [d, s, e, st] = [x[i], starts[j]!, ends[j]!, steps[j] ?? 1];
    if (typeof d === 'number') dims[i] = sliceLen(d, s, e, st);
    else dims[i] = st === 1 && s === 0 && e >= 2 ** 31 - 1 ? (d ?? null) : null; // a full slice keeps a symbol
  });
  return [out(dtype(c, 0), dims)];
};

const Pad: ShapeRule = (c) => {
  const x = shape(c, 0);
  const pads = c.opset >= 11 ? c.ints(1) : c.node.getInts('pads');
  if (!x || !pads) return [out(dtype(c, 0), x?.map(() => null))];
  const axes = (c.opset >= 18 && c.has(3) ? c.ints(3) : undefined) ?? x.map((_, i) => i);
  const dims = [...x];
  axes.forEach((a, j) => {
    const i = normAxis(a, x.length);
    dims[i] = addDim(x[i] ?? null, (pads[j] ?? 0) + (pads[j + axes.length] ?? 0));
  });
  return [out(dtype(c, 0), dims)];
};

/** ReduceSum takes axes as an input from opset 13, the other reductions from 18. */
function reduce(axesInputFrom: number): ShapeRule {
  return (c) => {
    const x = shape(c, 0);
    const axes = attrOrInput(c, 'axes', 1, axesInputFrom);
    if (!x || axes === 'unknown') return [out(dtype(c, 0))];
    const keep = c.node.getInt('keepdims', 1) === 1;
    if ((!axes || axes.length === 0) && c.node.getInt('noop_with_empty_axes', 0) === 1) return [out(dtype(c, 0), x)];
    const set = new Set((axes && axes.length ? axes : x.map((_, i) => i)).map((a) => normAxis(a, x.length)));
    const dims = keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
    return [out(dtype(c, 0), dims)];
  };
}

const ArgMax: ShapeRule = (c) => {
  const x = shape(c, 0);
  if (!x) return [out(DataType.INT64)];
  const axis = normAxis(c.node.getInt('axis', 0), x.length);
  const keep = c.node.getInt('keepdims', 1) === 1;
  return [out(DataType.INT64, keep ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis))];
};

const Gather: ShapeRule = (c) => {
  const [x, idx] = [shape(c, 0), shape(c, 1)];
  if (!x || !idx) return [out(dtype(c, 0))];
  const axis = normAxis(c.node.getInt('axis', 0), x.length);
  return [out(dtype(c, 0), [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)])];
};

const Shape: ShapeRule = (c) => {
  const x = shape(c, 0);
  if (!x) return [out(DataType.INT64, [null])];
  const r = x.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const len = Math.max(0, clamp(c.node.getInt('end', r)) - clamp(c.node.getInt('start', 0)));
  return [out(DataType.INT64, [len])];
};

const Constant: ShapeRule = (c) => {
  const n = c.node;
  const t = n.getTensor('value');
  if (t) return [{ dtype: t.dtype, shape: [...t.dims] }];
  if (n.attr('value_float')) return [{ dtype: DataType.FLOAT, shape: [] }];
  if (n.attr('value_int')) return [{ dtype: DataType.INT64, shape: [] }];
  const fs = n.attr('value_floats')?.floats;
  if (fs) return [{ dtype: DataType.FLOAT, shape: [fs.length] }];
  const is = n.getInts('value_ints');
  if (is) return [{ dtype: DataType.INT64, shape: [is.length] }];
  return [undefined];
};

const Expand: ShapeRule = (c) => {
  const s = c.ints(1);
  return [out(dtype(c, 0), s && broadcastShapes([shape(c, 0), s]))];
};

const Tile: ShapeRule = (c) => {
  const [x, r] = [shape(c, 0), c.ints(1)];
  return [out(dtype(c, 0), x && r ? x.map((d, i) => (typeof d === 'number' ? d * (r[i] ?? 1) : r[i] === 1 ? d : null)) : x?.map(() => null))];
};

const ConstantOfShape: ShapeRule = (c) => [{ dtype: c.node.getTensor('value')?.dtype ?? DataType.FLOAT, shape: c.ints(0) }];

const Range: ShapeRule = (c) => {
  const [s, l, d] = [c.ints(0), c.ints(1), c.ints(2)];
  const n = s && l && d ? Math.max(Math.ceil((l[0]! - s[0]!) / d[0]!), 0) : null;
  return [out(dtype(c, 0), [n])];
};

const Where: ShapeRule = (c) => [out(dtype(c, 1), broadcastShapes([shape(c, 0), shape(c, 1), shape(c, 2)]))];

const Cast: ShapeRule = (c) => [{ dtype: c.node.getInt('to', DataType.FLOAT) as DataType, shape: shape(c, 0) }];

const QuantizeLinear: ShapeRule = (c) => {
  const explicit = c.node.getInt('output_dtype', 0);
  const dt = explicit ? (explicit as DataType) : (dtype(c, 2) ?? DataType.UINT8);
  return [{ dtype: dt, shape: shape(c, 0) }];
};

const DequantizeLinear: ShapeRule = (c) => [out(dtype(c, 1) ?? DataType.FLOAT, shape(c, 0))];

// ---- integer and quantized linear ops: the float op's shape over remapped inputs ---------------

/** A context whose input i is the node's input map[i] (QLinearConv's W is input 3, not 1). */
const remap = (c: InferContext, map: number[]): InferContext => ({
  node: c.node,
  opset: c.opset,
  type: (i) => (map[i] === undefined ? undefined : c.type(map[i]!)),
  ints: (i) => (map[i] === undefined ? undefined : c.ints(map[i]!)),
  has: (i) => map[i] !== undefined && c.has(map[i]!),
});
/** The float rule's output shape with dtype `dt`: int32 for *Integer, the output zero point's for QLinear*. */
const integerOp = (rule: ShapeRule, map: number[], dt: (c: InferContext) => DataType | undefined): ShapeRule => (c) => [
  out(dt(c), rule(remap(c, map))[0]?.shape),
];
const int32 = () => DataType.INT32;
const zeroPointType = (i: number) => (c: InferContext) => dtype(c, i) ?? DataType.UINT8;

/** DynamicQuantizeLinear: y uint8 shaped like x, scalar scale and zero point. */
const DynamicQuantizeLinear: ShapeRule = (c) => [out(DataType.UINT8, shape(c, 0)), out(DataType.FLOAT, []), out(DataType.UINT8, [])];

const Dropout: ShapeRule = (c) => [out(dtype(c, 0), shape(c, 0)), out(DataType.BOOL, shape(c, 0))];

// ---- depth/space rearrangement and unpooling ------------------------------------------------

/** SpaceToDepth: [N, C, H, W] → [N, C·b², H/b, W/b]; DepthToSpace the inverse. */
const spaceDepth = (toDepth: boolean): ShapeRule => (c) => {
  const x = shape(c, 0);
  const b = c.node.getInt('blocksize', 1);
  if (!x || x.length !== 4) return [out(dtype(c, 0))];
  const scale = (d: Dim, up: boolean): Dim => (typeof d !== 'number' ? null : up ? d * b * b : d / (b * b));
  const sp = (d: Dim, up: boolean): Dim => (typeof d !== 'number' ? null : up ? d * b : d / b);
  return [out(dtype(c, 0), [x[0]!, scale(x[1]!, toDepth), sp(x[2]!, !toDepth), sp(x[3]!, !toDepth)])];
};

/** MaxUnpool: output_shape input when constant, else (i−1)·s + k − pb − pe per spatial axis. */
const MaxUnpool: ShapeRule = (c) => {
  const given = c.has(2) ? c.ints(2) : undefined;
  if (given) return [out(dtype(c, 0), given)];
  const x = shape(c, 0);
  const w = x && x.length >= 3 ? window(c, x.length - 2, undefined) : undefined;
  if (!x || !w) return [out(dtype(c, 0))];
  const sp = x.length - 2;
  return [out(dtype(c, 0), [x[0]!, x[1]!, ...x.slice(2).map((i, a) => (typeof i === 'number' ? (i - 1) * (w.s[a] ?? 1) + w.k[a]! - (w.pads[a] ?? 0) - (w.pads[a + sp] ?? 0) : null))])];
};

const UNARY = [
  'Abs', 'Ceil', 'Celu', 'Clip', 'Cos', 'CumSum', 'Elu', 'Erf', 'Exp', 'Floor', 'Gelu', 'HardSigmoid', 'HardSwish',
  'Hardmax', 'Identity', 'LeakyRelu', 'Log', 'LogSoftmax', 'Mish', 'Neg', 'Not', 'PRelu', 'Reciprocal', 'Relu', 'Round',
  'Selu', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Softmax', 'Softplus', 'Softsign', 'Sqrt', 'Tanh', 'ThresholdedRelu',
  'Trilu', 'InstanceNormalization', 'LRN',
];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'BitShift'];
const COMPARE = ['Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual'];

/** Rules by op type (default ONNX domain). Ops not listed leave their outputs untyped. */
export const SHAPE_RULES: Readonly<Record<string, ShapeRule>> = {
  ...Object.fromEntries(UNARY.map((op) => [op, sameAs0])),
  ...Object.fromEntries(BINARY.map((op) => [op, broadcast])),
  ...Object.fromEntries(COMPARE.map((op) => [op, compare])),
  And: compare, Or: compare, Xor: compare, IsNaN: (c) => [out(DataType.BOOL, shape(c, 0))],
  Conv, ConvTranspose, MaxPool: pool, AveragePool: pool, LpPool: pool,
  GlobalAveragePool: globalPool, GlobalMaxPool: globalPool,
  Gemm, MatMul, BatchNormalization, LayerNormalization, Dropout,
  Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice, Pad,
  ReduceSum: reduce(13), ReduceMean: reduce(18), ReduceMax: reduce(18), ReduceMin: reduce(18),
  ReduceProd: reduce(18), ReduceL2: reduce(18), ReduceSumSquare: reduce(18), ReduceLogSumExp: reduce(18),
  ArgMax, ArgMin: ArgMax, Gather, Shape, Size: () => [{ dtype: DataType.INT64, shape: [] }],
  Constant, ConstantOfShape, Expand, Tile, Range, Where, Cast, QuantizeLinear, DequantizeLinear,
  SpaceToDepth: spaceDepth(true), DepthToSpace: spaceDepth(false), MaxUnpool,
  DynamicQuantizeLinear,
  MatMulInteger: integerOp(MatMul, [0, 1], int32), ConvInteger: integerOp(Conv, [0, 1], int32),
  QLinearMatMul: integerOp(MatMul, [0, 3], zeroPointType(7)), QLinearConv: integerOp(Conv, [0, 3], zeroPointType(7)),
};
