/**
 * The QAT forward graph and its export, both starting from the static QDQ graph (qdq.ts), so that
 * fake quantization sits exactly where static quantization puts Q/DQ and the export has
 * static's format node for node.
 *
 *   fakeQuantize   static QDQ graph → trainable float graph:
 *                    weight  DQ(W_q, s₀, z)             → DQ(Q(W, s, z), s, z),  W float, trainable
 *                    act. T  DQ(Q(T, s₀, z), s₀, z)     → DQ(Q(T, s, z), s, z)
 *                    bias    DQ(b_q int32, s_x·s_w, 0)  → b float, trainable (PyTorch and TF-MOT
 *                                                         do not fake-quantize biases either)
 *                  with s = s₀·exp(u): u is a trainable log-scale, 0 at the start (one per weight
 *                  tensor, [C] per channel; one per activation range root — tensors that share a
 *                  range, through MaxPool/Flatten, share u). Zero points stay fixed, so 0 stays
 *                  exactly representable. The gradient rules (train/rules/quant.ts) give W and T
 *                  the clipped straight-through gradient and s LSQ's step-size gradient; through
 *                  s = s₀·eᵘ, du = s·ds, so an Adam step on u is a relative change of the scale,
 *                  the same for a 0.004 and a 0.4 scale.
 *   freezeQat      trained values → static's QDQ format: s = s₀·eᵘ becomes the scale initializer,
 *                  W_q = sat(round(W/s) + z) (int8, restricted range), b_q = round(b/(s_x·s_w))
 *                  (int32), the float W, b, u and the exp/mul nodes are dropped.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model, Node, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { DataType } from '../onnx/proto.js';
import { eliminateDeadCode } from '../passes/eliminate-dead-code.js';
import { clamp, quantizeBias, roundHalfEven, type QuantRange } from './params.js';
import type { Plan } from './plan.js';
import { shieldFloatNodes } from './qdq.js';
import { integerRange } from '../train/rules/quant.js';

/** A weighted node's float weight and bias, recorded before insertQdq replaces them. */
export interface FloatWeights {
  node: Node;
  weight: Value;
  bias?: Value;
}

/** Where the fake quantizers are and which initializers are trainable. */
export interface FakeQuantGraph {
  model: Model;
  plan: Plan;
  weights: { node: Node; weight: Value; bias?: Value; logScale: Value; dq: Node; quantize: Node; s0: Value }[];
  activations: { value: Value; root: Value; logScale: Value; quantize: Node; dq: Node; s0: Value }[];
  /** Trainable initializer names: float weights and biases, log-scales, other float parameters. */
  trainable: string[];
}

/** The float weights and biases of the plan's quantized weighted nodes (call before insertQdq). */
export function recordFloatWeights(plan: Plan): FloatWeights[] {
  return plan.decisions
    .filter((d) => d.quantized && d.family === 'weighted' && d.node.input(1)?.initializer)
    .map((d) => ({ node: d.node, weight: d.node.input(1)!, bias: d.node.input(2)?.initializer ? d.node.input(2)! : undefined }));
}

const zerosLike = (v: Value, name: string, graph: Model['graph']) => {
  const t = v.initializer!;
  return graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...t.dims], new Float32Array(t.size)), graph.uniqueName(name));
};

