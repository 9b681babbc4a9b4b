/**
 * Mini-batches from a Dataset: seeded shuffling, uint8 → float32 conversion per batch, NCHW or
 * NHWC, and stratified subset selection.
 *
 *   x = (pixel · scale − mean[c]) / std[c]    scale = 1/255 by default, so x ∈ [0, 1]
 *
 * Only the batch being produced is float32; the dataset stays uint8. A shuffled epoch is a
 * permutation drawn from `seed` (same seed → same order on every machine); pass seed + epoch for
 * a new order each epoch.
 */
import { LitheError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { sampleBytes } from './dataset.js';
import { Rng } from './rng.js';
import type { Layout } from './image.js';

export interface Batch {
  /** Float32 pixels, B×C×H×W (nchw) or B×H×W×C (nhwc). */
  x: Float32Array;
  dims: number[];
  labels: Int32Array;
  /** Which dataset samples this batch holds, in order. */
  indices: Uint32Array;
}

export interface BatchOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  /** Drop a final batch smaller than batchSize (training wants fixed shapes). */
  dropLast?: boolean;
  layout?: Layout;
  /** Draw only from these samples (e.g. from stratifiedIndices); default all. */
  subset?: ArrayLike<number>;
  scale?: number;
  mean?: number[];
  std?: number[];
}

/**
 * How a sample's 0–255 bytes become the model's input: layout (default NCHW), then
 * x = (p·scale − mean[c]) / std[c] (default scale 1/255, mean 0, std 1). A model trained on
 * normalised images (PyTorch's Normalize) must be calibrated, fine-tuned and evaluated with the
 * same values.
 */
export type Preprocess = Pick<BatchOptions, 'layout' | 'scale' | 'mean' | 'std'>;

/** The sample order of one pass: subset or 0..size-1, shuffled when asked. */
export function epochOrder(ds: Dataset, opts: Pick<BatchOptions, 'shuffle' | 'seed' | 'subset'>): Uint32Array {
  let order: Uint32Array;
  if (opts.subset) {
    order = Uint32Array.from(opts.subset);
    for (const i of order) if (i >= ds.size) throw new RangeError(`subset index ${i} is outside ${ds.name} (size ${ds.size})`);
  } else {
    order = new Uint32Array(ds.size);
    for (let i = 0; i < ds.size; i++) order[i] = i;
  }
  if (opts.shuffle) new Rng(opts.seed ?? 0).shuffle(order);
  return order;
}

export function batchCount(ds: Dataset, opts: Pick<BatchOptions, 'batchSize' | 'dropLast' | 'subset'>): number {
  const n = opts.subset ? opts.subset.length : ds.size;
  return opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
}

function perChannel(v: number[] | undefined, c: number, fallback: number, what: string): Float32Array {
  if (v === undefined) return new Float32Array(c).fill(fallback);
  if (v.length !== 1 && v.length !== c) throw new LitheError('E_USAGE', `${what} has ${v.length} values for ${c} channels`);
  return Float32Array.from({ length: c }, (_, i) => v[v.length === 1 ? 0 : i]!);
}

/** Assembles the samples `indices` into one float32 batch. */
export function makeBatch(ds: Dataset, indices: Uint32Array, opts: Preprocess = {}): Batch {
  const [c, h, w] = ds.sampleShape as [number, number, number];
  const hw = h * w;
  const per = sampleBytes(ds);
  const scale = opts.scale ?? 1 / 255;
  const mean = perChannel(opts.mean, c, 0, 'mean');
  const std = perChannel(opts.std, c, 1, 'std');
  // (p·scale − m)/s = p·a + b, computed once per channel, in float64 so that only the final
  // store rounds (with mean 0, std 1 the result is exactly fround(p·scale))
  const a = Array.from(mean, (_, ch) => scale / std[ch]!);
  const b = Array.from(mean, (m, ch) => -m / std[ch]!);
  const nhwc = opts.layout === 'nhwc';
  const x = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const s = indices[k]!;
    labels[k] = ds.labels[s]!;
    const src = s * per;
    const dst = k * per;
    for (let ch = 0; ch < c; ch++) {
      const ac = a[ch]!;
      const bc = b[ch]!;
      const from = src + ch * hw;
      if (!nhwc || c === 1) {
        const to = dst + ch * hw; // with one channel NHWC and NCHW are the same bytes
        for (let p = 0; p < hw; p++) x[to + p] = ds.images[from + p]! * ac + bc;
      } else {
        for (let p = 0; p < hw; p++) x[dst + p * c + ch] = ds.images[from + p]! * ac + bc;
      }
    }
  }
  const dims = nhwc ? [indices.length, h, w, c] : [indices.length, c, h, w];
  return { x, dims, labels, indices };
}

/** Yields the batches of one pass over the dataset (or `subset`). */
export function* batches(ds: Dataset, opts: BatchOptions): Generator<Batch> {
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) throw new LitheError('E_USAGE', `batch size must be a positive integer, got ${opts.batchSize}`);
  if (ds.sampleShape.length !== 3) throw new LitheError('E_BAD_INPUT', `${ds.name}: batching needs CHW samples, got shape [${ds.sampleShape.join(', ')}]`);
  const order = epochOrder(ds, opts);
  const count = batchCount(ds, { ...opts, subset: order });
  for (let i = 0; i < count; i++) {
    yield makeBatch(ds, order.subarray(i * opts.batchSize, Math.min(order.length, (i + 1) * opts.batchSize)), opts);
  }
}

/**
 * `perClass` samples of every class, chosen at random with `seed`, returned in ascending index
 * order (so a subset is a stable, readable list). Classes with fewer samples are an error, since a
 * silently unbalanced "balanced" subset would skew every accuracy computed on it.
 */
export function stratifiedIndices(labels: ArrayLike<number>, perClass: number, seed: number, numClasses?: number): Uint32Array {
  let k = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < labels.length; i++) k = Math.max(k, labels[i]! + 1);
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l >= k) throw new RangeError(`label ${l} at ${i} is not below numClasses ${k}`);
    byClass[l]!.push(i);
  }
  const rng = new Rng(seed);
  const out: number[] = [];
  for (const [cls, idx] of byClass.entries()) {
    if (idx.length < perClass) throw new LitheError('E_BAD_INPUT', `class ${cls} has ${idx.length} samples, fewer than the ${perClass} asked for`);
    rng.shuffle(idx);
    out.push(...idx.slice(0, perClass));
  }
  return Uint32Array.from(out).sort();
}
