/**
 * Model profile: parameters and multiply-accumulates, per node and in total. Pure functions on the
 * IR; shapes come from shape inference with every symbolic dim bound to `batch` (default 1).
 *
 * PARAMETERS — what `countParams` counts (torch's `sum(p.numel() for p in model.parameters())`):
 *   counted   float initializers (float32/16, bfloat16, double) fed to a weight slot: Conv/ConvTranspose
 *             W and B, Gemm/MatMul operands, BatchNormalization scale γ and bias β, Layer/Instance/
 *             GroupNormalization scale and bias, PRelu slope, Gather data (embeddings), a non-scalar
 *             operand of Add/Sub/Mul/Div (biases and scales of exported Linear layers), any
 *             non-scalar float input of an op not listed here; and, whatever their type (an int8
 *             weight is still a weight), the data input of DequantizeLinear and the weight inputs
 *             of MatMulInteger/ConvInteger (dynamic quantization) and QLinearConv/QLinearMatMul.
 *   excluded  BatchNormalization running mean/var (buffers, not parameters); int initializers
 *             (shapes, axes, indices, zero points); scalars used as operands (Clip bounds, Pow
 *             exponents, Pad values, epsilons) and quantization scales/zero points (including
 *             dynamic quantization's per-channel weight scales, multiplied into s_x).
 *
 * MACs — what `countMacs` counts (one multiply-accumulate = one MAC; N = batch):
 *   Conv            N·Cout·Hout·Wout·(Cin/groups)·kh·kw = |Y|·|W|/Cout; stride, dilation, padding
 *                   and depthwise/grouped convs enter through the output shape and W's shape
 *   ConvTranspose   N·Cin·Hin·Win·(Cout/groups)·kh·kw = |X|·|W|/Cin
 *   Gemm            M·N·K;   MatMul  prod(batch)·M·N·K = |Y|·K (broadcast batch dims included)
 *   integer forms   MatMulInteger/QLinearMatMul as MatMul, ConvInteger/QLinearConv as Conv (W is
 *                   QLinearConv's input 3): an int8 MAC is still a MAC
 *   pools           |Y|·kh·kw; GlobalAverage/MaxPool |X|
 *   reductions      |X|
 *   elementwise     |Y| — activations, arithmetic, comparisons, BatchNormalization, Layer/
 *                   InstanceNormalization, Softmax, Clip, Where, (Dynamic)Quantize/DequantizeLinear: one op
 *                   per output element, counted as one MAC (MACs = ops for these)
 *   data movement   0 — Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice,
 *                   Gather, Pad, Expand, Tile, Cast, Shape, Constant, Identity, Dropout (inference)
 * An op outside these lists, or a node whose shapes cannot be inferred, gets `macs: null` and is
 * listed in `unknown`; totals leave it out. `dense` is the Conv/ConvTranspose/Gemm/MatMul part,
 * the figure papers quote ("300 M MACs" for MobileNetV2).
 */
import type { Dim, Model, Node, Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { computeShapes, type TypeInfo } from '../graph/shape-inference.js';

export type MacKind = 'dense' | 'pool' | 'reduce' | 'elementwise' | 'movement';

// ---- parameters --------------------------------------------------------------------------------

export interface ParamEntry {
  name: string;
  dtype: DataType;
  dims: number[];
  elements: number;
  counted: boolean;
  /** Why it is (not) counted: the slot that makes it a parameter, or the rule that excludes it. */
  reason: string;
}
export interface ParamCount {
  total: number;
  initializers: ParamEntry[];
}

const FLOAT_TYPES = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);
/** Input slots that hold parameters, by op. */
const WEIGHT_SLOTS: Record<string, number[]> = {
  Conv: [1, 2], ConvTranspose: [1, 2], Gemm: [0, 1, 2], MatMul: [0, 1], BatchNormalization: [1, 2],
  LayerNormalization: [1, 2], InstanceNormalization: [1, 2], GroupNormalization: [1, 2], PRelu: [1], Gather: [0],
};
/** Weight slots of integer ops: counted whatever the initializer's type. */
const INTEGER_WEIGHT_SLOTS: Record<string, number[]> = {
  DequantizeLinear: [0], MatMulInteger: [0, 1], ConvInteger: [1], QLinearConv: [3, 8], QLinearMatMul: [0, 3],
};
/** Ops whose inputs are never parameters (scalars, bounds, shapes, quantization metadata). */
const NON_WEIGHT_OPS = new Set(['Clip', 'Pow', 'Pad', 'QuantizeLinear', 'Reshape', 'Slice', 'Expand', 'Tile', 'Dropout', 'Where', 'Equal', 'Greater', 'Less']);

