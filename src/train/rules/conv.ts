/**
 * Gradient rules for Conv and ConvTranspose (any number of spatial axes; groups incl. depthwise).
 *
 * Forward, per spatial axis with kernel k, stride s, dilation d, pads (pb, pe) (auto_pad resolved
 * first: SAME_* total = max(0, (⌈i/s⌉−1)·s + d·(k−1) + 1 − i), SAME_UPPER puts ⌊total/2⌋ first,
 * SAME_LOWER ⌈total/2⌉; VALID is 0):
 *
 *   y[n,m,o] = b[m] + Σ_{c∈group(m), a} W[m,c,a] · xp[n,c, o·s + a·d],   xp = x padded by (pb, pe)
 *
 * Gradients:
 *   dx = ConvTranspose(dy, W; group, s, d, pads (pb, pe′), output_padding op)
 *        where full = s·(Ho−1) + d·(k−1) + 1 and pe′ − op = full − pb − H, so that the result has
 *        exactly the input's size (rows no window reaches get 0).
 *   dW[m,c,a] = Σ_{n,o} dy[n,m,o] · xp[n,c, o·s + a·d]
 *        = a Conv with batch and channels swapped: input xᵀ [C/g, g·N, H…] (per-group channels
 *        folded into the channel axis, so one grouped Conv does every group), weight dyᵀ [M, N, Ho…],
 *        group g, stride d and dilation s (exchanged), pads (pb, pe″), then [C/g, M, k′…] → Slice
 *        to k when the tail of x reaches no window (k′ > k) → Transpose to [M, C/g, k…].
 *        pe″ = max(0, s·(Ho−1) + d·(k−1) + 1 − H − pb) ≤ pe: only the end padding a window reads.
 *   db[m] = Σ_{n,o} dy[n,m,o]
 *
 * ConvTranspose (y = ConvTranspose(x, W), W [Cin, Cout/g, k…]) is the adjoint of a Conv whose input
 * has y's shape, so its rules are the same two ops with roles exchanged:
 *   dx = Conv(dy, W; group, s, d, pads (pb, max(0, pe − op)))
 *   dW = the swapped Conv above with input dy and output gradient x;   db = Σ dy over N and space.
 * ConvTranspose with auto_pad SAME_* or output_shape is not supported (ORT and the ONNX spec have
 * disagreed on how those split the padding).
 *
 * Group-1 weight gradient by taps (convWeightGradTaps): one batched MatMul per kernel tap over a
 * strided Slice of xp, where that measured faster than the swapped Conv (onnxruntime-node 1.30 CPU,
 * 1 thread, CPU ms per dW, median of 30 interleaved runs; [N,C,H→M, k, s]):
 *   1×1:  16,144,28→32  26.7 → 2.6;   16,96,56→24  65.5 → 6.4     (taps: always)
 *   3×3 s1: 64,1,28→16  1.69 → 1.03;  64,16,14→32  6.6 → 3.9;  64,32,28→32  50 → 31;
 *           64,64,14→64  50 → 37;     64,128,7→128  30 → 36 (worse: few output positions)
 *   3×3 s2: 16,3,224→32  31 → 73;     8,16,30→8  0.83 → 0.90   (worse: stride, or C = 3)
 * so taps for 1×1 kernels, and for stride-1 kernels with C = 1 or C ≥ 8 and ≥ 100 output positions.
 * Stride-1 depthwise input gradient: a Conv with the kernel flipped in space (pads d·(k−1) − p),
 * about 10–30% faster in ORT than ConvTranspose for MobileNetV2's 3×3 layers; for ordinary Convs
 * the two measured the same, so ConvTranspose (any stride) stays.
 * Re-checked in the whole ref-cnn Adam step (batch 64, 1 thread; process CPU time per step, 160
 * steps per side in alternating blocks): conv2's input gradient as that flipped-kernel Conv:
 * 1.01× (min) / 1.05× (median), so ConvTranspose stays; the weight gradient as ONE MatMul
 * [M, N·O] × [N·O, k²·C] over an NHWC im2col (Concat of the tap Slices): 1.08× slower than the
 * batched by-tap MatMuls below (the single 115-MFLOP MatMul took 2.3 ms against 1.8 ms for the
 * nine, and its Concat 1.3 ms).
 * Depthwise weight gradient: the folded grouped Conv (one Conv, group = C) measured as fast as or
 * faster than per-group Convs (Split/Concat, C nodes), a sum of k·k strided-Slice products, and
 * Gather patches · dy (1 thread, batch 16: 96@112 s2 129 ms vs 151/277/487; 144@56 s1 150 vs
 * 155/140/680; 384@14 s1 29 vs –/24/122 — best of 20 runs on a shared machine).
 */
