/**
 * What structured pruning buys in latency: a dense model against the same model with whole channels
 * removed by `pruneChannels` (src/prune/structured.ts) to ≤ 50% of its MACs, timed side by side.
 *
 *   speedup = dense latency / pruned latency   (> 1: the pruned model is faster)
 *
 * Two models:
 *   teacher      the bundled trained teacher (data/teacher/teacher.onnx, 6 Conv + BN, 2 Gemm), at
 *                batch 64; the issue asks ≥ 1.6×, i.e. pruned / dense ≤ 1/1.6 = 0.625
 *   mobilenetv2  the builder's MobileNetV2 (inverted residuals with Adds, depthwise convs; α = 1,
 *                224×224, 1000 classes; `--quick`: 96×96) at batch 1, with params and MACs
 *                before/after; no target
 *
 * No fine-tuning: weights do not change the cost of a dense kernel. Each measurement is
 * `benchmark()` (src/runtime/bench.ts, what `lithe bench` runs) in a fresh session, `warmup`
 * untimed runs then `runs` timed ones; the two sides alternate in rounds in ABBA order so that
 * drift in machine load hits both, and each ratio is the median over rounds of the per-round ratio.
 * Beside wall time, the process CPU time per timed run (`speedupCpu`): on an oversubscribed
 * machine wall time includes waiting for a core, CPU time does not.
 */
import { join } from 'node:path';
import { countMacs, countParams } from '../src/analysis/profile.js';
import type { Model } from '../src/graph/ir.js';
import { buildMobileNetV2 } from '../src/models/index.js';
import { loadModel } from '../src/onnx/io.js';
import { pruneChannels } from '../src/prune/structured.js';
import { benchmark, type LatencyStats } from '../src/runtime/bench.js';
import { alternate, cpuMsSince, median, REPO_ROOT, round, target, type Benchmark, type BenchContext, type Section } from './lib.js';

interface Plan {
  rounds: number;
  warmup: number;
  /** Timed runs per measurement: teacher at batch 64, MobileNetV2 at batch 1. */
  teacherRuns: number;
  mobilenetRuns: number;
  mobilenetInput: number;
}

const FULL: Plan = { rounds: 8, warmup: 3, teacherRuns: 15, mobilenetRuns: 40, mobilenetInput: 224 };
const QUICK: Plan = { rounds: 2, warmup: 1, teacherRuns: 3, mobilenetRuns: 5, mobilenetInput: 96 };
// (at least 2 timed runs: CPU time per run is measured between the first and the last)
const TARGET_MACS = 0.5;
/** The bound: ≥ 1.6× faster, as pruned / dense ≤ 1 / 1.6. */
const TEACHER_MAX_RATIO = 1 / 1.6;
/** One intra-op thread: on a shared 2-core machine the steadiest setting, and the edge-device case. */
const THREADS = 1;

async function sideBySide(dense: Model, pruned: Model, batch: number, runs: number, plan: Plan, ctx: BenchContext, label: string) {
  const models = { dense, pruned };
  const measure = async (side: 'dense' | 'pruned') => {
    // process CPU time per run, from the end of the first timed run to the end of the last
    let c0 = process.cpuUsage();
    let cpu = 0;
    const onRun = (i: number) => {
      if (i === 0) c0 = process.cpuUsage();
      if (i === runs - 1) cpu = cpuMsSince(c0) / (runs - 1);
    };
    const res = await benchmark(models[side], { batch, threads: THREADS, runs, warmup: plan.warmup, onRun });
    return { latency: res.latency, cpu };
  };
  const t = await alternate(['dense', 'pruned'] as const, plan.rounds, measure, (r, t) =>
    ctx.log(`  ${label} round ${r + 1}/${plan.rounds}: dense p50 ${t.dense.at(-1)!.latency.p50Ms.toFixed(2)} ms, pruned p50 ${t.pruned.at(-1)!.latency.p50Ms.toFixed(2)} ms`),
  );
  const [d, p] = [t.dense.map((x) => x.latency), t.pruned.map((x) => x.latency)];
  const [dCpu, pCpu] = [t.dense.map((x) => x.cpu), t.pruned.map((x) => x.cpu)];
  const summary = (xs: LatencyStats[]) => ({ minMs: round(median(xs.map((s) => s.minMs))), p50Ms: round(median(xs.map((s) => s.p50Ms))), meanMs: round(median(xs.map((s) => s.meanMs))) });
  const ratio = (stat: 'minMs' | 'p50Ms') => median(p.map((s, i) => s[stat] / d[i]![stat]));
  return {
    dense: summary(d),
    pruned: summary(p),
    perRoundSpeedupP50: p.map((s, i) => round(d[i]!.p50Ms / s.p50Ms)),
    cpuMsPerRun: { dense: round(median(dCpu)), pruned: round(median(pCpu)) },
    prunedOverDenseCpu: median(pCpu.map((c, i) => c / dCpu[i]!)),
    prunedOverDenseP50: ratio('p50Ms'),
    prunedOverDenseMin: ratio('minMs'),
  };
}

