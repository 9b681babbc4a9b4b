/**
 * Trainer: runs training-step graphs (training-graph.ts) in onnxruntime over a dataset.
 *
 *   per step   feed the batch, lr(t), t and every fed-back tensor (weights, optimizer state, BN
 *              statistics); the run returns their new values, which become the next step's feeds
 *              as they are (no copies, no JS arithmetic on weights)
 *   per epoch  a seeded shuffle (seed + epoch); batches of `batch`, and the final partial batch
 *              through a second session built for its size (both sizes are static graphs), so
 *              every sample is used, as PyTorch's DataLoader does by default (`dropLast` skips it)
 *   preprocess pixels → input (layout, scale, mean, std; data/batcher.ts), for training and evaluation
 *   augment    optional: each epoch's batches are cropped/flipped on uint8 before conversion, with
 *              a stream seeded by (seed, epoch) (data/augment.ts); evaluation never augments
 *   schedules  t = 0…T−1 counts optimizer steps over the whole run, T = epochs · batches per epoch
 *              constant  lr
 *              cosine    lr·½(1 + cos(π·t/T))
 *              onecycle  PyTorch OneCycleLR with its defaults (pct_start 0.3, div_factor 25,
 *                        final_div_factor 10⁴, anneal cos, cycle_momentum on, β₁ 0.95 → 0.85):
 *                          cos(a, b, p) = b + (a − b)·½(1 + cos(π·p)),   u = 0.3·T − 1
 *                          t ≤ u:  lr_t = cos(lr/25, lr, t/u)         β₁_t = cos(0.95, 0.85, t/u)
 *                          t > u:  lr_t = cos(lr, lr/25/10⁴, (t−u)/(T−1−u))
 *                                  β₁_t = cos(0.85, 0.95, (t−u)/(T−1−u))
 *                        β₁ moves against the lr (high momentum while the lr is low). With Adam and
 *                        AdamW, β₁_t is the graph input `beta1` and bias correction uses it, as
 *                        torch.optim.Adam with OneCycleLR does; SGD keeps its fixed momentum
 *                        (`cycleMomentum: false` keeps Adam's β₁ fixed too)
 *   decay      weightDecay λ: SGD and Adam add λ·w to the gradient (L2, torch's weight_decay);
 *              AdamW decays decoupled, w ← w·(1 − lr_t·λ) before the Adam step (torch.optim.AdamW),
 *              so the decay follows the schedule (see optimizers.ts)
 *   callbacks  onStep after every step, onEpochEnd after each epoch's evaluation; distillation,
 *              pruning and QAT hook in there (read or replace `trainer.feeds`)
 */
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { augmentSeed, Augmenter, type AugmentOptions } from '../data/augment.js';
import { batchCount, epochOrder, makeBatch, type Batch, type Preprocess } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import { DataType } from '../onnx/proto.js';
import { evaluateOnDataset } from '../runtime/dataset-eval.js';
import type { EvalResult } from '../runtime/evaluate.js';
import { createSession, type Session, type SessionOptions } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { cloneModel as clone } from '../onnx/io.js';
import type { Loss } from './losses.js';
import type { OptimizerConfig } from './optimizers.js';
import { buildTrainingGraph, type TrainingGraph } from './training-graph.js';

export type Schedule = 'constant' | 'cosine' | 'onecycle';

export interface TrainerOptions {
  epochs: number;
  batch?: number;
  lr?: number;
  optimizer?: OptimizerConfig;
  schedule?: Schedule;
  /** One-cycle only: cycle Adam's β₁ between 0.95 and 0.85 against the lr (default true, as PyTorch). */
  cycleMomentum?: boolean;
  /** Random crop (zero padding) and horizontal flip of training batches; `true` = pad 2, flip. */
  augment?: boolean | AugmentOptions;
  /** Pixels → input for training and evaluation batches (default pixel/255, NCHW). */
  preprocess?: Preprocess;
  loss?: 'cross-entropy' | 'mse' | Loss;
  labelSmoothing?: number;
  trainable?: readonly string[] | ((name: string) => boolean);
  seed?: number;
  threads?: number;
  /** Skip the final partial batch of each epoch instead of running it through a second session. */
  dropLast?: boolean;
  /** Evaluate on the test set after each epoch (default true when a test set is given). */
  evaluate?: boolean;
  session?: SessionOptions;
  onStep?: (s: StepInfo) => void | Promise<void>;
  onEpochEnd?: (e: EpochInfo) => void | Promise<void>;
}

