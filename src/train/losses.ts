/**
 * Losses as ONNX graph fragments: each takes the model's output and the labels (both values of the
 * training graph) and returns a scalar, the mean over the batch N.
 *
 *   cross-entropy  L = −(1/N) Σₙ Σ꜀ tₙ꜀ · log softmax(zₙ)꜀,  tₙ꜀ = (1 − ε)·[c = yₙ] + ε/C
 *                  (integer labels yₙ; ε = label smoothing, PyTorch's label_smoothing)
 *   mse            L = (1/(N·D)) Σ (zₙ − tₙ)²         (float targets shaped like z; PyTorch's mean)
 *   kd             L = T²·(1/N) Σₙ KL(p_t ‖ p_s) = T²/N · Σₙ Σ꜀ p_t·(log p_t − log p_s),
 *                  p = softmax(z/T); the T² keeps gradient magnitudes independent of T (Hinton et al.)
 *
 * The one-hot target is built in the graph from the labels (Equal against 0…C−1), so the whole loss
 * uses ops that have gradient rules and no Gather/OneHot backward is needed.
 */
import { LitheError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';

export interface Loss {
  name: string;
  /** Declares the `labels` graph input that fits the model output `z` (static shape). */
  labels(g: GraphBuilder, z: Value, name: string): Value;
  /** The scalar loss. */
  build(g: GraphBuilder, z: Value, labels: Value): Value;
}

function dims(z: Value): number[] {
  const s = z.shape;
  if (!s || !s.every((d): d is number => typeof d === 'number')) throw new LitheError('E_USAGE', `loss: output "${z.name}" needs a static shape`);
  return s;
}

/** tₙ꜀ = (1 − ε)·[c = yₙ] + ε/C from int labels [N], for logits [N, C]. */
export function smoothedOneHot(g: GraphBuilder, labels: Value, classes: number, smoothing = 0): Value {
  const range = g.ints(Array.from({ length: classes }, (_, i) => i));
  const idx = labels.dtype === DataType.INT64 ? labels : g.Cast(labels, DataType.INT64);
  const hot = g.Cast(g.Equal(g.Unsqueeze(idx, [1]), range), DataType.FLOAT);
  if (!smoothing) return hot;
  return g.Add(g.Mul(hot, g.scalar(1 - smoothing)), g.scalar(smoothing / classes));
}

export function crossEntropy(opts: { labelSmoothing?: number } = {}): Loss {
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new LitheError('E_USAGE', `label smoothing must be in [0, 1), got ${eps}`);
  return {
    name: 'cross-entropy',
    labels: (g, z, name) => g.input(name, DataType.INT64, [dims(z)[0]!]),
    build(g, z, labels) {
      const [n, c] = dims(z) as [number, number];
      if (dims(z).length !== 2) throw new LitheError('E_USAGE', `cross-entropy needs logits [N, C], output "${z.name}" is [${dims(z).join(', ')}]`);
      const t = smoothedOneHot(g, labels, c, eps);
      const picked = g.ReduceSum(g.Mul(t, g.LogSoftmax(z, { axis: 1 })), undefined, { keepdims: 0 });
      return g.Mul(picked, g.scalar(-1 / n), { name: 'cross_entropy' });
    },
  };
}

export function mse(): Loss {
  return {
    name: 'mse',
    labels: (g, z, name) => g.input(name, DataType.FLOAT, dims(z)),
    build(g, z, target) {
      const d = g.Sub(z, target);
      return g.ReduceMean(g.Mul(d, d), undefined, { keepdims: 0, name: 'mse' });
    },
  };
}

/** T²·KL(softmax(t/T) ‖ softmax(s/T)), mean over the batch; `teacher` gets no gradient if it is frozen. */
export function kdLoss(g: GraphBuilder, student: Value, teacher: Value, temperature: number): Value {
  const [n] = dims(student) as [number];
  const inv = g.scalar(1 / temperature);
  const ls = g.LogSoftmax(g.Mul(student, inv), { axis: -1 });
  const lt = g.LogSoftmax(g.Mul(teacher, inv), { axis: -1 });
  const kl = g.ReduceSum(g.Mul(g.Exp(lt), g.Sub(lt, ls)), undefined, { keepdims: 0 });
  return g.Mul(kl, g.scalar((temperature * temperature) / n), { name: 'kd_loss' });
}

export const LOSSES = { 'cross-entropy': crossEntropy, mse } as const;
export type LossName = keyof typeof LOSSES;
