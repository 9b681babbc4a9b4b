/**
 * The distillation loss (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"):
 *
 *   L = α·CE(y, s) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)) + β·Σᵢ mean((Aᵢ ∗ fˢᵢ − fᵗᵢ)²)
 *
 * s, t are the student's and the teacher's logits [N, C], y the labels, T the temperature, α the
 * weight of the hard labels; every term is a mean over the batch. Why T²: with p = softmax(·/T),
 *
 *   ∂KL/∂sⱼ = (pₛⱼ − pₜⱼ)/T,   and for T large  pₛⱼ − pₜⱼ ≈ (sⱼ − tⱼ)/(C·T)  (zero-mean logits)
 *
 * so the soft-target gradient shrinks as 1/T²; the factor T² keeps it on the scale of the
 * hard-label gradient whatever T is, and α keeps its meaning when T changes.
 * The last term is feature distillation (features.ts), weight β, absent without --features.
 *
 * The teacher's outputs reach the loss as `TeacherValues`: graph inputs fed per batch (cached or
 * computed by a separate run), or the frozen teacher copied into the same graph (teacher.ts).
 */
import { LitheError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { crossEntropy, kdLoss, mse, type Loss } from '../train/losses.js';

/** Graph input that carries the teacher's logits [N, C] when they are fed. */
export const TEACHER_LOGITS = 'teacher_logits';
/** Graph input that carries teacher feature map i when it is fed. */
export const teacherFeatureInput = (i: number): string => `teacher_feature.${i}`;

/** Builds (or declares) the teacher's logits and feature maps in the graph, for batch size n. */
export type TeacherValues = (g: GraphBuilder, n: number) => { logits: Value; features: Value[] };

/** Teacher outputs as graph inputs: logits [n, C] and feature maps [n, …featureShapes[i]]. */
export function fedTeacher(classes: number, featureShapes: readonly number[][] = []): TeacherValues {
  return (g, n) => ({
    logits: g.input(TEACHER_LOGITS, DataType.FLOAT, [n, classes]),
    features: featureShapes.map((s, i) => g.input(teacherFeatureInput(i), DataType.FLOAT, [n, ...s])),
  });
}

export interface DistillLossOptions {
  /** Weight of the hard-label cross-entropy, in [0, 1]. */
  alpha: number;
  temperature: number;
  teacher: TeacherValues;
  /** Adapter outputs (student features mapped to teacher channels), one per teacher feature. */
  adapters?: readonly string[];
  /** β, the weight of the feature terms (default 1). */
  featureWeight?: number;
}

export function checkKdOptions(alpha: number, temperature: number): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new LitheError('E_USAGE', `--alpha (weight of the hard labels) must be in [0, 1], got ${alpha}`);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new LitheError('E_USAGE', `--temperature must be a positive number, got ${temperature}`);
}

export function distillationLoss(o: DistillLossOptions): Loss {
  checkKdOptions(o.alpha, o.temperature);
  const ce = crossEntropy();
  const adapters = o.adapters ?? [];
  return {
    name: 'distillation',
    labels: ce.labels,
    build(g, z, labels) {
      const n = z.shape?.[0];
      if (typeof n !== 'number') throw new LitheError('E_USAGE', `distillation: output "${z.name}" needs a static batch size`);
      const t = o.teacher(g, n);
      if (t.features.length !== adapters.length) throw new Error(`distillation: ${t.features.length} teacher features for ${adapters.length} adapters`);
      const terms: Value[] = [];
      if (o.alpha > 0) terms.push(g.Mul(ce.build(g, z, labels), g.scalar(o.alpha)));
      if (o.alpha < 1) terms.push(g.Mul(kdLoss(g, z, t.logits, o.temperature), g.scalar(1 - o.alpha)));
      adapters.forEach((name, i) => {
        const a = g.graph.findValue(name);
        if (!a) throw new Error(`distillation: adapter output "${name}" is not in the training graph`);
        terms.push(g.Mul(mse().build(g, a, t.features[i]!), g.scalar(o.featureWeight ?? 1)));
      });
      return terms.length === 1 ? terms[0]! : g.Sum(terms, { name: 'distill_loss' });
    },
  };
}
