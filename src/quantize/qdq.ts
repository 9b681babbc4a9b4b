/**
 * Carries out a static plan (plan.ts) in QDQ form, the format ORT's graph optimizer fuses into
 * int8 kernels (QLinearConv, QGemm, QLinearMatMul/MatMulIntegerToFloat, QLinearAdd, …):
 *
 *   activation T   T → QuantizeLinear(s, z) → DequantizeLinear(s, z) → every consumer of T
 *                  (all of them, so that ORT sees a producer whose only consumer is a Q)
 *   weight W       DequantizeLinear(W_q int8, s[C], z[C] = 0, axis) — W_q stored in the file
 *   bias b         DequantizeLinear(b_q int32, s_x·s_w[C], 0, axis 0), b_q = round(b/(s_x·s_w))
 *   constant K of an Add/Mul/Concat   DequantizeLinear(K_q, s, z) with K's own min/max range
 *
 * Weight axes: Conv W [M, C/g, kh, kw] → 0; Gemm transB=1 W [N, K] → 0, transB=0 [K, N] → 1;
 * MatMul B [K, N] → 1. A graph output that gets Q/DQ keeps its name on the DequantizeLinear.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model, Node, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { DataType } from '../onnx/proto.js';
import type { Range } from './calibrate.js';
import type { Plan } from './plan.js';
import { computeParams, dataTypeOf, quantRange, quantizeBias, quantizeValue, quantizeWeights, type QuantParams, type QuantRange, type QuantType } from './params.js';

export interface QdqOptions {
  activationType: QuantType;
  weightType: QuantType;
  perChannel: boolean;
  symmetricActivations: boolean;
  reduceRange: boolean;
}

export const DEFAULT_QDQ: QdqOptions = { activationType: 'uint8', weightType: 'int8', perChannel: true, symmetricActivations: false, reduceRange: false };

function weightAxis(n: Node): number {
  if (n.opType === 'Conv') return 0;
  if (n.opType === 'Gemm') return n.getInt('transB', 0) === 1 ? 0 : 1;
  return 1; // MatMul [K, N]
}

/** Adds W_q (int8/uint8), s and z initializers for a weight quantized along `axis` (undefined: per tensor). */
export function addQuantizedWeight(graph: Model['graph'], name: string, data: Float32Array, dims: readonly number[], axis: number | undefined, type: QuantType, range: QuantRange) {
  const { q, params } = quantizeWeights(data, dims, axis, range, type === 'int8');
  const dt = dataTypeOf(type);
  const vec = (t: DataType, xs: number[]) => (axis !== undefined ? Tensor.fromArray(t, [xs.length], xs) : Tensor.scalar(t, xs[0]!));
  const wq = graph.addInitializer(Tensor.fromArray(dt, [...dims], q), graph.uniqueName(`${name}_quantized`));
  const ws = graph.addInitializer(vec(DataType.FLOAT, params.map((p) => p.scale)), graph.uniqueName(`${name}_scale`));
  const wz = graph.addInitializer(vec(dt, params.map((p) => p.zeroPoint)), graph.uniqueName(`${name}_zero_point`));
  return { wq, ws, wz, params };
}

