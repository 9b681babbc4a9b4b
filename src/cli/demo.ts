/**
 * `lithe demo` (what `npm start` runs): the compression pipeline on the bundled default. The
 * bundled teacher (data/teacher/teacher.onnx, trained by scripts/train-teacher.ts) is distilled
 * into the seeds' tiny student, pruned and quantized on the bundled Fashion-MNIST subset, by
 * `lithe compress` with the built-in recipe recipes/demo.yaml: the same pipeline, measurements and
 * report, not a copy. `--quick` runs recipes/demo-quick.yaml (a fraction of the training) for
 * tests and a first look.
 *
 * Without the teacher file (a checkout from before it was committed) the demo trains a stand-in
 * teacher on the subset first and says so in its output and report.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset, packageRoot } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import { buildArchitecture } from '../models/index.js';
import { saveModel } from '../onnx/io.js';
import { loadRecipe } from '../pipeline/recipe.js';
import { renderSummary, writeOutputs } from '../pipeline/report.js';
import { runPipeline, type PipelineOptions } from '../pipeline/run.js';
import { Trainer } from '../train/trainer.js';
import { flag, int, positionals, str, type Command, type CommandIO } from './command.js';
import { Progress } from '../report/progress.js';

/** The bundled teacher, relative to the package root. */
export const BUNDLED_TEACHER = join('data', 'teacher', 'teacher.onnx');

/**
 * A stand-in for the bundled teacher: the 'teacher' architecture trained on the subset with the
 * recipe of scripts/train-teacher.ts (AdamW one-cycle, batch 128), for as long as the demo's
 * budget allows. Returns the file and a note for the report.
 */
async function trainStandInTeacher(data: string, outDir: string, quick: boolean, io: CommandIO, quiet: boolean): Promise<{ file: string; note: string }> {
  const file = join(outDir, 'teacher.onnx');
  const epochs = quick ? 1 : 2;
  const train = await openDataset(data, { split: 'train' });
  const subset = quick ? permutation(train.size, 0).slice(0, Math.min(1000, train.size)) : undefined;
  const samples = subset?.length ?? train.size;
  if (!quiet) io.err(`${BUNDLED_TEACHER} is not in this checkout: training a stand-in teacher on ${samples} samples for ${epochs} epoch(s) first`);
  const t0 = performance.now();
  let bar: Progress | undefined;
  const trainer = new Trainer(buildArchitecture('teacher'), {
    epochs,
    batch: 128,
    lr: 3e-3,
    optimizer: { name: 'adamw', weightDecay: 0.01 },
    schedule: 'onecycle',
    seed: 0,
    evaluate: false,
    onStep: (s) => {
      if (s.batchInEpoch === 1) bar = new Progress(`stand-in teacher: epoch ${s.epoch}/${epochs}`, samples, { enabled: io.isTTY && !quiet, unit: 'samples' });
      bar?.tick(s.samples, `loss ${s.loss.toFixed(4)}`);
      if (s.batchInEpoch === s.batchesPerEpoch) bar?.finish();
    },
  });
  try {
    await trainer.fit(train, undefined, { subset });
    mkdirSync(outDir, { recursive: true });
    saveModel(trainer.exportInference(), file);
  } finally {
    await trainer.close();
  }
  const secs = (performance.now() - t0) / 1000;
  return {
    file,
    note: `STAND-IN: ${BUNDLED_TEACHER} is missing, so this teacher was trained here on ${samples} samples of ${train.name} for ${epochs} epoch(s) (${secs.toFixed(0)} s); the bundled teacher is better`,
  };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the pipeline on the bundled default: teacher → distilled student → pruned → int8 (npm start)',
  help: `Usage: lithe demo [--out DIR] [--quick] [--teacher FILE] [--data DATASET] [--runs N] [--threads N] [--json]

What \`npm start\` runs: lithe compress with the built-in recipe recipes/demo.yaml. The bundled
teacher (data/teacher/teacher.onnx, 585k parameters) is distilled into the tiny student
(conv 16 3×3, ReLU, maxpool 2, dense 10; 27k parameters), pruned to 70% zeros with fine-tuning,
and quantized to static int8, on the bundled Fashion-MNIST subset (6,000 train / 2,000 test real
images). Every stage is saved to DIR/<stage>.onnx and measured the same way: top-1/top-5 on the
test images, size raw and gzip -9, parameters, MACs, latency at batch 1 on onnxruntime-node (one
thread by default: an edge device's single core). Prints the trade-off table and writes
DIR/report.html and DIR/summary.json. A few minutes on 2 cores.

  --out DIR        where the models, report.html and summary.json go (default out/demo)
  --quick          recipes/demo-quick.yaml: a fraction of the training (seconds; for tests)
  --teacher FILE   the teacher (default data/teacher/teacher.onnx)
  --data DATASET   the data (default fashion-mnist-mini; fashion-mnist for the full set)
  --runs N         timed benchmark runs per stage (default 500: sub-0.1 ms latencies on a busy
                   machine need many runs for a steady median)
  --threads N      onnxruntime intra-op threads for the benchmark (default 1; 0: one per core)
  --json           print summary.json's content; no progress

The same run as a command: lithe compress data/teacher/teacher.onnx --recipe recipes/demo.yaml --data fashion-mnist-mini -o out/demo`,
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean' },
    teacher: { type: 'string' },
    data: { type: 'string' },
    runs: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    positionals(args, this, []);
    const outDir = str(args, 'out') ?? join('out', 'demo');
    const data = str(args, 'data') ?? 'fashion-mnist-mini';
    const quick = flag(args, 'quick');
    const json = flag(args, 'json');
    const t0 = performance.now();
    const root = packageRoot();
    const recipe = loadRecipe(join(root, 'recipes', quick ? 'demo-quick.yaml' : 'demo.yaml'));
    let teacher = str(args, 'teacher') ?? join(root, BUNDLED_TEACHER);
    const inputNotes: string[] = [];
    if (!str(args, 'teacher') && !existsSync(teacher)) {
      const standIn = await trainStandInTeacher(data, outDir, quick, io, json);
      teacher = standIn.file;
      inputNotes.push(standIn.note);
    }
    const opts: PipelineOptions = {
      inputFile: teacher,
      recipe,
      data,
      outDir,
      runs: int(args, 'runs', 500, { min: 1 }),
      threads: int(args, 'threads', 1),
      progress: io.isTTY && !json,
      log: (line) => !json && io.err(line),
      inputName: 'teacher',
      inputNotes,
    };
    const result = await runPipeline(opts);
    const command = ['lithe demo', ...(quick ? ['--quick'] : []), '--out', outDir].join(' ');
    const summary = writeOutputs(result, opts, command, (performance.now() - t0) / 1000);
    if (json) return io.out(JSON.stringify(summary, null, 2));
    io.out(`lithe demo: ${recipe.name}${quick ? ' (--quick: a fraction of the training; npm start runs the full demo)' : ''}`);
    for (const line of renderSummary(summary)) io.out(line);
    io.out(`done in ${summary.seconds.toFixed(0)} s. Open ${summary.report} in a browser.`);
    const f = summary.final.file;
    io.out(`next: lithe inspect ${f}  |  lithe eval ${f} --data ${data}  |  lithe run ${f} IMAGE.png`);
  },
};
