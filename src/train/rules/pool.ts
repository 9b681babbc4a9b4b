/**
 * Gradient rules for MaxPool, AveragePool and GlobalAveragePool.
 *
 * MaxPool: y[w] = max over the window's taps t (row-major, dilated, pads excluded) of x[pos(w,t)].
 *   dx[i] = Σ_w dy[w] · [i = pos(w, t*(w))],   t*(w) = the FIRST tap holding the maximum
 * — exactly one element per window gets the window's gradient, as in PyTorch and ONNX's Indices.
 * (A mask x == upsampled max sends it to every tied element; ReLU'd Fashion-MNIST backgrounds tie
 * all the time.)
 *
 *   disjoint windows (s ≥ d·(k−1) + 1 on every axis; any pads, ceil_mode, rank):
 *     the forward MaxPool gets its Indices output (flat positions in x, storage_order 0; ORT's
 *     kernel keeps the first maximum, ties included) and MaxUnpool(dy, Indices, shape of x)
 *     scatters each window's dy to its one element, zeros elsewhere.
 *     Measured on onnxruntime-node 1.30 CPU, ref-cnn Adam step at batch 64, 1 thread, CPU time
 *     per step (median of 72 steps, interleaved with the alternative in one process): 30.1 ms
 *     against 35.5 ms for the previous SpaceToDepth → ArgMax over the b² taps → Gather of tap
 *     offsets → MaxUnpool chain (−15%; −19% with training-graph.ts's Relu/MaxPool swap). The
 *     Indices kernel is 3.7× slower than MLAS's plain MaxPool (alone, 2×2 on [64,16,28,28]:
 *     3.07 against 0.84 ms CPU; + MaxUnpool 4.7 ms; not the 20× the prototype saw), but it
 *     replaces five passes over the activations (in the step's profile SpaceToDepth took 1.0 ms,
 *     ArgMax 1.2, Gather 1.9 for pool1), and it beat four strided Slices + Max + first-maximum
 *     masks (Equal/And/Not) + an interleaving Transpose (10.1 ms for the same pool).
 *     Re-checked in the whole ref-cnn Adam step (batch 64, 1 thread, ORT 1.30; per-node minimum over
 *     150 profiled steps): MaxPool with Indices is the step's largest op family, pool1 3.3 + pool2
 *     1.9 ms of 18.6 ms kernel time (plain MaxPool: 0.23 ms for both), MaxUnpool 0.7 ms. Index-free
 *     forward pools with the indices rebuilt from x did not make the step faster (process CPU time
 *     per step, 160–300 steps per side in alternating blocks, A/B in one process): SpaceToDepth →
 *     ArgMax over the b² taps → flat index (int64 Div/Mul/Add, or one GatherElements from a constant
 *     table) → MaxUnpool: 1.01× and 0.98–1.03× (SpaceToDepth 1.2, ArgMax 1.6, index 1.1 ms, plus
 *     NCHWc reorders around the plain MaxPool); the same ArgMax routed by Equal/Where and
 *     DepthToSpace: 1.19× (DepthToSpace alone ≈ the Indices MaxPool); 2×2 only, the four taps as
 *     stride-2 Slices, first maximum by strict Greater of the row maxima and within the row, the
 *     offset by Where, + base → MaxUnpool: 1.10–1.14× (a stride-2 Slice of the innermost axis took
 *     ≈ 0.5 ms for pool1, each int64 Where ≈ 0.45 ms). All were exact (bitwise equal step outputs),
 *     so the choice is speed only. Also measured (2026-11-25, wall ms per step, 320 steps per side
 *     in alternating blocks): a plain forward MaxPool, then Equal(x, window max spread back by a 0/1
 *     MatMul + Concat) · priority H·W − p (p the position in the plane), a second plain MaxPool
 *     over [N·C, 1, H, W] picking each window's first maximum, the flat index H·W − that →
 *     MaxUnpool: exact (weights bitwise equal after 40 Adam steps), and its kernels sum to ~2 ms
 *     less than Indices + MaxUnpool in ORT's profile, but the step was not faster: 0.98× (1 thread)
 *     and 1.02× (2 threads) median wall time.
 *   overlapping windows (MaxUnpool would overwrite where windows share an element):
 *     x padded with −∞ → patches [N, C, K, O] by one Gather with a constant tap table →
 *     ArgMax over K → one-hot → Where(one-hot, dy, 0) → Σ over windows as a ConvTranspose with
 *     the K one-hot taps as kernel (conv.ts sumWindows): overlapping windows add up.
 *
 * AveragePool: y[w] = Σ_t x[pos(w,t)] / count(w), with ORT's count: per axis the window
 *   [o·s − pb, min(o·s − pb + k·d, i + pe)) counted in dilated taps (count_include_pad = 1) or only
 *   taps inside the input (count_include_pad = 0); the product over axes.
 *   dx = Σ over windows of dy[w]/count(w) = ConvTranspose(dy/count, ones kernel) (sumWindows).
 *
 * GlobalAveragePool: dx = dy / (H·W…) broadcast over space, as one outer product MatMul
 *   [N·C, 1] × [1, H·W] (ORT's Expand over size-1 inner axes is far slower).
 */