export function insertQdq(model: Model, plan: Plan, ranges: ReadonlyMap<Value, Range>, opts: QdqOptions): void {
  const graph = model.graph;
  const g = GraphBuilder.edit(model);
  const actRange = quantRange(opts.activationType);
  const actDtype = dataTypeOf(opts.activationType);
  const params = new Map<Value, QuantParams>();
  const paramsOf = (v: Value): QuantParams => {
    const root = plan.qdq.get(v) ?? v;
    let p = params.get(root);
    if (!p) {
      const r = ranges.get(root);
      if (!r) throw new Error(`insertQdq: no calibrated range for "${root.name}"`);
      p = computeParams(r.min, r.max, actRange, opts.symmetricActivations);
      params.set(root, p);
    }
    return p;
  };
  const scaleZp = (name: string, p: QuantParams): [Value, Value] => [
    graph.addInitializer(Tensor.scalar(DataType.FLOAT, p.scale), graph.uniqueName(`${name}_scale`)),
    graph.addInitializer(Tensor.scalar(actDtype, p.zeroPoint), graph.uniqueName(`${name}_zero_point`)),
  ];

  // weights and biases first: a bias needs the range of its node's input before that input is rewired
  const wRange = quantRange(opts.weightType, { symmetric: opts.weightType === 'int8', reduceRange: opts.reduceRange });
  for (const d of plan.decisions) {
    const n = d.node;
    if (!d.quantized || d.family !== 'weighted' || !n.input(1)?.initializer) continue;
    g.insertBefore(n);
    const w = n.input(1)!;
    const t = w.initializer!;
    const axis = opts.perChannel ? weightAxis(n) : undefined;
    const { wq, ws, wz, params: wp } = addQuantizedWeight(graph, w.name, t.toArray() as Float32Array, t.dims, axis, opts.weightType, wRange);
    const base = n.name || w.name;
    n.setInput(1, g.op('DequantizeLinear', [wq, ws, wz], { axis }, { name: `${base}.weight_DequantizeLinear` }));

    const b = n.input(2);
    if (!b?.initializer) continue;
    const sx = paramsOf(n.input(0)!).scale;
    const { q: bq, scales } = quantizeBias(b.initializer.toArray() as Float32Array, sx, wp.map((p) => p.scale));
    const bqv = graph.addInitializer(Tensor.fromArray(DataType.INT32, [bq.length], bq), graph.uniqueName(`${b.name}_quantized`));
    const bs = graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [scales.length], scales), graph.uniqueName(`${b.name}_scale`));
    const bz = graph.addInitializer(Tensor.fromArray(DataType.INT32, [bq.length], new Int32Array(bq.length)), graph.uniqueName(`${b.name}_zero_point`));
    n.setInput(2, g.op('DequantizeLinear', [bqv, bs, bz], { axis: 0 }, { name: `${base}.bias_DequantizeLinear` }));
  }
  // activations: Q→DQ right after the producer (or at the top for graph inputs)
  for (const v of plan.qdq.keys()) {
    const p = paramsOf(v);
    const [s, z] = scaleZp(v.name, p);
    const producer = v.producer();
    const after = producer ? graph.nodes[graph.nodes.indexOf(producer) + 1] ?? null : graph.nodes[0] ?? null;
    g.insertBefore(after);
    const uses = [...v.uses()];
    const qv = g.op('QuantizeLinear', [v, s, z], {}, { name: `${v.name}_QuantizeLinear` });
    const dq = g.op('DequantizeLinear', [qv, s, z], {}, { name: `${v.name}_DequantizeLinear` });
    for (const { node, index } of uses) node.setInput(index, dq);
    const out = graph.outputs.indexOf(v);
    if (out >= 0) {
      const name = v.name;
      v.name = graph.uniqueName(`${name}_float`);
      dq.name = name;
      graph.outputs[out] = dq;
    }
  }

  // constants of elementwise/concat nodes
  for (const c of plan.constants) {
    const t = c.initializer!;
    const data = t.toArray() as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of data) (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
    const p = computeParams(lo, hi, actRange, opts.symmetricActivations);
    const qt = Tensor.fromArray(actDtype, [...t.dims], Array.from(data, (x) => quantizeValue(x, p, actRange)));
    const [s, z] = scaleZp(c.name, p);
    g.insertBefore(graph.nodes[0] ?? null);
    const dq = g.op('DequantizeLinear', [graph.addInitializer(qt, graph.uniqueName(`${c.name}_quantized`)), s, z], {}, { name: `${c.name}_DequantizeLinear` });
    for (const { node, index } of [...c.uses()]) if (plan.decisions.find((d) => d.node === node)?.quantized) node.setInput(index, dq);
  }

  graph.sortTopologically();
}

/**
 * ORT (≥ 1.20, WeightBiasQuantization) quantizes the float weight of a Conv/ConvTranspose/Gemm
 * whose input comes from a DequantizeLinear with a per-tensor scale, which would undo --exclude.
 * An excluded node therefore reads its input through a private DequantizeLinear whose scale and
 * zero point are the same numbers replicated per channel (axis 1): the values are identical, and
 * ORT leaves the node float. Needs the channel count from the input's shape.
 */
export function shieldFloatNodes(model: Model, plan: Plan): void {
  const graph = model.graph;
  const g = GraphBuilder.edit(model);
  for (const d of plan.decisions) {
    const n = d.node;
    if (d.quantized || !['Conv', 'ConvTranspose', 'Gemm'].includes(n.opType)) continue;
    const v = n.input(0);
    const dq = v?.producer();
    const channels = v?.shape?.[1];
    if (!dq || dq.opType !== 'DequantizeLinear' || typeof channels !== 'number') continue;
    const s = dq.input(1)!.initializer;
    const z = dq.input(2)?.initializer;
    if (!s || s.size !== 1 || !z) continue;
    const rep = (t: Tensor) => Tensor.fromArray(t.dtype, [channels], new Array<number>(channels).fill(t.toNumbers()[0]!));
    g.insertBefore(n);
    const sv = graph.addInitializer(rep(s), graph.uniqueName(`${n.name}_input_scale`));
    const zv = graph.addInitializer(rep(z), graph.uniqueName(`${n.name}_input_zero_point`));
    n.setInput(0, g.op('DequantizeLinear', [dq.input(0), sv, zv], { axis: 1 }, { name: `${n.name}_float_input_DequantizeLinear` }));
  }
}
