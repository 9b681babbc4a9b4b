/**
 * Gradient rules: QuantizeLinear and DequantizeLinear, i.e. fake quantization for
 * quantization-aware training (QAT). Each op gets its own rule; a Q→DQ pair composes them.
 *
 *   QuantizeLinear    q = sat(round(x/s) + z)     sat clamps to [qmin, qmax] of z's type
 *                                                  (uint8 [0, 255], int8 [−128, 127]; uint8 if no z)
 *   DequantizeLinear  y = (q − z)·s
 *
 * round has derivative 0 almost everywhere, so training through it needs an estimator. The
 * straight-through estimator (Bengio et al. 2013) takes d round(u)/du = 1; saturation keeps its
 * true derivative, 0 outside the range (the "clipped" STE of PyTorch's FakeQuantize and TF-MOT).
 * With m = [lo ≤ x ≤ hi], lo = s·(qmin − z), hi = s·(qmax − z) (the representable range):
 *
 *   QuantizeLinear    dx = dq·m/s                 ds = −dq·m·x/s²        (STE)
 *   DequantizeLinear  dq = dy·s                   ds = dy·(q − z)        (exact, q taken as real)
 *   zero points       no gradient (integers)
 *
 * The integer q carries a float gradient: the driver lets QuantizeLinear's output through
 * (autodiff.ts, STRAIGHT_THROUGH). Composed, a pair y = DQ(Q(x)) gives
 *
 *   dy/dx = m                                      (1 inside the range, 0 outside; the boundary
 *                                                   values lo and hi themselves pass)
 *   dy/ds = (q − z) − m·x/s  =  round(x/s) − x/s   inside
 *                               qmin − z or qmax − z  below / above the range
 *
 * which is the step-size gradient of LSQ (Esser et al., "Learned Step Size Quantization", ICLR
 * 2020), so a scale that is a trainable function of parameters learns the range. Per-channel
 * (`axis`, s and z of shape [C]): s and z are reshaped to broadcast along the axis, and the scale
 * gradient is summed over every other axis. Blocked quantization (opset 21 block_size) is refused.
 */
import { LitheError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node, Value } from '../../graph/ir.js';
import { DataType } from '../../onnx/proto.js';
import type { GradRuleTable } from '../rule.js';

const F = DataType.FLOAT;

/** [qmin, qmax] of the integer type a QuantizeLinear saturates to (its zero point's type). */
export function integerRange(dtype: DataType | undefined): [number, number] {
  switch (dtype) {
    case undefined:
    case DataType.UINT8:
      return [0, 255];
    case DataType.INT8:
      return [-128, 127];
    case DataType.UINT16:
      return [0, 65535];
    case DataType.INT16:
      return [-32768, 32767];
    default:
      throw new LitheError('E_UNSUPPORTED_OP', `no gradient rule for quantization to ${DataType[dtype] ?? dtype} (uint8, int8, uint16, int16 are supported)`);
  }
}

/** Rank of x, its quantization axis, and whether s is per channel (1-D) rather than per tensor. */
function layout(n: Node, x: Value, s: Value): { rank: number; axis: number; perChannel: boolean } {
  if (n.getInt('block_size', 0) !== 0) throw new LitheError('E_UNSUPPORTED_OP', `${n.describe()}: no gradient rule for blocked quantization (block_size)`);
  const rank = x.shape!.length;
  const axis = n.getInt('axis', 1);
  const perChannel = (s.shape?.length ?? 0) === 1 && rank > 0;
  return { rank, axis: axis < 0 ? axis + rank : axis, perChannel };
}

/** s (or z) shaped to broadcast against x: [C] → [1, …, C, …, 1] with C at `axis`. */
function along(g: GraphBuilder, v: Value, rank: number, axis: number, perChannel: boolean): Value {
  if (!perChannel) return v;
  const dims = Array.from({ length: rank }, (_, i) => (i === axis ? -1 : 1));
  return g.Reshape(v, dims);
}

/** A broadcast-shaped scale gradient summed to s's shape ([C] along `axis`; per tensor: the driver sums it). */
function toScale(g: GraphBuilder, ds: Value, rank: number, axis: number, perChannel: boolean): Value {
  if (!perChannel) return ds;
  const others = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
  return others.length ? g.ReduceSum(ds, others, { keepdims: 0 }) : ds;
}

/** z as float, broadcast like s (0 when the node has no zero point). */
function zeroAsFloat(g: GraphBuilder, n: Node, rank: number, axis: number, perChannel: boolean): Value {
  const z = n.input(2);
  return z ? along(g, g.Cast(z, F), rank, axis, perChannel) : g.zero(F);
}

export const quantRules: GradRuleTable = {
  QuantizeLinear: (g, n, [dq], needs) => {
    const [x, s] = [n.input(0)!, n.input(1)!];
    const { rank, axis, perChannel } = layout(n, x, s);
    const [qmin, qmax] = integerRange(n.input(2)?.dtype ?? n.output(0).dtype);
    const sb = along(g, s, rank, axis, perChannel);
    const z = zeroAsFloat(g, n, rank, axis, perChannel);
    const lo = g.Mul(g.Sub(g.scalar(qmin), z), sb);
    const hi = g.Mul(g.Sub(g.scalar(qmax), z), sb);
    const inside = g.Cast(g.Not(g.op('Or', [g.Less(x, lo), g.Greater(x, hi)])), F);
    const dqIn = g.Mul(dq!, inside);
    const dqOverS = g.Div(dqIn, sb);
    return [
      needs[0] ? dqOverS : null,
      needs[1] ? toScale(g, g.Neg(g.Div(g.Mul(dqOverS, x), sb)), rank, axis, perChannel) : null,
      null,
    ];
  },
  DequantizeLinear: (g, n, [dy], needs) => {
    const [q, s] = [n.input(0)!, n.input(1)!];
    const { rank, axis, perChannel } = layout(n, q, s);
    const sb = along(g, s, rank, axis, perChannel);
    const dq = needs[0] ? g.Mul(dy!, sb) : null;
    const ds = needs[1] ? toScale(g, g.Mul(dy!, g.Sub(g.Cast(q, F), zeroAsFloat(g, n, rank, axis, perChannel))), rank, axis, perChannel) : null;
    return [dq, ds, null];
  },
};
