/**
 * Trainer: runs training-step graphs (training-graph.ts) in onnxruntime over a dataset.
 *
 *   per step   feed the batch, lr(t), t and every fed-back tensor (weights, optimizer state, BN
 *              statistics); the run returns their new values, which become the next step's feeds
 *              as they are (no copies, no JS arithmetic on weights)
 *   per epoch  a seeded shuffle (seed + epoch); batches of `batch`, and the final partial batch
 *              through a second session built for its size (both sizes are static graphs), so
 *              every sample is used, as PyTorch's DataLoader does by default (`dropLast` skips it)
 *   schedules  constant: lr;  cosine: lr·½(1 + cos(π·t/T));  onecycle (PyTorch OneCycleLR
 *              defaults): cosine from lr/25 up to lr over the first 30% of the T steps, then
 *              cosine down to lr/25/10⁴  (t = 0…T−1 counts optimizer steps)
 *   callbacks  onStep after every step, onEpochEnd after each epoch's evaluation; distillation,
 *              pruning and QAT hook in there (read or replace `trainer.feeds`)
 */
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { batchCount, batches, epochOrder, makeBatch, type Batch } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import { DataType } from '../onnx/proto.js';
import { evaluate, type EvalResult } from '../runtime/evaluate.js';
import { createSession, type Session, type SessionOptions } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { clone } from './gradcheck.js';
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
  const initial = base / 25;
  const final = initial / 1e4;
  const up = 0.3 * total - 1;
  const down = total - up - 1;
  const anneal = (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1);
  return t <= up ? anneal(initial, base, up > 0 ? t / up : 1) : anneal(base, final, down > 0 ? (t - up) / down : 1);
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

  constructor(model: Model, opts: TrainerOptions) {
    this.model = model;
    this.opts = { batch: 64, lr: 1e-3, schedule: 'constant', seed: 0, ...opts };
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
      optimizer: o.optimizer ?? { name: 'adam' },
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
      ...o.session,
    });
    const entry = { tg, session };
    this.graphs.set(batch, entry);
    return entry;
  }

  /** One optimizer step on a batch; returns the batch's mean loss and correct top-1 count. */
  async trainStep(b: Batch, lr: number): Promise<{ loss: number; correct: number }> {
    const n = b.labels.length;
    const { tg, session } = await this.graphFor(n);
    this.step++;
    const feeds: Record<string, HostTensor> = Object.fromEntries(this.feeds);
    feeds[tg.input] = { dtype: DataType.FLOAT, dims: b.dims, data: b.x };
    feeds[tg.labels] = { dtype: DataType.INT64, dims: [n], data: BigInt64Array.from(b.labels, (l) => BigInt(l)) };
    if (tg.optimizer !== 'none') {
      feeds.lr = { dtype: DataType.FLOAT, dims: [], data: Float32Array.of(lr) };
      feeds.step = { dtype: DataType.FLOAT, dims: [], data: Float32Array.of(this.step) };
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
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      let samples = 0;
      let lr = o.lr;
      for (let i = 0; i < perEpoch; i++) {
        const idx = order.subarray(i * o.batch, Math.min(order.length, (i + 1) * o.batch));
        lr = learningRate(o.schedule, o.lr, this.step, total);
        const r = await this.trainStep(makeBatch(train, idx), lr);
        lossSum += r.loss * idx.length;
        correct += r.correct;
        samples += idx.length;
        await o.onStep?.({ epoch, step: this.step, batchInEpoch: i + 1, batchesPerEpoch: perEpoch, samples: idx.length, loss: r.loss, correct: r.correct, lr });
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
  async evaluate(ds: Dataset): Promise<EvalResult> {
    const session = await createSession(this.exportInference(), { label: 'evaluation', threads: this.opts.threads });
    try {
      return await evaluate(session, batches(ds, { batchSize: 256 }), { numClasses: ds.classes.length });
    } finally {
      await session.release();
    }
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