function prune(model: Model, ctx: BenchContext, label: string) {
  const t0 = performance.now();
  const r = pruneChannels(model, { targetMacs: TARGET_MACS });
  ctx.log(`  ${label}: pruned to ${TARGET_MACS} of the MACs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const size = (m: Model) => ({ params: countParams(m).total, macs: countMacs(m).total });
  return { model: r.model, channelRatio: round(r.ratio), before: size(model), after: size(r.model) };
}

export const prunePerf: Benchmark = {
  name: 'prune',
  description: `dense vs structured-pruned (≤ ${TARGET_MACS} MACs) latency: trained teacher at batch 64, MobileNetV2 at batch 1`,
  async run(ctx): Promise<Section> {
    const plan = ctx.quick ? QUICK : FULL;
    const ratios: Section['ratios'] = {};
    const measurements: Record<string, unknown> = {};

    // each model is built when its turn comes, so only one dense/pruned pair is in memory at a time
    const cases = [
      { key: 'teacher', build: () => loadModel(join(REPO_ROOT, 'data/teacher/teacher.onnx')), batch: 64, runs: plan.teacherRuns, label: 'teacher b64' },
      { key: 'mobilenetv2', build: () => buildMobileNetV2({ widthMultiplier: 1, inputSize: plan.mobilenetInput, numClasses: 1000 }), batch: 1, runs: plan.mobilenetRuns, label: 'mobilenetv2 b1' },
    ];
    const sides = new Map<string, Awaited<ReturnType<typeof sideBySide>>>();
    for (const c of cases) {
      const dense = c.build();
      const p = prune(dense, ctx, c.key);
      ctx.log(`  ${c.key}: MACs ${p.before.macs} → ${p.after.macs} (channel ratio ${p.channelRatio})`);
      const m = await sideBySide(dense, p.model, c.batch, c.runs, plan, ctx, c.label);
      sides.set(c.key, m);
      ratios[`${c.key}.macsRatio`] = round(p.after.macs / p.before.macs);
      ratios[`${c.key}.paramsRatio`] = round(p.after.params / p.before.params);
      ratios[`${c.key}.speedupP50`] = round(1 / m.prunedOverDenseP50);
      ratios[`${c.key}.speedupMin`] = round(1 / m.prunedOverDenseMin);
      ratios[`${c.key}.speedupCpu`] = round(1 / m.prunedOverDenseCpu);
      measurements[c.key] = { ...p, model: undefined, ...m, prunedOverDenseP50: round(m.prunedOverDenseP50) };
    }

    return {
      description: this.description,
      config: {
        teacher: 'data/teacher/teacher.onnx, batch 64',
        mobilenetv2: `α=1 ${plan.mobilenetInput}×${plan.mobilenetInput} 1000 classes, batch 1`,
        targetMacs: TARGET_MACS,
        channelMultiple: 8,
        threads: THREADS,
        rounds: plan.rounds,
        warmup: plan.warmup,
        teacherRuns: plan.teacherRuns,
        mobilenetRuns: plan.mobilenetRuns,
      },
      ratios,
      // ≥ 1.6× faster ⇔ pruned / dense ≤ 0.625
      targets: { 'teacher.prunedOverDenseP50': target(sides.get('teacher')!.prunedOverDenseP50, round(TEACHER_MAX_RATIO)) },
      measurements,
    };
  },
};