import { LitheError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node, Value } from '../../graph/ir.js';
import type { GradRuleTable } from '../rule.js';

/** A value's static shape; rules may assume it (rule.ts), so a symbolic dim is a driver bug. */
export function staticShape(v: Value, node: Node): number[] {
  const s = v.shape;
  if (!s || s.some((d) => typeof d !== 'number')) {
    throw new LitheError('E_UNSUPPORTED_OP', `${node.describe()}: gradient needs a static shape for "${v.name}", got [${(s ?? ['?']).join(',')}]`);
  }
  return s as number[];
}

/** One sliding window per spatial axis, with auto_pad resolved into explicit pads. */
export interface Geometry {
  k: number[];
  s: number[];
  d: number[];
  pb: number[];
  pe: number[];
}

/** Resolves kernel/strides/dilations/pads/auto_pad of a Conv or pool node for inputs of spatial size `inSize`. */
export function windowGeometry(node: Node, inSize: readonly number[], kernel: readonly number[]): Geometry {
  const sp = inSize.length;
  const k = node.getInts('kernel_shape') ?? [...kernel];
  const s = node.getInts('strides') ?? Array<number>(sp).fill(1);
  const d = node.getInts('dilations') ?? Array<number>(sp).fill(1);
  const autoPad = node.getString('auto_pad', 'NOTSET');
  let pads = node.getInts('pads') ?? Array<number>(2 * sp).fill(0);
  if (autoPad === 'VALID') pads = Array<number>(2 * sp).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = inSize.map((i, a) => Math.max(0, (Math.ceil(i / s[a]!) - 1) * s[a]! + d[a]! * (k[a]! - 1) + 1 - i));
    const first = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [...first, ...total.map((t, a) => t - first[a]!)];
  }
  return { k, s, d, pb: pads.slice(0, sp), pe: pads.slice(sp, 2 * sp) };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** Attribute lists that equal their default are left out, so the emitted graph reads like the input. */
const unlessAll = (xs: number[], v: number) => (xs.every((x) => x === v) ? undefined : xs);

/**
 * Σ over windows: ConvTranspose of `v` [N, Cin, o…] with weight `w` [Cin, Cout/group, k…] under
 * geometry `geo`, landing exactly on the spatial size `inSize` (cropping pb at the start, and at the
 * end whatever lies beyond the input, or padding with zeros where no window reaches).
 */
export function sumWindows(g: GraphBuilder, v: Value, w: Value, geo: Geometry, inSize: readonly number[], outSize: readonly number[], group = 1): Value {
  const full = outSize.map((o, a) => geo.s[a]! * (o - 1) + geo.d[a]! * (geo.k[a]! - 1) + 1);
  const excess = full.map((f, a) => f - geo.pb[a]! - inSize[a]!);
  const endPad = excess.map((e) => Math.max(0, e));
  const outPad = excess.map((e) => Math.max(0, -e));
  return g.ConvTranspose(v, w, null, {
    group: group === 1 ? undefined : group,
    strides: unlessAll(geo.s, 1),
    dilations: unlessAll(geo.d, 1),
    pads: unlessAll([...geo.pb, ...endPad], 0),
    output_padding: unlessAll(outPad, 0),
  });
}

/**
 * Stride-1 depthwise Conv (group = C = M): dx = Conv(dy, W flipped in space; dilation d, pads
 * d·(k−1) − pb, d·(k−1) − pe). Null when that does not apply (it needs pads ≤ d·(k−1)).
 */
