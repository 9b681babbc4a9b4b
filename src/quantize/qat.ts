/**
 * Quantization-aware training (QAT): static int8 quantization whose weights and ranges are then
 * fine-tuned with the quantization error inside every training step.
 *
 *   copy → fold BatchNorm → plan (plan.ts) → calibrate the planned tensors (collect.ts, the same
 *   data and method as static) → insert Q/DQ (qdq.ts): this is exactly static's model
 *   → fake quantization (qat-graph.ts): float weights and biases become trainable again, every
 *     scale becomes s₀·eᵘ with a trainable log-scale u
 *   → train `epochs` epochs with the Trainer (train/trainer.ts): forward through real
 *     QuantizeLinear/DequantizeLinear ops, backward with the clipped straight-through estimator
 *     (train/rules/quant.ts)
 *   → freeze (qat-graph.ts): static's QDQ format with the trained scales, int8 weights, int32 biases
 *
 * Scales are learned (LSQ, Esser et al. 2020), not EMA statistics. Reasons: (1) a learned scale
 * is an ordinary parameter, so the Trainer's parameter/optimizer-state feedback carries it with no
 * new state outputs in the training graph (EMA min/max would need per-step statistics outputs that
 * the training graph does not have); (2) LSQ trades clipping against rounding error by the loss
 * instead of tracking the extreme values an outlier sets; (3) starting from the calibrated s₀ with
 * u = 0, step 0 is exactly the static model, and with the log parametrization a small lr moves
 * each scale by a small relative amount. Weight scales are learned the same way (PyTorch's default
 * recomputes them from max|W| every step; here they start at max|W|/127 per channel and follow the
 * loss). Zero points stay fixed.
 *
 * With zero epochs the result is static's model (the test checks it node for node in ORT outputs).
 */
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import type { Dataset } from '../data/dataset.js';
import { Trainer, type EpochInfo, type TrainerOptions } from '../train/trainer.js';
import type { CalibrationMethod } from './calibrate.js';
import type { CalibrationProgress, FeedSource } from './collect.js';
import { quantRange } from './params.js';
import { planStatic, type PlanOptions } from './plan.js';
import { insertQdq, type QdqOptions } from './qdq.js';
import { fakeQuantize, freezeQat, recordFloatWeights } from './qat-graph.js';
import { calibrate, checkQuantizable, prepareStatic, type CalibrationStats, type NodeReport } from './static.js';

/** The Trainer's options for the fine-tuning (trainer.ts; preprocess as for the calibration feeds), the QDQ and plan options, and: */
export interface QatOptions
  extends Partial<QdqOptions>,
    PlanOptions,
    Pick<TrainerOptions, 'batch' | 'optimizer' | 'seed' | 'threads' | 'preprocess' | 'onStep' | 'onEpochEnd'> {
  /** Training data (the train split) and, optionally, a test set evaluated after each epoch (fake-quant model). */
  train: Dataset;
  test?: Dataset;
  /** Train on these samples of `train` only (one pass = one epoch). */
  subset?: Uint32Array;
  /** Epochs of fine-tuning; 0 returns the static model. */
  epochs: number;
  /** Default 1e-4 (fine-tuning a trained model). */
  lr?: number;
  method?: CalibrationMethod;
  percentile?: number;
  onBatch?: (p: CalibrationProgress) => void;
}

export interface ScaleChange {
  tensor: string;
  initial: number;
  final: number;
}

export interface QatReport {
  mode: 'qat';
  nodes: NodeReport[];
  notes: string[];
  calibration: CalibrationStats;
  training: EpochInfo[];
  /** Activation scales (one per range root) before and after training. */
  scales: ScaleChange[];
}

export async function quantizeQat(input: Model, calibration: FeedSource, opts: QatOptions): Promise<{ model: Model; report: QatReport }> {
  checkQuantizable(input, opts.exclude);
  if (!(Number.isInteger(opts.epochs) && opts.epochs >= 0)) throw new LitheError('E_USAGE', `--epochs must be a non-negative integer, got ${opts.epochs}`);
  if (opts.lr !== undefined && !(opts.lr > 0)) throw new LitheError('E_USAGE', `--lr must be a positive number, got ${opts.lr}`);
  const prep = prepareStatic(input, opts, 'QAT');
  const { model, qdq: qdqOpts } = prep;
  const plan = planStatic(model, { ...opts, symmetricActivations: qdqOpts.symmetricActivations });
  const { ranges: byName, stats } = await calibrate(model, plan.calibrate.map((v) => v.name), calibration, opts);
  const recorded = recordFloatWeights(plan);
  insertQdq(model, plan, new Map(plan.calibrate.map((v) => [v, byName.get(v.name)!] as const)), qdqOpts);
  const weightRange = quantRange(qdqOpts.weightType, { symmetric: qdqOpts.weightType === 'int8', reduceRange: qdqOpts.reduceRange });
  const fq = fakeQuantize(model, plan, recorded, weightRange);
  const initial = new Map(fq.activations.map((a) => [a.root.name, scaleOf(a.s0.initializer!)] as const));

  let training: EpochInfo[] = [];
  if (opts.epochs > 0) {
    const trainer = new Trainer(model, {
      epochs: opts.epochs,
      batch: opts.batch ?? 64,
      lr: opts.lr ?? 1e-4,
      optimizer: opts.optimizer ?? { name: 'adam' },
      seed: opts.seed ?? 0,
      threads: opts.threads,
      trainable: fq.trainable,
      preprocess: opts.preprocess,
      evaluate: !!opts.test,
      onStep: opts.onStep,
      onEpochEnd: opts.onEpochEnd,
    });
    try {
      training = await trainer.fit(opts.train, opts.test, { subset: opts.subset });
      for (const name of fq.trainable) {
        const t = trainer.feeds.get(name)!;
        model.graph.addInitializer(Tensor.fromArray(t.dtype, t.dims, t.data as Float32Array), name);
      }
    } finally {
      await trainer.close();
    }
  }
  freezeQat(fq, weightRange);

  const seen = new Set<string>();
  const scales = fq.activations
    .filter((a) => !seen.has(a.root.name) && seen.add(a.root.name))
    .map((a) => ({ tensor: a.root.name, initial: initial.get(a.root.name)!, final: scaleOf(a.s0.initializer!) }));
  const nodes = plan.decisions.map((d) => ({ name: d.node.name, opType: d.node.opType, quantized: d.quantized, reason: d.reason }));
  const notes = [...(prep.notes ?? []), `fine-tuned ${opts.epochs} epoch${opts.epochs === 1 ? '' : 's'} with fake quantization (learned scales)`];
  for (const e of training)
    notes.push(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train top-1 ${(100 * e.trainAccuracy).toFixed(2)}%${e.test ? `, test top-1 (fake-quant) ${(100 * e.test.top1).toFixed(2)}%` : ''}, ${e.seconds.toFixed(1)} s`);
  if (training.length) notes.push(`activation scales: ${scales.map((s) => `${s.tensor} ${s.final >= s.initial ? '+' : ''}${((100 * (s.final - s.initial)) / s.initial).toFixed(2)}%`).join(', ')}`);
  return { model, report: { mode: 'qat', nodes, notes, calibration: stats, training, scales } };
}

const scaleOf = (t: Tensor): number => (t.toArray() as Float32Array)[0]!;