function slotReason(use: { node: Node; index: number }, elements: number, isFloat: boolean): string | undefined {
  const { node, index } = use;
  const integer = INTEGER_WEIGHT_SLOTS[node.opType];
  if (integer) return integer.includes(index) ? (node.opType === 'DequantizeLinear' ? 'DequantizeLinear data' : `${node.opType} input ${index}`) : undefined;
  if (!isFloat) return undefined;
  const slots = WEIGHT_SLOTS[node.opType];
  if (slots) return slots.includes(index) ? `${node.opType} input ${index}` : undefined;
  if (NON_WEIGHT_OPS.has(node.opType) || elements <= 1 || isDynamicScale(node)) return undefined;
  return `${node.opType} input ${index}`;
}

/** Dynamic quantization's s_x·s_w: a Mul of a weight scale with DynamicQuantizeLinear's scale. */
const isDynamicScale = (node: Node) => node.opType === 'Mul' && node.inputs.some((v) => v?.producer()?.opType === 'DynamicQuantizeLinear');

export function countParams(model: Model): ParamCount {
  const initializers: ParamEntry[] = [];
  let total = 0;
  for (const v of model.graph.initializers.values()) {
    const t = v.initializer!;
    const elements = t.size;
    const isFloat = FLOAT_TYPES.has(t.dtype);
    let reason: string | undefined;
    for (const u of v.uses()) reason ??= slotReason(u, elements, isFloat);
    const counted = reason !== undefined;
    if (!reason) {
      const bn = v.uses().find((u) => u.node.opType === 'BatchNormalization' && u.index >= 3);
      reason = bn ? 'BatchNormalization running statistics' : !isFloat ? 'integer initializer' : v.isUsed() ? 'scalar or non-weight operand' : 'unused';
    }
    if (counted) total += elements;
    initializers.push({ name: v.name, dtype: t.dtype, dims: [...t.dims], elements, counted, reason });
  }
  return { total, initializers };
}

// ---- MACs ---------------------------------------------------------------------------------------

export interface NodeMacs {
  node: Node;
  name: string;
  op: string;
  /** Shape of the first output with symbolic dims bound; null entries unknown. */
  outputShape: Dim[] | undefined;
  kind: MacKind | undefined;
  macs: number | null;
}
export interface MacCount {
  total: number;
  /** Conv/ConvTranspose/Gemm/MatMul only: the figure usually quoted in papers. */
  dense: number;
  byKind: Record<MacKind, number>;
  nodes: NodeMacs[];
  unknown: NodeMacs[];
}
export interface MacOptions {
  /** Value for every symbolic dim (the batch, normally). Default 1. */
  batch?: number;
}

const ELEMENTWISE = new Set([
  'Abs', 'Add', 'And', 'BatchNormalization', 'Ceil', 'Celu', 'Clip', 'Cos', 'CumSum', 'DequantizeLinear', 'Div',
  'DynamicQuantizeLinear', 'Elu',
  'Equal', 'Erf', 'Exp', 'Floor', 'Gelu', 'Greater', 'GreaterOrEqual', 'HardSigmoid', 'HardSwish', 'Hardmax',
  'InstanceNormalization', 'IsNaN', 'LayerNormalization', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'LogSoftmax',
  'LRN', 'Max', 'Mean', 'Min', 'Mish', 'Mod', 'Mul', 'Neg', 'Not', 'Or', 'Pow', 'PRelu', 'QuantizeLinear',
  'Reciprocal', 'Relu', 'Round', 'Selu', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Softmax', 'Softplus', 'Softsign',
  'Sqrt', 'Sub', 'Sum', 'Tanh', 'ThresholdedRelu', 'Where', 'Xor',
]);
const MOVEMENT = new Set([
  'Cast', 'Concat', 'Constant', 'ConstantOfShape', 'Dropout', 'Expand', 'Flatten', 'Gather', 'Identity', 'Pad',
  'Range', 'Reshape', 'Shape', 'Size', 'Slice', 'Split', 'Squeeze', 'Tile', 'Transpose', 'Unsqueeze',
]);
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export function countMacs(model: Model, opts: MacOptions = {}): MacCount {
  const batch = opts.batch ?? 1;
  const bind = (s: readonly Dim[]) => s.map((d) => (typeof d === 'string' ? batch : d));
  const inputShapes = new Map<Value, Dim[]>();
  for (const v of model.graph.inputs) if (v.shape) inputShapes.set(v, bind(v.shape));
  const types = computeShapes(model, { inputShapes });
  const shapeOf = (v: Value | null): number[] | undefined => {
    const s = v ? (types.get(v) as TypeInfo | undefined)?.shape ?? v.shape : undefined;
    const b = s && bind(s);
    return b && b.every((d): d is number => typeof d === 'number') ? b : undefined;
  };
  const byKind: Record<MacKind, number> = { dense: 0, pool: 0, reduce: 0, elementwise: 0, movement: 0 };
  const nodes: NodeMacs[] = [];
  const unknown: NodeMacs[] = [];
  let total = 0;
  for (const node of model.graph.nodes) {
    const out0 = node.outputs[0] ?? null;
    const raw = out0 ? (types.get(out0)?.shape ?? out0.shape) : undefined;
    const [kind, macs] = nodeMacs(node, shapeOf);
    const entry: NodeMacs = { node, name: node.name, op: node.opType, outputShape: raw && bind(raw), kind, macs };
    nodes.push(entry);
    if (macs === null || !kind) unknown.push(entry);
    else {
      byKind[kind] += macs;
      total += macs;
    }
  }
  return { total, dense: byKind.dense, byKind, nodes, unknown };
}

