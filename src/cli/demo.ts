/**
 * `lithe demo` (what `npm start` runs): the compression pipeline on the bundled default, with
 * every stage measured the same way — parameters, MACs, size on disk (raw, gzip), accuracy on
 * real Fashion-MNIST test images, latency — so the trade-off each step buys is one table.
 *
 * The pipeline is a list of steps, each turning the previous stage's model into the next one.
 * Today it has one step, the builder's reference CNN with untrained weights; distill, prune and
 * quantize steps append to DEMO_STEPS and the measuring and reporting stay as they are.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileModel } from '../analysis/profile.js';
import type { Model } from '../graph/ir.js';
import { buildArchitecture } from '../models/index.js';
import { saveModel } from '../onnx/io.js';
import type { Dataset } from '../data/dataset.js';
import { benchmark } from '../runtime/bench.js';
import { Progress } from './progress.js';
import { bytes, pct, si, table, thousands } from './format.js';
import { diskSize } from './model-file.js';
import { flag, int, positionals, str, type Command, type CommandIO } from './command.js';
import { evaluateOnDataset, openDatasetFor, selectSamples } from './eval.js';
import { describeInput, imageGeometry, modelInput } from './run.js';

export interface DemoStep {
  /** Stage name; also the file name, `<name>.onnx`. */
  name: string;
  /** One line saying what the step did and what its result is (and is not). */
  note: string;
  run(previous: Model | undefined): Model | Promise<Model>;
}

export const DEMO_STEPS: readonly DemoStep[] = [
  {
    name: 'ref-cnn',
    note: 'reference CNN from the graph builder, UNTRAINED (random weights, seed 0): its accuracy is chance level (~10%) until training lands',
    run: () => buildArchitecture('ref-cnn'),
  },
];

export interface StageReport {
  stage: string;
  note: string;
  file: string;
  input: string;
  params: number;
  macs: number;
  bytes: number;
  gzipBytes: number;
  samples: number;
  top1: number;
  top5: number;
  latency: { p50Ms: number; p99Ms: number; meanMs: number; runs: number };
  throughput: number;
}

interface MeasureOptions {
  /** The evaluation data, as `lithe eval --data` takes it; opened once, sized to the first model. */
  data: string;
  runs: number;
  /** Intra-op threads for the benchmark (0: onnxruntime's choice). */
  threads: number;
  io: CommandIO;
  quiet: boolean;
}

/** Saves a stage's model and measures it: profile, size on disk, accuracy, latency at batch 1. */
async function measureStage(step: DemoStep, model: Model, file: string, ds: Dataset, opts: MeasureOptions): Promise<StageReport> {
  saveModel(model, file); // atomic: a temporary file renamed into place
  const input = modelInput(model, file);
  const profile = profileModel(model);
  const disk = diskSize(file, model);
  const show = opts.io.isTTY && !opts.quiet;
  const evalBar = new Progress(`${step.name} eval`, ds.size, { enabled: show, unit: 'samples' });
  const r = await evaluateOnDataset(model, file, ds, { batch: 100, layout: imageGeometry(input.shape).layout, onBatch: (n) => evalBar.tick(n) });
  evalBar.finish();
  const benchBar = new Progress(`${step.name} bench`, opts.runs, { enabled: show, unit: 'runs' });
  const b = await benchmark(model, { batch: 1, runs: opts.runs, warmup: Math.min(10, opts.runs), threads: opts.threads, allowSpinning: opts.threads !== 1, label: file, onRun: () => benchBar.tick() });
  benchBar.finish();
  return {
    stage: step.name,
    note: step.note,
    file,
    input: describeInput(input),
    params: profile.params.total,
    macs: profile.macs.total,
    bytes: disk.bytes,
    gzipBytes: disk.gzipBytes,
    samples: r.samples,
    top1: r.top1,
    top5: r.top5,
    latency: { p50Ms: b.latency.p50Ms, p99Ms: b.latency.p99Ms, meanMs: b.latency.meanMs, runs: b.latency.runs },
    throughput: b.throughput,
  };
}