export interface StepInfo {
  epoch: number;
  /** Optimizer step, 1-based over the whole run. */
  step: number;
  batchInEpoch: number;
  batchesPerEpoch: number;
  samples: number;
  loss: number;
  correct: number;
  lr: number;
  /** Adam's β₁ this step, when the one-cycle schedule cycles it. */
  beta1?: number;
}

export interface EpochInfo {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  test?: EvalResult;
  seconds: number;
  samplesPerSecond: number;
  lr: number;
}

/** Learning rate at optimizer step t (0-based) of T. */
export function learningRate(schedule: Schedule, base: number, t: number, total: number): number {
  if (schedule === 'constant') return base;
  if (schedule === 'cosine') return base * 0.5 * (1 + Math.cos((Math.PI * t) / total));
  return oneCycle(t, total, base / 25, base, base / 25 / 1e4);
}

/** One-cycle momentum (Adam's β₁) at optimizer step t (0-based) of T: 0.95 → 0.85 → 0.95, against the lr. */
export function oneCycleMomentum(t: number, total: number, base = 0.85, max = 0.95): number {
  return oneCycle(t, total, max, base, max);
}

/** OneCycleLR's two cosine phases: start → peak over steps 0…0.3·T−1, then peak → end at T−1. */
function oneCycle(t: number, total: number, start: number, peak: number, end: number): number {
  const up = 0.3 * total - 1;
  const down = total - up - 1;
  const anneal = (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1);
  return t <= up ? anneal(start, peak, up > 0 ? t / up : 1) : anneal(peak, end, down > 0 ? (t - up) / down : 1);
}

export class Trainer {
  readonly model: Model;
  readonly opts: TrainerOptions & { batch: number; lr: number; schedule: Schedule; seed: number };
  /** Every fed-back tensor by input name: parameters, optimizer state, BN statistics. */
  feeds = new Map<string, HostTensor>();
  private readonly graphs = new Map<number, { tg: TrainingGraph; session: Session }>();
  private step = 0;
  /** Names of the model initializers training updates (parameters, BN statistics). */
  private trained: string[] = [];
  /** Adam's β₁ is the fed graph input `beta1` (one-cycle momentum). */
  private readonly fedBeta1: boolean;

  constructor(model: Model, opts: TrainerOptions) {
    this.model = model;
    this.opts = { batch: 64, lr: 1e-3, schedule: 'constant', seed: 0, ...opts };
    const name = this.opts.optimizer?.name ?? 'adam';
    this.fedBeta1 = this.opts.schedule === 'onecycle' && this.opts.cycleMomentum !== false && (name === 'adam' || name === 'adamw');
  }

  /** The training graph and session for one static batch size, built on first use. */
  async graphFor(batch: number): Promise<{ tg: TrainingGraph; session: Session }> {
    const hit = this.graphs.get(batch);
    if (hit) return hit;
    const o = this.opts;
    const tg = buildTrainingGraph(this.model, {
      loss: o.loss ?? 'cross-entropy',
      labelSmoothing: o.labelSmoothing,
      trainable: o.trainable,
      optimizer: { ...(o.optimizer ?? { name: 'adam' }), beta1Input: this.fedBeta1 },
      batch,
    });
    if (this.feeds.size === 0) {
      for (const [k, t] of [...tg.params, ...tg.state]) this.feeds.set(k, hostOf(t));
      this.trained = [...this.feeds.keys()].filter((k) => this.model.graph.initializers.has(k));
    }
    const session = await createSession(tg.model, {
      label: `training step (batch ${batch})`,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      enableMemPattern: true,
      enableCpuMemArena: true,
      threads: o.threads,
      // Spinning workers burn the cores other processes share: 2 threads on a loaded 2-core machine
      // measured 43 ms per ref-cnn step spinning against 25 ms without (median of 72 steps).
      allowSpinning: false,
      ...o.session,
    });
    const entry = { tg, session };
    this.graphs.set(batch, entry);
    return entry;
  }