function depthwiseInputGrad(g: GraphBuilder, dy: Value, w: Value, geo: Geometry, group: number, ws: readonly number[]): Value | null {
  const reach = geo.k.map((k, a) => geo.d[a]! * (k - 1));
  const applies = ws[0] === group && ws[1] === 1 && group > 1 && geo.s.every((s) => s === 1) && [...geo.pb, ...geo.pe].every((p, i) => p <= reach[i % reach.length]!);
  if (!applies) return null;
  const spatial = range(2, 2 + geo.k.length);
  const flipped = g.Slice(w, geo.k.map(() => -1), geo.k.map((k) => -k - 1), spatial, geo.k.map(() => -1));
  return g.Conv(dy, flipped, null, {
    group,
    dilations: unlessAll(geo.d, 1),
    pads: unlessAll([...reach.map((r, a) => r - geo.pb[a]!), ...reach.map((r, a) => r - geo.pe[a]!)], 0),
  });
}

/**
 * dW[m,c,a] = Σ_{n,o} dy[n,m,o]·xp[n,c,o·s+a·d] as one grouped Conv with batch and channels
 * swapped; returns [M, C/group, k…].
 */
export function convWeightGrad(g: GraphBuilder, node: Node, x: Value, dy: Value, geo: Geometry, group: number, xs: readonly number[], ys: readonly number[]): Value {
  const [n, c] = [xs[0]!, xs[1]!];
  const sp = xs.length - 2;
  const cg = c / group;
  const spatial = range(2, 2 + sp);
  // xᵀ [C/g, g·N, H…]: channel j·N + n of the folded input is x[n, j·C/g + c′].
  let xt: Value;
  if (group === 1) xt = g.Transpose(x, [1, 0, ...spatial]);
  else if (cg === 1) xt = g.Reshape(g.Transpose(x, [1, 0, ...spatial]), [1, group * n, ...xs.slice(2)]);
  else {
    const split = g.Reshape(x, [n, group, cg, ...xs.slice(2)]);
    xt = g.Reshape(g.Transpose(split, [2, 1, 0, ...range(3, 3 + sp)]), [cg, group * n, ...xs.slice(2)]);
  }
  const dyt = g.Transpose(dy, [1, 0, ...spatial]);
  const inSize = xs.slice(2);
  const outSize = ys.slice(2);
  const reach = outSize.map((o, a) => geo.s[a]! * (o - 1) + geo.d[a]! * (geo.k[a]! - 1) + 1);
  const endPad = reach.map((r, a) => Math.max(0, r - inSize[a]! - geo.pb[a]!));
  let dw = g.Conv(xt, dyt, null, {
    group: group === 1 ? undefined : group,
    strides: unlessAll(geo.d, 1),
    dilations: unlessAll(geo.s, 1),
    pads: unlessAll([...geo.pb, ...endPad], 0),
  });
  // When the tail of x reaches no window, the swapped Conv yields more than k taps: drop them.
  const got = staticShape(dw, node).slice(2);
  if (got.some((kk, a) => kk !== geo.k[a])) dw = g.Slice(dw, geo.k.map(() => 0), geo.k, spatial);
  return g.Transpose(dw, [1, 0, ...spatial]);
}

/**
 * Group-1 weight gradient as one batched MatMul per kernel tap a (k… taps, row-major):
 *   dW[:, :, a] = Σ_n xp[n, :, a·d + s·o]  (C × O)  ·  dy[n]ᵀ  (O × M)
 * xp (x with only the padding a window reads) is sliced once per tap (strided Slice), dyᵀ [N, O, M]
 * is shared, the K products [N, C, M] are concatenated to [N, K·C, M], summed over N, and
 * reordered to [M, C, k…].
 */
export function convWeightGradTaps(g: GraphBuilder, x: Value, dy: Value, geo: Geometry, xs: readonly number[], ys: readonly number[]): Value {
  const [n, c, m] = [xs[0]!, xs[1]!, ys[1]!];
  const sp = xs.length - 2;
  const spatial = range(2, 2 + sp);
  const inSize = xs.slice(2);
  const outSize = ys.slice(2);
  const o = outSize.reduce((a, b) => a * b, 1);
  const reach = outSize.map((os, a) => geo.s[a]! * (os - 1) + geo.d[a]! * (geo.k[a]! - 1) + 1);
  const endPad = reach.map((r, a) => Math.max(0, r - inSize[a]! - geo.pb[a]!));
  const xp = [...geo.pb, ...endPad].some((p) => p > 0) ? g.Pad(x, [0, 0, ...geo.pb, 0, 0, ...endPad]) : x;
  const dyt = g.Transpose(g.Reshape(dy, [n, m, o]), [0, 2, 1]);
  const taps = geo.k.reduce((a, b) => a * b, 1);
  const parts: Value[] = [];
  for (let t = 0; t < taps; t++) {
    const tap = geo.k.map((_, a) => Math.floor(t / geo.k.slice(a + 1).reduce((p, q) => p * q, 1)) % geo.k[a]!);
    const starts = tap.map((ta, a) => ta * geo.d[a]!);
    const whole = starts.every((st, a) => st === 0 && geo.s[a] === 1 && outSize[a] === inSize[a]! + geo.pb[a]! + endPad[a]!);
    const sl = whole ? xp : g.Slice(xp, starts, starts.map((st, a) => st + geo.s[a]! * (outSize[a]! - 1) + 1), spatial, unlessAll(geo.s, 1));
    parts.push(g.MatMul(g.Reshape(sl, [n, c, o]), dyt));
  }
  const summed = g.ReduceSum(parts.length === 1 ? parts[0]! : g.Concat(parts, 1), [0], { keepdims: 0 });
  return g.Transpose(g.Reshape(summed, [...geo.k, c, m]), [sp + 1, sp, ...range(0, sp)]);
}

