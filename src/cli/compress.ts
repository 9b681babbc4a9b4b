/**
 * `lithe compress MODEL --recipe RECIPE --data DATASET -o OUTDIR`: the recipe's steps (distill,
 * prune, quantize) one after another, every stage saved and measured the same way, with an
 * optional accuracy budget; the work is in src/pipeline/.
 */
import { existsSync } from 'node:fs';
import { LitheError } from '../errors.js';
import { loadModel } from '../onnx/io.js';
import { loadRecipe } from '../pipeline/recipe.js';
import { renderSummary, writeOutputs } from '../pipeline/report.js';
import { runPipeline, type PipelineOptions } from '../pipeline/run.js';
import { flag, int, num, positionals, str, UsageError, type Command } from './command.js';
import { inputNormalization, NORMALIZE_HELP, NORMALIZE_OPTIONS } from './run.js';

export const compressCommand: Command = {
  name: 'compress',
  summary: 'run a recipe of distill/prune/quantize steps, measuring every stage (report.html)',
  help: `Usage: lithe compress MODEL --recipe RECIPE --data DATASET -o OUTDIR [--max-drop PP] [--json]

Runs the steps of RECIPE on MODEL, one after another. After every step the model is saved to
OUTDIR/<step>.onnx (atomically) and measured from that file: top-1/top-5 on the test split of
DATASET, latency at batch 1 (p50/p99), size on disk raw and gzip -9, parameters and MACs.
Writes OUTDIR/summary.json (every figure), OUTDIR/report.html (trade-off charts, per-step
table, per-layer sparsity of the last prune step, confusion matrix of the final model) and
prints the table. MODEL is never modified.

RECIPE is YAML (or JSON, by a .json extension):
  name: small-and-fast          # optional, the report's title
  steps:
    - kind: distill             # MODEL is the teacher
      student: student          # an architecture or a model file (relative to the recipe)
      epochs: 5
    - kind: prune
      sparsity: 0.6
      finetune-epochs: 1
    - kind: quantize
      mode: static
Step options have the names of the matching command's flags (lithe distill, lithe prune,
lithe quantize), without the leading '--'; lists are YAML lists or comma-separated strings.
An optional 'name' labels a step (default: its kind; names must differ). The train split of
DATASET serves fine-tuning, distillation and calibration; the test split, accuracy.
Examples: recipes/ in the lithe package.

  --recipe RECIPE   the steps (required)
  --data DATASET    fashion-mnist, fashion-mnist-mini or a dataset folder (required)
  -o, --output DIR  where the stages, summary.json and report.html go (required)
  --max-drop PP     reject a step whose top-1 falls more than PP percentage points below MODEL's:
                    its model is kept as OUTDIR/<step>.rejected.onnx, the next step starts from
                    the last accepted model, and the output names the step and its drop
                    (default: the recipe's 'max-drop', else no budget)
  --runs N          timed benchmark runs per stage (default 100)
  --threads N       onnxruntime threads for the benchmark (default 1; 0: one per core)
  --json            print summary.json's content; no progress

Input preprocessing, as MODEL was trained, for every step's training, calibration and
evaluation batches (the models the steps write expect the same inputs):
${NORMALIZE_HELP}

Example: lithe compress teacher.onnx --recipe recipes/distill-prune-quantize.yaml --data fashion-mnist -o out/compress`,
  options: {
    recipe: { type: 'string' },
    data: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'max-drop': { type: 'string' },
    runs: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
  },
  async run(args, io) {
    const [file] = positionals(args, this, ['MODEL']);
    const recipeFile = str(args, 'recipe');
    if (!recipeFile) throw new UsageError('lithe compress: missing --recipe RECIPE', this);
    const data = str(args, 'data');
    if (!data) throw new UsageError('lithe compress: missing --data DATASET', this);
    const outDir = str(args, 'output');
    if (!outDir) throw new UsageError('lithe compress: missing -o OUTDIR', this);
    if (!existsSync(file!)) throw new LitheError('E_IO', `cannot read model ${file}: no such file`);
    const maxDrop = str(args, 'max-drop') === undefined ? undefined : num(args, 'max-drop', 0);
    if (maxDrop !== undefined && maxDrop < 0) throw new UsageError(`--max-drop must be ≥ 0 percentage points, got ${maxDrop}`, this);
    const runs = int(args, 'runs', 100, { min: 1 });
    const threads = int(args, 'threads', 1);
    const json = flag(args, 'json');
    const recipe = loadRecipe(recipeFile);
    const opts: PipelineOptions = {
      inputFile: file!,
      recipe,
      data,
      outDir,
      maxDrop: maxDrop ?? recipe.maxDrop,
      runs,
      threads,
      preprocess: inputNormalization(args, loadModel(file!), file!),
      progress: io.isTTY && !json,
      log: (line) => !json && io.err(line),
    };
    const t0 = performance.now();
    const result = await runPipeline(opts);
    const command = [
      'lithe compress',
      file,
      '--recipe',
      recipeFile,
      '--data',
      data,
      '-o',
      outDir,
      ...(maxDrop !== undefined ? ['--max-drop', String(maxDrop)] : []),
      ...['scale', 'mean', 'std', 'layout'].flatMap((k) => (str(args, k) === undefined ? [] : [`--${k}`, str(args, k)!])),
    ].join(' ');
    const summary = writeOutputs(result, opts, command, (performance.now() - t0) / 1000);
    if (json) return io.out(JSON.stringify(summary, null, 2));
    io.out(`lithe compress: ${recipe.name ?? recipeFile} on ${file}`);
    for (const line of renderSummary(summary)) io.out(line);
  },
};