  /** One optimizer step on a batch; returns the batch's mean loss and correct top-1 count. */
  async trainStep(b: Batch, lr: number, beta1 = this.opts.optimizer?.beta1 ?? 0.9): Promise<{ loss: number; correct: number }> {
    const n = b.labels.length;
    const { tg, session } = await this.graphFor(n);
    this.step++;
    const feeds: Record<string, HostTensor> = Object.fromEntries(this.feeds);
    feeds[tg.input] = { dtype: DataType.FLOAT, dims: b.dims, data: b.x };
    feeds[tg.labels] = { dtype: DataType.INT64, dims: [n], data: BigInt64Array.from(b.labels, (l) => BigInt(l)) };
    if (tg.optimizer !== 'none') {
      feeds.lr = { dtype: DataType.FLOAT, dims: [], data: Float32Array.of(lr) };
      feeds.step = { dtype: DataType.FLOAT, dims: [], data: Float32Array.of(this.step) };
      if (this.fedBeta1) feeds.beta1 = { dtype: DataType.FLOAT, dims: [], data: Float32Array.of(beta1) };
    }
    const out = await session.run(feeds, [tg.loss, tg.logits, ...tg.feedback.values()]);
    for (const [input, output] of tg.feedback) this.feeds.set(input, out[output]!);
    return { loss: (out[tg.loss]!.data as Float32Array)[0]!, correct: countCorrect(out[tg.logits]!, b.labels) };
  }

  /** Trains for `epochs` epochs; evaluates on `test` after each. */
  async fit(train: Dataset, test?: Dataset, opts: { subset?: Uint32Array } = {}): Promise<EpochInfo[]> {
    const o = this.opts;
    if (!(Number.isInteger(o.epochs) && o.epochs > 0)) throw new LitheError('E_USAGE', `epochs must be a positive integer, got ${o.epochs}`);
    const perEpoch = batchCount(train, { batchSize: o.batch, dropLast: o.dropLast, subset: opts.subset });
    const total = perEpoch * o.epochs;
    const history: EpochInfo[] = [];
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = epochOrder(train, { shuffle: true, seed: o.seed + epoch, subset: opts.subset });
      const augmenter = o.augment ? new Augmenter(augmentSeed(o.seed, epoch), o.augment === true ? {} : o.augment) : undefined;
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      let samples = 0;
      let lr = o.lr;
      for (let i = 0; i < perEpoch; i++) {
        const idx = order.subarray(i * o.batch, Math.min(order.length, (i + 1) * o.batch));
        lr = learningRate(o.schedule, o.lr, this.step, total);
        const beta1 = this.fedBeta1 ? oneCycleMomentum(this.step, total) : undefined;
        const batch = augmenter ? { ...makeBatch(augmenter.apply(train, idx), identity(idx.length), o.preprocess), indices: idx } : makeBatch(train, idx, o.preprocess);
        const r = await this.trainStep(batch, lr, beta1);
        lossSum += r.loss * idx.length;
        correct += r.correct;
        samples += idx.length;
        await o.onStep?.({
          epoch,
          step: this.step,
          batchInEpoch: i + 1,
          batchesPerEpoch: perEpoch,
          samples: idx.length,
          loss: r.loss,
          correct: r.correct,
          lr,
          beta1,
        });
      }
      const seconds = (performance.now() - t0) / 1000;
      const info: EpochInfo = { epoch, loss: lossSum / samples, trainAccuracy: correct / samples, seconds, samplesPerSecond: samples / seconds, lr };
      if (test && o.evaluate !== false) info.test = await this.evaluate(test);
      history.push(info);
      await o.onEpochEnd?.(info);
    }
    return history;
  }

  /** Top-1/top-5 of the current weights on a dataset, through the exported inference model. */
  evaluate(ds: Dataset): Promise<EvalResult> {
    return evaluateOnDataset(this.exportInference(), 'evaluation', ds, { ...this.opts.preprocess, batch: 256, threads: this.opts.threads });
  }

  /**
   * The inference model with the trained weights and BN running statistics: the original model
   * (no training-only nodes ever entered it) with its initializers replaced.
   */
  exportInference(): Model {
    const m = clone(this.model);
    for (const name of this.trained) {
      const t = this.feeds.get(name)!;
      m.graph.addInitializer(Tensor.fromArray(t.dtype, t.dims, t.data as Float32Array), name);
    }
    return m;
  }

  async close(): Promise<void> {
    for (const { session } of this.graphs.values()) await session.release();
    this.graphs.clear();
  }
}

function identity(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

function hostOf(t: Tensor): HostTensor {
  return { dtype: t.dtype, dims: [...t.dims], data: (t.toArray() as Float32Array).slice() };
}

function countCorrect(logits: HostTensor, labels: ArrayLike<number>): number {
  const c = logits.dims[1]!;
  const d = logits.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[i * c + j]! > d[i * c + best]!) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}
