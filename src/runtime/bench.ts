/**
 * Latency benchmark of one session: `warmup` untimed runs, then `runs` timed runs of the same
 * prepared feeds. Statistics are over the timed runs: min, mean, and nearest-rank percentiles
 * (p = the ⌈q·n⌉-th smallest sample). Throughput = batch · 1000 / mean latency (samples/s).
 * Peak RSS is the process's own maximum resident set size so far (memory.ts), which includes the
 * session's arena and weights.
 */
import { DataType } from '../onnx/proto.js';
import type { Model } from '../graph/ir.js';
import { elementCount, type TensorArray } from '../graph/tensor.js';
import { LitheError } from '../errors.js';
import { peakRss } from './memory.js';
import { createSession, type SessionOptions } from './session.js';
import type { HostTensor } from './tensors.js';

export interface LatencyStats {
  runs: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface BenchResult {
  backend: string;
  batch: number;
  threads: number | 'auto';
  inputs: { name: string; dims: number[]; dtype: string }[];
  loadMs: number;
  latency: LatencyStats;
  throughput: number;
  peakRssBytes: number;
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) throw new Error('latencyStats: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const rank = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return {
    runs: s.length,
    minMs: s[0]!,
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
    p50Ms: rank(0.5),
    p90Ms: rank(0.9),
    p99Ms: rank(0.99),
    maxMs: s[s.length - 1]!,
  };
}

/**
 * Feeds for every graph input that is not an initializer: symbolic or unknown leading dims take
 * `batch`; other symbolic dims must be given in `shapes`. Floats are uniform in [0,1) from a
 * seeded generator (the values do not affect the timing of dense kernels); integers are zeros.
 */
export function syntheticFeeds(model: Model, { batch = 1, shapes = {}, seed = 1 }: { batch?: number; shapes?: Record<string, number[]>; seed?: number } = {}): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  let state = seed >>> 0 || 1;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0), state / 2 ** 32);
  for (const v of model.graph.inputs) {
    if (v.initializer) continue;
    const shape = v.shape;
    let dims = shapes[v.name];
    if (!dims) {
      if (!shape) throw new LitheError('E_USAGE', `input "${v.name}" has no known shape; give it with --shape ${v.name}=1x3x224x224`);
      dims = shape.map((d, i) => {
        if (typeof d === 'number' && d >= 0) return d;
        if (i === 0) return batch;
        throw new LitheError('E_USAGE', `input "${v.name}" has a symbolic dim '${d ?? '?'}' at axis ${i}; give the shape with --shape ${v.name}=…`);
      });
    }
    const n = elementCount(dims);
    const dtype = v.dtype ?? DataType.FLOAT;
    let data: TensorArray;
    if (dtype === DataType.FLOAT) data = Float32Array.from({ length: n }, rand);
    else if (dtype === DataType.DOUBLE) data = Float64Array.from({ length: n }, rand);
    else if (dtype === DataType.INT64) data = new BigInt64Array(n);
    else if (dtype === DataType.INT32) data = new Int32Array(n);
    else if (dtype === DataType.UINT8 || dtype === DataType.BOOL) data = new Uint8Array(n);
    else if (dtype === DataType.INT8) data = new Int8Array(n);
    else throw new LitheError('E_UNSUPPORTED_OP', `input "${v.name}": bench cannot synthesize ${DataType[dtype]} data`);
    feeds[v.name] = { dtype, dims, data };
  }
  return feeds;
}

export interface BenchOptions extends SessionOptions {
  batch?: number;
  runs?: number;
  warmup?: number;
  shapes?: Record<string, number[]>;
  /** Called after each timed run, for progress bars. */
  onRun?: (i: number) => void;
}

/** Loads the model into a fresh session and measures it. */
export async function benchmark(model: Model, opts: BenchOptions = {}): Promise<BenchResult> {
  const batch = opts.batch ?? 1;
  const runs = opts.runs ?? 100;
  const warmup = opts.warmup ?? 10;
  const feeds = syntheticFeeds(model, { batch, shapes: opts.shapes });
  const session = await createSession(model, opts);
  try {
    const prepared = session.prepare(feeds);
    for (let i = 0; i < warmup; i++) await session.runPrepared(prepared);
    const samples = new Array<number>(runs);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.runPrepared(prepared);
      samples[i] = performance.now() - t0;
      opts.onRun?.(i);
    }
    const latency = latencyStats(samples);
    return {
      backend: session.backend,
      batch,
      threads: opts.threads && opts.threads > 0 ? opts.threads : 'auto',
      inputs: Object.entries(feeds).map(([name, t]) => ({ name, dims: t.dims, dtype: DataType[t.dtype]!.toLowerCase() })),
      loadMs: session.loadMs,
      latency,
      throughput: (batch * 1000) / latency.meanMs,
      peakRssBytes: peakRss(),
    };
  } finally {
    await session.release();
  }
}