/** Whether convWeightGradTaps beats the swapped Conv for this shape (measurements in the header). */
function tapsPay(geo: Geometry, xs: readonly number[], ys: readonly number[]): boolean {
  if (geo.k.every((k) => k === 1)) return true;
  const c = xs[1]!;
  const positions = ys.slice(2).reduce((a, b) => a * b, 1);
  return geo.s.every((s) => s === 1) && (c === 1 || c >= 8) && positions >= 100;
}

/** Σ of `dy` over every axis but the channel axis 1 → [C]. */
export function sumButChannel(g: GraphBuilder, dy: Value, rank: number): Value {
  return g.ReduceSum(dy, [0, ...range(2, rank)], { keepdims: 0 });
}

export const convRules: GradRuleTable = {
  Conv: (g, node, [dy], needs) => {
    const [x, w, b] = [node.input(0)!, node.input(1)!, node.input(2)];
    const xs = staticShape(x, node);
    const ws = staticShape(w, node);
    const ys = staticShape(dy!, node);
    const group = node.getInt('group', 1);
    const geo = windowGeometry(node, xs.slice(2), ws.slice(2));
    const dx = needs[0] ? (depthwiseInputGrad(g, dy!, w, geo, group, ws) ?? sumWindows(g, dy!, w, geo, xs.slice(2), ys.slice(2), group)) : null;
    const dw = needs[1] ? (group === 1 && tapsPay(geo, xs, ys) ? convWeightGradTaps(g, x, dy!, geo, xs, ys) : convWeightGrad(g, node, x, dy!, geo, group, xs, ys)) : null;
    const db = b && needs[2] ? sumButChannel(g, dy!, ys.length) : null;
    return [dx, dw, db];
  },

  ConvTranspose: (g, node, [dy], needs) => {
    const [x, w, b] = [node.input(0)!, node.input(1)!, node.input(2)];
    const autoPad = node.getString('auto_pad', 'NOTSET');
    if (node.getInts('output_shape') || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      throw new LitheError('E_UNSUPPORTED_OP', `${node.describe()}: no gradient for ConvTranspose with output_shape or auto_pad ${autoPad}; give explicit pads and output_padding`);
    }
    const xs = staticShape(x, node);
    const ws = staticShape(w, node);
    const ys = staticShape(dy!, node);
    const group = node.getInt('group', 1);
    const geo = windowGeometry(node, ys.slice(2), ws.slice(2));
    const op = node.getInts('output_padding') ?? geo.k.map(() => 0);
    // The adjoint Conv reads dy with the forward pads; output_padding rows reach no x.
    const convGeo: Geometry = { ...geo, pe: geo.pe.map((p, a) => Math.max(0, p - op[a]!)) };
    const dx = needs[0]
      ? g.Conv(dy!, w, null, {
          group: group === 1 ? undefined : group,
          strides: unlessAll(geo.s, 1),
          dilations: unlessAll(geo.d, 1),
          pads: unlessAll([...convGeo.pb, ...convGeo.pe], 0),
        })
      : null;
    const dw = needs[1] ? convWeightGrad(g, node, dy!, x, convGeo, group, ys, xs) : null;
    const db = b && needs[2] ? sumButChannel(g, dy!, ys.length) : null;
    return [dx, dw, db];
  },
};
