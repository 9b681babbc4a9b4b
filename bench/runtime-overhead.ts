/**
 * lithe bench overhead: what `benchmark()` (src/runtime/bench.ts, behind `lithe bench`) adds to
 * the cost of one inference, against a bare onnxruntime-node loop on the same model.
 *
 *   overhead = lithe / bare − 1, for p50 and for mean latency
 *
 * Both sides run MobileNetV2 (α = 1, 224×224, 1000 classes, from the builder) at batch 1, each
 * in a fresh session with the same options and the same input data, `warmup` untimed runs then
 * `runs` timed ones. The two alternate in rounds (ABBA order) so that drift in machine load hits
 * both alike. The overhead is the median over rounds of the per-round ratio lithe / bare − 1 (a
 * ratio of neighbours cancels slow drift; the median ignores a round that another process
 * spoiled); the latencies shown are each side's median over rounds of its per-round p50 (mean).
 *
 * This file imports onnxruntime-node directly, which src/ may do only inside src/runtime: the
 * baseline must not go through the code it measures.
 */
import * as ort from 'onnxruntime-node';
import { buildMobileNetV2 } from '../src/models/index.js';
import { serializeModel } from '../src/onnx/io.js';
import { benchmark, latencyStats, syntheticFeeds, type LatencyStats } from '../src/runtime/bench.js';
import { ORT_TYPE } from '../src/runtime/tensors.js';
import type { Model } from '../src/graph/ir.js';
import { median, round, target, type Benchmark, type BenchContext, type Section } from './lib.js';

interface Plan {
  rounds: number;
  warmup: number;
  runs: number;
  /** Intra-op thread counts to measure; 0 is onnxruntime's choice (one per core). */
  threads: number[];
}

const FULL: Plan = { rounds: 10, warmup: 10, runs: 40, threads: [1, 0] };
const QUICK: Plan = { rounds: 2, warmup: 3, runs: 10, threads: [1] };

/** The session options createSession (src/runtime/session.ts) passes for the node backend. */
function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableMemPattern: true,
    enableCpuMemArena: true,
    logSeverityLevel: 3,
  };
  if (threads > 0) {
    o.intraOpNumThreads = threads;
    o.interOpNumThreads = 1;
  }
  return o;
}

/** A tight loop of InferenceSession.run over tensors built once, in a fresh session. */
async function bareLoop(bytes: Uint8Array, model: Model, threads: number, plan: Plan): Promise<LatencyStats> {
  const session = await ort.InferenceSession.create(bytes, sessionOptions(threads));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(syntheticFeeds(model))) feeds[name] = new ort.Tensor(ORT_TYPE[t.dtype] as 'float32', t.data as Float32Array, t.dims);
    for (let i = 0; i < plan.warmup; i++) await session.run(feeds);
    const samples = new Array<number>(plan.runs);
    for (let i = 0; i < plan.runs; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      samples[i] = performance.now() - t0;
    }
    return latencyStats(samples);
  } finally {
    await session.release();
  }
}

async function litheLoop(model: Model, threads: number, plan: Plan): Promise<LatencyStats> {
  const r = await benchmark(model, { batch: 1, threads, runs: plan.runs, warmup: plan.warmup });
  return r.latency;
}

async function measure(model: Model, threads: number, plan: Plan, ctx: BenchContext) {
  const bytes = serializeModel(model);
  const lithe: LatencyStats[] = [];
  const bare: LatencyStats[] = [];
  for (let r = 0; r < plan.rounds; r++) {
    const order = r % 2 === 0 ? ['lithe', 'bare'] : ['bare', 'lithe'];
    for (const side of order) {
      if (side === 'lithe') lithe.push(await litheLoop(model, threads, plan));
      else bare.push(await bareLoop(bytes, model, threads, plan));
    }
    ctx.log(`  threads=${threads || 'auto'} round ${r + 1}/${plan.rounds}: lithe p50 ${lithe.at(-1)!.p50Ms.toFixed(2)} ms, bare p50 ${bare.at(-1)!.p50Ms.toFixed(2)} ms`);
  }
  const summary = (xs: LatencyStats[]) => ({
    minMs: round(median(xs.map((s) => s.minMs))),
    p50Ms: round(median(xs.map((s) => s.p50Ms))),
    meanMs: round(median(xs.map((s) => s.meanMs))),
  });
  const ratio = (stat: 'minMs' | 'p50Ms' | 'meanMs') => median(lithe.map((s, i) => s[stat] / bare[i]![stat]));
  const l = summary(lithe);
  const b = summary(bare);
  return {
    lithe: l,
    bare: b,
    perRoundP50Ratio: lithe.map((s, i) => round(s.p50Ms / bare[i]!.p50Ms)),
    minRatio: ratio('minMs'),
    p50Ratio: ratio('p50Ms'),
    meanRatio: ratio('meanMs'),
  };
}

export const runtimeOverhead: Benchmark = {
  name: 'runtime-overhead',
  description: "lithe's benchmark() against a bare onnxruntime-node InferenceSession.run loop, MobileNetV2 224×224 batch 1",
  async run(ctx): Promise<Section> {
    const plan = ctx.quick ? QUICK : FULL;
    const model = buildMobileNetV2({ widthMultiplier: 1, inputSize: 224, numClasses: 1000 });
    const ratios: Section['ratios'] = {};
    const targets: NonNullable<Section['targets']> = {};
    const measurements: Record<string, unknown> = {};
    for (const threads of plan.threads) {
      const key = `threads${threads || 'Auto'}`;
      const m = await measure(model, threads, plan, ctx);
      measurements[key] = { lithe: m.lithe, bare: m.bare, perRoundP50Ratio: m.perRoundP50Ratio };
      ratios[`${key}.overheadP50`] = round(m.p50Ratio - 1);
      ratios[`${key}.overheadMean`] = round(m.meanRatio - 1);
      // The fastest run is the least disturbed by other processes: the steadiest figure here.
      ratios[`${key}.overheadMin`] = round(m.minRatio - 1);
      // The bound: lithe within 5% of bare, i.e. lithe / bare ≤ 1.05.
      targets[`${key}.p50`] = target(m.p50Ratio, 1.05);
      targets[`${key}.mean`] = target(m.meanRatio, 1.05);
    }
    return {
      description: this.description,
      config: { model: 'mobilenetv2 α=1 224×224 1000 classes', batch: 1, graphOptimizationLevel: 'all', ...plan, threads: plan.threads.map((t) => t || 'auto') },
      ratios,
      targets,
      measurements,
    };
  },
};
