/**
 * Training speed of the reference CNN (src/models/ref-cnn.ts) at batch 64: whole optimizer steps
 * through `Trainer.trainStep` — assembling the batch from Fashion-MNIST bytes, feeding it with the
 * weights and optimizer state, one onnxruntime run of forward + loss + backward + update, and
 * taking the updated tensors back — against the same model's forward pass alone, in the same run.
 *
 *   trainOverForward = step ms / forward ms    (per round, then the median over rounds)
 *   samplesPerSecond = 64 / step ms            (step ms: median over every timed step)
 *
 * Adam on 1 and 2 intra-op threads, SGD (momentum 0.9) on 1 thread; spinning off (the machine's
 * cores are shared). Each round times `steps` training steps, then `forwards` forward runs of a
 * session created with the same options (createSession: graph optimization `all`, sequential,
 * memory pattern and arena), so load drift hits both sides alike. `…Min` figures use each side's
 * fastest run, the least disturbed by other processes. Each run's process CPU time (user + system)
 * is recorded beside its wall time: on an oversubscribed machine a 1-thread step's CPU time stays
 * near its compute while wall time includes waiting for a core (with 2 threads CPU time adds both
 * threads' work, so it is not a latency). PyTorch's figures from issue 3 sit in
 * `config.context` for reading the absolute numbers; they are not targets of this run.
 */
import { DataType } from '../src/onnx/proto.js';
import { epochOrder, makeBatch } from '../src/data/batcher.js';
import { openDataset } from '../src/data/dataset.js';
import { buildArchitecture } from '../src/models/index.js';
import { createSession } from '../src/runtime/session.js';
import { Trainer } from '../src/train/trainer.js';
import type { OptimizerConfig } from '../src/train/optimizers.js';
import { alternate, median, round, timed, type Benchmark, type BenchContext, type Section } from './lib.js';

const BATCH = 64;

interface Plan {
  rounds: number;
  warmup: number;
  /** Timed training steps per round. */
  steps: number;
  /** Timed forward runs per round. */
  forwards: number;
}

const FULL: Plan = { rounds: 7, warmup: 5, steps: 20, forwards: 40 };
const QUICK: Plan = { rounds: 2, warmup: 2, steps: 5, forwards: 10 };

interface Case {
  key: string;
  optimizer: OptimizerConfig;
  threads: number;
}

const CASES: Case[] = [
  { key: 'adam.threads1', optimizer: { name: 'adam' }, threads: 1 },
  { key: 'adam.threads2', optimizer: { name: 'adam' }, threads: 2 },
  { key: 'sgd.threads1', optimizer: { name: 'sgd', momentum: 0.9 }, threads: 1 },
];

const stats = (xs: number[]) => ({ medianMs: round(median(xs)), minMs: round(Math.min(...xs)) });