/** Rewrites a static QDQ graph (insertQdq's output, before shieldFloatNodes and DCE) into the QAT forward graph, in place. */
export function fakeQuantize(model: Model, plan: Plan, recorded: readonly FloatWeights[], weightRange: QuantRange): FakeQuantGraph {
  const graph = model.graph;
  const g = GraphBuilder.edit(model);
  const frozen = new Set<string>();
  const scaled = (s0: Value, u: Value, before: Node, name: string) => {
    g.insertBefore(before);
    frozen.add(s0.name);
    return g.Mul(s0, g.Exp(u), { name });
  };

  // weights saturate at the restricted range (int8 [−127, 127], 7-bit with reduce-range), which is
  // narrower than QuantizeLinear's: x ↦ (clip(x/s + z, qmin, qmax) − z)·s first (identity inside)
  const restrict = (w: Value, s: Value, z: Value | undefined, axis: number | undefined, name: string): Value => {
    const [tmin, tmax] = integerRange(z?.dtype);
    if (weightRange.qmin <= tmin && weightRange.qmax >= tmax) return w;
    const rank = w.shape!.length;
    const along = (v: Value) => (v.shape?.length === 1 ? g.Reshape(v, Array.from({ length: rank }, (_, i) => (i === ((axis ?? 1) + rank) % rank ? -1 : 1))) : v);
    const [sb, zb] = [along(s), z ? along(g.Cast(z, DataType.FLOAT)) : g.zero()];
    const clipped = g.Clip(g.Add(g.Div(w, sb), zb), weightRange.qmin, weightRange.qmax);
    return g.Mul(g.Sub(clipped, zb), sb, { name: `${name}.weight_restricted` });
  };
  const weights: FakeQuantGraph['weights'] = [];
  for (const { node, weight, bias } of recorded) {
    const dq = node.input(1)!.producer()!;
    const [, s0, z] = dq.inputs as Value[];
    const u = zerosLike(s0!, `${weight.name}.qat_log_scale`, graph);
    const axis = dq.getInt('axis');
    const s = scaled(s0!, u, dq, `${node.name}.weight_scale`);
    const quantize = g.op('QuantizeLinear', [restrict(weight, s, z, axis, node.name), s, z], { axis }, { name: `${node.name}.weight_QuantizeLinear` });
    dq.setInput(0, quantize);
    dq.setInput(1, s);
    if (bias) node.setInput(2, bias);
    weights.push({ node, weight, bias, logScale: u, dq, quantize: quantize.producer()!, s0: s0! });
  }

  const activations: FakeQuantGraph['activations'] = [];
  const logScales = new Map<Value, Value>();
  for (const [value, root] of plan.qdq) {
    const quantize = value.uses().find((u) => u.node.opType === 'QuantizeLinear' && u.index === 0)!.node;
    const dq = quantize.output(0).uses()[0]!.node;
    const s0 = quantize.input(1)!;
    let u = logScales.get(root);
    if (!u) logScales.set(root, (u = zerosLike(s0, `${root.name}.qat_log_scale`, graph)));
    const s = scaled(s0, u, quantize, `${quantize.name}.scale`);
    quantize.setInput(1, s);
    dq.setInput(1, s);
    activations.push({ value, root, logScale: u, quantize, dq, s0 });
  }
  eliminateDeadCode.run(model);
  graph.sortTopologically();

  // every Q/DQ scale, zero point and quantized constant stays as it is; float parameters train
  for (const n of graph.nodes) if (n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear') n.inputs.slice(1).forEach((v) => v && frozen.add(v.name));
  const params = [...graph.initializers.values()].filter((v) => v.initializer!.dtype === DataType.FLOAT && v.initializer!.dims.length >= 1 && v.isUsed());
  const logs = new Set([...weights.map((w) => w.logScale), ...logScales.values()]);
  const trainable = [...params.filter((v) => !frozen.has(v.name) && !logs.has(v)), ...logs].map((v) => v.name);
  return { model, plan, weights, activations, trainable };
}

/** s₀·eᵘ in float32, per element. */
function finalScales(s0: Value, u: Value): Float32Array {
  const a = s0.initializer!.toArray() as Float32Array;
  const b = u.initializer!.toArray() as Float32Array;
  return Float32Array.from(a, (s, i) => Math.fround(s * Math.fround(Math.exp(b[i]!))));
}

/**
 * Turns the trained fake-quant graph back into static's QDQ format, in place (the trained values
 * must already be its initializers). `weightRange` is the weights' integer range (int8 [−127, 127]).
 */
export function freezeQat(fq: FakeQuantGraph, weightRange: QuantRange): Model {
  const { model, plan } = fq;
  const graph = model.graph;
  const g = GraphBuilder.edit(model);
  for (const a of fq.activations) {
    const s = finalScales(a.s0, a.logScale);
    graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...a.s0.initializer!.dims], s), a.s0.name);
    a.quantize.setInput(1, a.s0);
    a.dq.setInput(1, a.s0);
  }
  for (const w of fq.weights) {
    const s = finalScales(w.s0, w.logScale);
    const t = w.weight.initializer!;
    const data = t.toArray() as Float32Array;
    const axis = w.dq.getInt('axis', 1);
    const perChannel = w.s0.initializer!.dims.length === 1;
    const z = w.dq.input(2)?.initializer?.toNumbers() ?? [0];
    const inner = perChannel ? t.dims.slice(axis + 1).reduce((p, d) => p * d, 1) : data.length;
    const channels = perChannel ? t.dims[axis]! : 1;
    const q = Int32Array.from(data, (x, i) => {
      const c = perChannel ? Math.floor(i / inner) % channels : 0;
      return clamp(roundHalfEven(x / s[c]!) + z[c]!, weightRange.qmin, weightRange.qmax);
    });
    const dtype = w.dq.input(2)?.dtype ?? DataType.INT8;
    const wq = graph.addInitializer(Tensor.fromArray(dtype, [...t.dims], q), graph.uniqueName(`${w.weight.name}_quantized`));
    graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...w.s0.initializer!.dims], s), w.s0.name);
    w.dq.setInput(0, wq);
    w.dq.setInput(1, w.s0);
    if (!w.bias) continue;
    const sx = (w.node.input(0)!.producer()!.input(1)!.initializer!.toArray() as Float32Array)[0]!;
    const { q: bq, scales } = quantizeBias(w.bias.initializer!.toArray() as Float32Array, sx, [...s]);
    const base = w.node.name || w.weight.name;
    const bqv = graph.addInitializer(Tensor.fromArray(DataType.INT32, [bq.length], bq), graph.uniqueName(`${w.bias.name}_quantized`));
    const bs = graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [scales.length], scales), graph.uniqueName(`${w.bias.name}_scale`));
    const bz = graph.addInitializer(Tensor.fromArray(DataType.INT32, [bq.length], new Int32Array(bq.length)), graph.uniqueName(`${w.bias.name}_zero_point`));
    g.insertBefore(w.node);
    w.node.setInput(2, g.op('DequantizeLinear', [bqv, bs, bz], { axis: 0 }, { name: `${base}.bias_DequantizeLinear` }));
  }
  shieldFloatNodes(model, plan);
  eliminateDeadCode.run(model);
  graph.sortTopologically();
  return model;
}