/** Runs the steps in order, each on the previous stage's model, measuring every stage. */
export async function runPipeline(steps: readonly DemoStep[], outDir: string, opts: MeasureOptions): Promise<{ ds: Dataset; stages: StageReport[] }> {
  const stages: StageReport[] = [];
  let model: Model | undefined;
  let ds: Dataset | undefined;
  mkdirSync(outDir, { recursive: true });
  for (const step of steps) {
    model = await step.run(model);
    ds ??= await openDatasetFor(opts.data, 'test', modelInput(model, step.name));
    stages.push(await measureStage(step, model, join(outDir, `${step.name}.onnx`), ds, opts));
  }
  if (!ds) throw new Error('runPipeline: no steps');
  return { ds, stages };
}

function writeJsonAtomically(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

function renderStages(stages: readonly StageReport[]): string {
  return table([
    ['stage', 'params', 'MACs', 'size', 'gzip', 'top-1', 'top-5', 'p50 ms', 'p99 ms', 'samples/s'],
    ...stages.map((s) => [s.stage, thousands(s.params), si(s.macs), bytes(s.bytes), bytes(s.gzipBytes), pct(s.top1), pct(s.top5), s.latency.p50Ms.toFixed(3), s.latency.p99Ms.toFixed(3), s.throughput.toFixed(0)]),
  ]);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the pipeline on the bundled default: build, inspect, evaluate, benchmark (npm start)',
  help: `Usage: lithe demo [--out DIR] [--data DATASET] [--runs N] [--threads N] [--json]

What \`npm start\` runs. Builds the default model, saves each pipeline stage to DIR/<stage>.onnx,
and measures every stage the same way: parameters, MACs (batch 1), size on disk (raw and gzip -9),
top-1/top-5 accuracy on the test split of DATASET, and latency at batch 1 on onnxruntime-node
(one thread by default: the figure an edge device's single core sees, and steady on a busy host).
Writes DIR/report.json and prints one table.

Today the pipeline has one stage: the reference CNN built by lithe's graph builder, with
UNTRAINED random weights, so its accuracy is chance level (~10%). Distillation, pruning and
quantization stages will follow it.

  --out DIR        where the models and report.json go (default out/demo)
  --data DATASET   evaluation data, as for lithe eval (default fashion-mnist-mini, 2,000 images)
  --runs N         timed benchmark runs per stage (default 100)
  --threads N      onnxruntime intra-op threads for the benchmark (default 1; 0: one per core)
  --json           print the report as JSON; no progress bars

Example: lithe demo --out /tmp/demo`,
  options: { out: { type: 'string' }, data: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    positionals(args, this, []);
    const outDir = str(args, 'out') ?? join('out', 'demo');
    const spec = str(args, 'data') ?? 'fashion-mnist-mini';
    const runs = int(args, 'runs', 100, { min: 1 });
    const threads = int(args, 'threads', 1);
    const json = flag(args, 'json');
    const { ds, stages } = await runPipeline(DEMO_STEPS, outDir, { data: spec, runs, threads, io, quiet: json });
    const selection = selectSamples(ds, {});
    const report = { data: { name: ds.name, split: ds.split, source: ds.source, samples: ds.size, selection: selection.description }, stages };
    const reportFile = join(outDir, 'report.json');
    writeJsonAtomically(reportFile, report);
    if (json) {
      io.out(JSON.stringify(report, null, 2));
      return;
    }
    io.out('lithe demo: the compression pipeline on the bundled default model');
    io.out(`data: ${ds.name} ${ds.split} split, ${thousands(ds.size)} real images; source: ${ds.source}`);
    io.out(`model input ${stages[0]!.input}; latency at batch 1 on onnxruntime-node, ${threads === 0 ? 'threads: one per core' : `${threads} thread${threads === 1 ? '' : 's'}`}, ${runs} runs`);
    io.out('');
    io.out(renderStages(stages));
    io.out('');
    for (const s of stages) io.out(`${s.stage}: ${s.note}`);
    io.out('');
    io.out(`wrote ${stages.map((s) => s.file).join(', ')}, ${reportFile}`);
    const f = stages.at(-1)!.file;
    io.out(`next: lithe inspect ${f}  |  lithe eval ${f} --data fashion-mnist  |  lithe run ${f} IMAGE.png`);
  },
};