import { LitheError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import { Value, type Node } from '../../graph/ir.js';
import { Tensor } from '../../graph/tensor.js';
import { DataType } from '../../onnx/proto.js';
import type { GradRuleTable } from '../rule.js';
import { staticShape, sumWindows, windowGeometry, type Geometry } from './conv.js';

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const unravel = (f: number, dims: readonly number[]) => dims.map((_, a) => Math.floor(f / prod(dims.slice(a + 1))) % dims[a]!);

/** Pool geometry from the node; the output size comes from the (static) output itself. */
function poolGeometry(node: Node): { geo: Geometry; xs: number[]; os: number[] } {
  const xs = staticShape(node.input(0)!, node);
  const os = staticShape(node.output(0), node).slice(2);
  const k = node.getInts('kernel_shape');
  if (!k) throw new LitheError('E_BAD_MODEL', `${node.describe()}: no kernel_shape`);
  return { geo: windowGeometry(node, xs.slice(2), k), xs, os };
}

/** Taps as K one-hot kernels [K, 1, k…]: tap f picks kernel position f (row-major). */
function tapKernels(g: GraphBuilder, k: readonly number[]): Value {
  const K = prod(k);
  const data = new Float32Array(K * K);
  for (let f = 0; f < K; f++) data[f * K + f] = 1;
  return g.Constant(Tensor.fromArray(DataType.FLOAT, [K, 1, ...k], data));
}

/** 0…K−1 as int64 of shape [K, 1, …] with `trailing` ones, to compare with an argmax. */
function iota(g: GraphBuilder, K: number, trailing: number): Value {
  return g.Constant(Tensor.fromArray(DataType.INT64, [K, ...Array<number>(trailing).fill(1)], Array.from({ length: K }, (_, i) => i)));
}

/** Where(one-hot of `argmax` over axis `axis`, dy, 0): the window gradient routed to one tap. */
function routeToArgmax(g: GraphBuilder, argmax: Value, dy: Value, K: number, trailing: number): Value {
  const hit = g.Equal(argmax, iota(g, K, trailing));
  return g.Where(hit, dy, g.zero(dy.dtype ?? DataType.FLOAT));
}

/** No two windows share an element on any axis: s ≥ d·(k − 1) + 1. */
export function disjointWindows(geo: Geometry): boolean {
  return geo.k.every((k, a) => geo.s[a]! >= geo.d[a]! * (k - 1) + 1);
}

/**
 * MaxPool gradient through the forward node's Indices output (added here when the node has none):
 * MaxUnpool scatters dy to the flat positions of x. Null when the node's indices are column-major.
 */
export function maxPoolGradIndices(g: GraphBuilder, node: Node, dy: Value, geo: Geometry, xs: readonly number[]): Value | null {
  if (node.getInt('storage_order', 0) !== 0) return null;
  let indices = node.outputs[1];
  if (!indices) {
    indices = new Value(g.graph.uniqueName(`${node.name || 'MaxPool'}.indices`));
    node.appendOutput(indices);
    indices.setTensorType(DataType.INT64, node.output(0).shape!);
  }
  return g.op('MaxUnpool', [dy, indices, g.ints([...xs])], { kernel_shape: geo.k, strides: geo.s, pads: [...geo.pb, ...geo.pe] });
}

/** MaxPool gradient for any windows: −∞ padding, Gather of patches, ArgMax, ConvTranspose. */
export function maxPoolGradPatches(g: GraphBuilder, x: Value, dy: Value, geo: Geometry, xs: readonly number[], os: readonly number[]): Value {
  const [n, c] = [xs[0]!, xs[1]!];
  const is = xs.slice(2);
  // Padded grid: the input after pb, extended to wherever the last window reaches (ceil_mode).
  const reach = os.map((o, a) => geo.s[a]! * (o - 1) + geo.d[a]! * (geo.k[a]! - 1) + 1);
  const padded = is.map((i, a) => Math.max(i + geo.pb[a]!, reach[a]!));
  const endPad = padded.map((p, a) => p - is[a]! - geo.pb[a]!);
  const needsPad = [...geo.pb, ...endPad].some((p) => p > 0);
  const xp = needsPad ? g.Pad(x, [0, 0, ...geo.pb, 0, 0, ...endPad], { value: -Infinity }) : x;
  const K = prod(geo.k);
  const O = prod(os);
  const table = new Array<number>(K * O);
  for (let t = 0; t < K; t++) {
    const tap = unravel(t, geo.k);
    for (let w = 0; w < O; w++) {
      const o = unravel(w, os);
      table[t * O + w] = o.reduce((acc, oa, a) => acc * padded[a]! + oa * geo.s[a]! + tap[a]! * geo.d[a]!, 0);
    }
  }
  const flat = g.Reshape(xp, [n, c, prod(padded)]);
  const patches = g.Gather(flat, g.Constant(Tensor.fromArray(DataType.INT64, [K, O], table)), { axis: 2 });
  const argmax = g.ArgMax(patches, { axis: 2, keepdims: 1 });
  const routed = routeToArgmax(g, argmax, g.Reshape(dy, [n, c, 1, O]), K, 1);
  const dx = sumWindows(g, g.Reshape(routed, [n * c, K, ...os]), tapKernels(g, geo.k), geo, is, os);
  return g.Reshape(dx, xs);
}

/** ORT's divisor of every AveragePool window, flat over the output positions. */
export function averagePoolCounts(geo: Geometry, is: readonly number[], os: readonly number[], includePad: boolean): number[] {
  const perAxis = os.map((o, a) =>
    Array.from({ length: o }, (_, j) => {
      const [k, s, d, pb, pe, i] = [geo.k[a]!, geo.s[a]!, geo.d[a]!, geo.pb[a]!, geo.pe[a]!, is[a]!];
      const start = j * s - pb;
      const end = Math.min(start + k * d, i + pe);
      if (includePad) return 1 + Math.floor((end - start - 1) / d);
      let inside = 0;
      for (let p = start; p < end; p += d) if (p >= 0 && p < i) inside++;
      return inside;
    }),
  );
  return Array.from({ length: prod(os) }, (_, w) => unravel(w, os).reduce((acc, j, a) => acc * perAxis[a]![j]!, 1));
}

export const poolRules: GradRuleTable = {
  MaxPool: (g, node, [dy]) => {
    const { geo, xs, os } = poolGeometry(node);
    const x = node.input(0)!;
    const viaIndices = disjointWindows(geo) ? maxPoolGradIndices(g, node, dy!, geo, xs) : null;
    return [viaIndices ?? maxPoolGradPatches(g, x, dy!, geo, xs, os)];
  },

  AveragePool: (g, node, [dy]) => {
    const { geo, xs, os } = poolGeometry(node);
    const [n, c] = [xs[0]!, xs[1]!];
    const counts = averagePoolCounts(geo, xs.slice(2), os, node.getInt('count_include_pad', 0) === 1);
    const uniform = counts.every((k) => k === counts[0]);
    // A window with no input tap (count 0) has y = 0 whatever x is: its gradient is 0.
    const inv = counts.map((k) => (k > 0 ? 1 / k : 0));
    const scale = uniform ? g.scalar(inv[0]!) : g.Constant(Tensor.fromArray(DataType.FLOAT, os, inv));
    const scaled = g.Reshape(g.Mul(dy!, scale), [n * c, 1, ...os]);
    const ones = g.Constant(Tensor.fromArray(DataType.FLOAT, [1, 1, ...geo.k], new Array<number>(prod(geo.k)).fill(1)));
    return [g.Reshape(sumWindows(g, scaled, ones, geo, xs.slice(2), os), xs)];
  },

  GlobalAveragePool: (g, node, [dy]) => {
    const xs = staticShape(node.input(0)!, node);
    const area = prod(xs.slice(2));
    const spread = g.Constant(Tensor.fromArray(DataType.FLOAT, [1, area], new Array<number>(area).fill(1 / area)));
    return [g.Reshape(g.MatMul(g.Reshape(dy!, [xs[0]! * xs[1]!, 1]), spread), xs)];
  },
};
