/**
 * Runs calibration in onnxruntime: the tensors to calibrate become extra graph outputs of a copy
 * of the model, the calibration feeds go through it batch by batch, and each output updates the
 * tensor's collector (calibrate.ts) before the batch is dropped. MinMax takes one pass over the
 * data; histogram methods take a second pass once the MinMax ranges fix the histogram bins.
 *
 * Feeds are checked against the model's inputs first (name, dtype, rank, fixed dims), so that a
 * mismatched calibration set is a one-line error and not an ORT failure deep in a run.
 */
import { LitheError } from '../errors.js';
import type { Model, Value } from '../graph/ir.js';
import { dtypeName } from '../graph/tensor.js';
import { batches, epochOrder, type Preprocess } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import { cloneModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { AbsHistogram, MinMaxCollector, clipRange, type MethodOptions, type Range } from './calibrate.js';

export type Feeds = Record<string, HostTensor>;
/** Calibration data; called once per pass, so it must yield the same batches every time. */
export type FeedSource = () => Iterable<Feeds> | AsyncIterable<Feeds>;

export interface CalibrationProgress {
  pass: number;
  passes: number;
  batch: number;
  samples: number;
}

export interface CollectOptions extends MethodOptions {
  /** Expected number of batches per pass, for progress (optional). */
  batchesPerPass?: number;
  onBatch?: (p: CalibrationProgress) => void;
  threads?: number;
}

/** Checks one feed set against the model's graph inputs; throws E_BAD_INPUT naming the problem. */
export function checkFeeds(model: Model, feeds: Feeds, what = 'calibration data'): void {
  for (const input of model.graph.inputs) {
    if (input.initializer) continue;
    const t = feeds[input.name];
    if (!t) throw new LitheError('E_BAD_INPUT', `${what} has no tensor for model input '${input.name}'`);
    if (input.dtype !== undefined && t.dtype !== input.dtype)
      throw new LitheError('E_BAD_INPUT', `${what} is ${dtypeName(t.dtype)}, model input '${input.name}' is ${dtypeName(input.dtype)}`);
    const shape = input.shape;
    if (!shape) continue;
    const bad = t.dims.length !== shape.length || shape.some((d, i) => typeof d === 'number' && d !== t.dims[i]);
    if (bad) {
      const want = shape.map((d) => (typeof d === 'number' ? d : (d ?? '?'))).join(',');
      throw new LitheError('E_BAD_INPUT', `${what} has shape [${t.dims.join(',')}], model input '${input.name}' expects [${want}]`);
    }
  }
}

/** Ops that carry the data input's values through unchanged or by a constant affine map. */
const PASS_THROUGH = new Set(['Add', 'Sub', 'Mul', 'Div', 'Cast', 'Identity', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze']);

/**
 * The model's data inputs and the tensors computed from them by PASS_THROUGH ops with constant
 * other operands (in-graph normalisation, (x − μ)/σ). Histogram methods never clip these: their
 * range is the data's own (every pixel value is signal, not an outlier, and what the first layer
 * loses no later layer recovers), and a flat image background piles up at one value, which pulls
 * the KL and MSE thresholds into the bulk (calibrate.ts). They keep their MinMax range.
 */
export function inputDerived(model: Model): Set<string> {
  const g = model.graph;
  const derived = new Set(g.inputs.filter((v) => !v.initializer).map((v) => v.name));
  const constant = (v: Value) => !!v.initializer || v.producer()?.opType === 'Constant';
  for (const n of g.nodes) {
    if (!PASS_THROUGH.has(n.opType)) continue;
    const ins = n.inputs.filter((v): v is Value => !!v);
    if (ins.some((v) => derived.has(v.name)) && ins.every((v) => derived.has(v.name) || constant(v))) for (const o of n.outputs) derived.add(o.name);
  }
  return derived;
}

/** Ranges of the named tensors of `model` over the calibration data. */
export async function collectRanges(model: Model, names: readonly string[], source: FeedSource, opts: CollectOptions): Promise<Map<string, Range>> {
  const copy = cloneModel(model);
  const g = copy.graph;
  for (const name of names) {
    const v = g.findValue(name);
    if (!v) throw new Error(`collectRanges: no value named "${name}"`);
    if (!g.outputs.includes(v)) g.outputs.push(v);
  }
  const passes = opts.method === 'minmax' ? 1 : 2;
  const session = await createSession(copy, { label: 'calibration model', threads: opts.threads });
  try {
    const minmax = new Map(names.map((n) => [n, new MinMaxCollector()] as const));
    await runPass(model, session, names, source, 1, passes, opts, (name, data) => minmax.get(name)!.update(data));
    const ranges = new Map(names.map((n) => [n, minmax.get(n)!.range()] as const));
    const data = inputDerived(model);
    const clipped = names.filter((n) => !data.has(n));
    if (passes === 1 || clipped.length === 0) return ranges;
    const hists = new Map(clipped.map((n) => {
      const r = ranges.get(n)!;
      return [n, new AbsHistogram(Math.max(-r.min, r.max), opts.bins ?? 2048)] as const;
    }));
    await runPass(model, session, clipped, source, 2, passes, opts, (name, data) => hists.get(name)!.update(data));
    for (const n of clipped) ranges.set(n, clipRange(ranges.get(n)!, hists.get(n)!, opts));
    return ranges;
  } finally {
    await session.release();
  }
}

async function runPass(
  model: Model,
  session: Awaited<ReturnType<typeof createSession>>,
  names: readonly string[],
  source: FeedSource,
  pass: number,
  passes: number,
  opts: CollectOptions,
  update: (name: string, data: Float32Array) => void,
): Promise<void> {
  let batch = 0;
  let samples = 0;
  for await (const feeds of source()) {
    if (batch === 0) checkFeeds(model, feeds);
    const out = await session.run(feeds, names);
    for (const name of names) {
      const t = out[name]!;
      if (!(t.data instanceof Float32Array)) throw new LitheError('E_UNSUPPORTED_OP', `tensor "${name}" is not float32; only float32 tensors can be calibrated`);
      update(name, t.data);
    }
    batch++;
    samples += Object.values(feeds)[0]?.dims[0] ?? 1;
    opts.onBatch?.({ pass, passes, batch, samples });
  }
  if (batch === 0) throw new LitheError('E_BAD_INPUT', 'calibration data is empty');
}

/**
 * Calibration data: the first `size` samples of a seeded shuffle of `ds`, as batches of 64
 * feeding the model's one (float) input. `label` names the data in errors (default ds.name).
 */
export function calibrationFeeds(model: Model, ds: Dataset, size: number, label = ds.name, preprocess: Preprocess = {}): Feeds[] {
  const inputs = model.graph.inputs.filter((v) => !v.initializer);
  if (inputs.length !== 1) throw new LitheError('E_BAD_INPUT', `${label}: calibration needs a model with one input; this one has ${inputs.length}`);
  const input = inputs[0]!;
  if (input.dtype !== undefined && input.dtype !== DataType.FLOAT)
    throw new LitheError('E_BAD_INPUT', `${label}: images are float32, model input '${input.name}' is not`);
  if (ds.size === 0) throw new LitheError('E_BAD_INPUT', `${label}: the train split is empty; nothing to calibrate on`);
  const subset = epochOrder(ds, { shuffle: true, seed: 0 }).subarray(0, Math.min(size, ds.size));
  return [...batches(ds, { batchSize: 64, subset, ...preprocess })].map((b) => ({ [input.name]: { dtype: DataType.FLOAT, dims: b.dims, data: b.x } }));
}