function nodeMacs(node: Node, shapeOf: (v: Value | null) => number[] | undefined): [MacKind | undefined, number | null] {
  const op = node.domain === '' || node.domain === 'ai.onnx' ? node.opType : `${node.domain}.${node.opType}`;
  const y = shapeOf(node.outputs[0] ?? null);
  const x = shapeOf(node.input(0));
  const w = shapeOf(node.input(1));
  if (MOVEMENT.has(op)) return ['movement', 0];
  switch (op) {
    case 'Conv':
    case 'ConvInteger':
      return ['dense', y && w ? numel(y) * numel(w.slice(1)) : null];
    case 'QLinearConv': {
      const qw = shapeOf(node.input(3));
      return ['dense', y && qw ? numel(y) * numel(qw.slice(1)) : null];
    }
    case 'ConvTranspose':
      return ['dense', x && w ? numel(x) * numel(w.slice(1)) : null];
    case 'Gemm': {
      const k = x && x.length === 2 ? x[node.getInt('transA', 0) ? 0 : 1]! : undefined;
      return ['dense', y && k !== undefined ? numel(y) * k : null];
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const k = x?.[x.length - 1];
      return ['dense', y && k !== undefined ? numel(y) * k : null];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return ['pool', x ? numel(x) : null];
  }
  if (POOLS.has(op)) {
    const k = node.getInts('kernel_shape');
    return ['pool', y && k ? numel(y) * numel(k) : null];
  }
  if (op.startsWith('Reduce') || op === 'ArgMax' || op === 'ArgMin') return ['reduce', x ? numel(x) : null];
  if (ELEMENTWISE.has(op)) return ['elementwise', y ? numel(y) : null];
  return [undefined, null];
}

// ---- per-layer table ---------------------------------------------------------------------------

export interface LayerRow {
  name: string;
  op: string;
  outputShape: Dim[] | undefined;
  params: number;
  macs: number | null;
  /** macs / total MACs, 0..1. */
  share: number;
}
export interface OpStat {
  op: string;
  count: number;
  params: number;
  macs: number;
}
export interface Profile {
  batch: number;
  params: ParamCount;
  macs: MacCount;
  layers: LayerRow[];
  histogram: OpStat[];
}

/** Per-node rows (parameters attributed to the first node that uses them) and an op histogram. */
export function profileModel(model: Model, opts: MacOptions = {}): Profile {
  const params = countParams(model);
  const macs = countMacs(model, opts);
  const counted = new Map(params.initializers.filter((p) => p.counted).map((p) => [p.name, p.elements]));
  const layers = macs.nodes.map((n): LayerRow => {
    let p = 0;
    for (const v of n.node.inputs) {
      const c = v?.initializer ? counted.get(v.name) : undefined;
      if (c !== undefined) {
        p += c;
        counted.delete(v!.name);
      }
    }
    return { name: n.name, op: n.op, outputShape: n.outputShape, params: p, macs: n.macs, share: macs.total ? (n.macs ?? 0) / macs.total : 0 };
  });
  return { batch: opts.batch ?? 1, params, macs, layers, histogram: opHistogram(layers) };
}

/** Node count, parameters and MACs by op type, most MACs first. */
export function opHistogram(rows: readonly LayerRow[]): OpStat[] {
  const by = new Map<string, OpStat>();
  for (const r of rows) {
    const s = by.get(r.op) ?? by.set(r.op, { op: r.op, count: 0, params: 0, macs: 0 }).get(r.op)!;
    s.count++;
    s.params += r.params;
    s.macs += r.macs ?? 0;
  }
  return [...by.values()].sort((a, b) => b.macs - a.macs || b.count - a.count);
}

/** Plain-text per-layer table: name, op, output shape, params, MACs, share; then totals. */
export function renderLayerTable(p: Profile): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const shape = (s: Dim[] | undefined) => (s ? `[${s.map((d) => d ?? '?').join(',')}]` : '?');
  const rows = [['layer', 'op', 'output', 'params', 'MACs', 'share']];
  for (const r of p.layers) rows.push([r.name, r.op, shape(r.outputShape), fmt(r.params), r.macs === null ? '?' : fmt(r.macs), `${(100 * r.share).toFixed(1)}%`]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const total = `total: ${fmt(p.params.total)} params, ${fmt(p.macs.total)} MACs at batch ${p.batch} (${fmt(p.macs.dense)} in Conv/Gemm/MatMul)`;
  return [...rows.map(line), total].join('\n');
}