async function measure(c: Case, plan: Plan, ctx: BenchContext) {
  const train = await openDataset('fashion-mnist', { split: 'train' });
  const model = buildArchitecture('ref-cnn', { seed: 0 });
  const session = { allowSpinning: false };
  const trainer = new Trainer(model, { epochs: 1, batch: BATCH, optimizer: c.optimizer, threads: c.threads, session });
  const forward = await createSession(model, { threads: c.threads, ...session, label: 'ref-cnn forward' });
  const order = epochOrder(train, { shuffle: true, seed: 1 });
  let cursor = 0;
  const nextBatch = () => {
    if (cursor + BATCH > order.length) cursor = 0;
    const idx = order.subarray(cursor, cursor + BATCH);
    cursor += BATCH;
    return makeBatch(train, idx);
  };
  const probe = nextBatch();
  const prepared = forward.prepare({ input: { dtype: DataType.FLOAT, dims: probe.dims, data: probe.x } });
  try {
    for (let i = 0; i < plan.warmup; i++) {
      await trainer.trainStep(nextBatch(), 1e-3);
      await forward.runPrepared(prepared);
    }
    // Each round: plan.steps training steps and plan.forwards forward runs, each timed (wall and
    // CPU); which side goes first alternates, so that neither always follows the other's cache state.
    const sides = { train: { n: plan.steps, run: () => trainer.trainStep(nextBatch(), 1e-3) }, forward: { n: plan.forwards, run: () => forward.runPrepared(prepared) } };
    const runSide = async (side: keyof typeof sides) => {
      const out: { wallMs: number; cpuMs: number }[] = [];
      for (let i = 0; i < sides[side].n; i++) out.push(await timed(sides[side].run));
      return { wall: out.map((t) => t.wallMs), cpu: out.map((t) => t.cpuMs) };
    };
    const t = await alternate(['train', 'forward'] as const, plan.rounds, runSide, (r, t) => {
      const [s, f] = [t.train.at(-1)!, t.forward.at(-1)!];
      ctx.log(`  ${c.key} round ${r + 1}/${plan.rounds}: step ${median(s.wall).toFixed(2)} ms, forward ${median(f.wall).toFixed(2)} ms (CPU ${median(s.cpu).toFixed(2)} / ${median(f.cpu).toFixed(2)} ms)`);
    });
    const perRound = t.train.map((s, r) => median(s.wall) / median(t.forward[r]!.wall));
    const perRoundMin = t.train.map((s, r) => Math.min(...s.wall) / Math.min(...t.forward[r]!.wall));
    const perRoundCpu = t.train.map((s, r) => median(s.cpu) / median(t.forward[r]!.cpu));
    const all = (side: keyof typeof sides, k: 'wall' | 'cpu') => t[side].flatMap((x) => x[k]);
    return { step: stats(all('train', 'wall')), forward: stats(all('forward', 'wall')), stepCpu: stats(all('train', 'cpu')), forwardCpu: stats(all('forward', 'cpu')), perRound, perRoundMin, perRoundCpu, dataset: train.source };
  } finally {
    await trainer.close();
    await forward.release();
  }
}

export const train: Benchmark = {
  name: 'train',
  description: 'ref-cnn training steps (batch 64, Fashion-MNIST, Adam 1/2 threads, SGD 1 thread) against its forward pass in the same run',
  async run(ctx): Promise<Section> {
    const plan = ctx.quick ? QUICK : FULL;
    const ratios: Section['ratios'] = {};
    const measurements: Record<string, unknown> = {};
    let dataset = '';
    for (const c of CASES) {
      const m = await measure(c, plan, ctx);
      dataset = m.dataset ?? '';
      ratios[`${c.key}.trainOverForward`] = round(median(m.perRound));
      ratios[`${c.key}.trainOverForwardMin`] = round(median(m.perRoundMin));
      ratios[`${c.key}.trainOverForwardCpu`] = round(median(m.perRoundCpu));
      measurements[c.key] = {
        stepMs: m.step,
        forwardMs: m.forward,
        stepCpuMs: m.stepCpu,
        forwardCpuMs: m.forwardCpu,
        samplesPerSecond: round((BATCH * 1000) / m.step.medianMs),
        samplesPerSecondBest: round((BATCH * 1000) / m.step.minMs),
        perRoundTrainOverForward: m.perRound.map(round),
      };
    }
    return {
      description: this.description,
      config: {
        model: 'ref-cnn (206,922 parameters)',
        batch: BATCH,
        dataset,
        session: 'createSession defaults (graph optimization all, sequential, memory pattern, arena), allowSpinning false',
        ...plan,
        context: {
          source: 'issue 3 (same machine, PyTorch 1.13; not measured by this run)',
          pytorchSgdStepMs1Thread: 8.9,
          pytorchAdamEpochSamplesPerSecond2Threads: 11100,
          handBuiltOnnxPrototypeStepMs1Thread: 11.0,
        },
      },
      ratios,
      measurements,
    };
  },
};
