/**
 * `lithe eval MODEL --data DATASET`: top-1/top-5 accuracy, per-class accuracy and the confusion
 * matrix of a classifier on a labelled dataset (the metrics are defined in runtime/evaluate.ts).
 *
 * Which samples: all of the split; `--limit N` the first N in the split's stored order; or
 * `--per-class N` a stratified subset (N random samples of every class, seeded). The first N are
 * only representative when the split is not sorted by class: Fashion-MNIST (full and bundled)
 * keeps its original mixed order, but an image folder is read class by class.
 *
 * The evaluation itself is runtime/dataset-eval.ts's `evaluateOnDataset`, which prune and the
 * compress pipeline share.
 */
import { loadModel } from '../onnx/io.js';
import type { Dataset } from '../data/dataset.js';
import { stratifiedIndices } from '../data/batcher.js';
import type { EvalResult } from '../runtime/evaluate.js';
import { evaluateOnDataset, openDatasetFor } from '../runtime/dataset-eval.js';
import { imageGeometry, modelInput } from '../runtime/model-input.js';
import { Progress } from '../report/progress.js';
import { pct, table, thousands } from './format.js';
import { choice, flag, int, positionals, str, UsageError, type Command, type CommandIO } from './command.js';
import { normalization, NORMALIZE_HELP, NORMALIZE_OPTIONS } from './run.js';

export interface Selection {
  /** Dataset indices to evaluate, or undefined for all. */
  subset: Uint32Array | undefined;
  /** e.g. 'first 500 of 2,000', '20 per class (stratified, seed 0) of 2,000', 'all 2,000'. */
  description: string;
}

export function selectSamples(ds: Dataset, opts: { limit?: number; perClass?: number; seed?: number }): Selection {
  if (opts.limit !== undefined && opts.perClass !== undefined) throw new UsageError('--limit and --per-class exclude each other');
  const of = `of ${thousands(ds.size)}`;
  if (opts.perClass !== undefined) {
    const seed = opts.seed ?? 0;
    const subset = stratifiedIndices(ds.labels, opts.perClass, seed, ds.classes.length);
    return { subset, description: `${opts.perClass} per class (stratified, seed ${seed}) ${of}` };
  }
  if (opts.limit !== undefined && opts.limit < ds.size) {
    return { subset: Uint32Array.from({ length: opts.limit }, (_, i) => i), description: `first ${thousands(opts.limit)} ${of}` };
  }
  return { subset: undefined, description: `all ${thousands(ds.size)}` };
}

/** Everything an eval reports, as plain data (the --json output). */
export function evalReport(modelFile: string, ds: Dataset, selection: Selection, r: EvalResult) {
  return {
    model: modelFile,
    data: { name: ds.name, split: ds.split, source: ds.source, size: ds.size, selection: selection.description },
    samples: r.samples,
    top1: r.top1,
    top5: r.top5,
    correct: r.perClass.reduce((a, c) => a + c.correct, 0),
    perClass: r.perClass.map((c, i) => ({ class: i, label: ds.classes[i], ...c })),
    confusion: r.confusion,
  };
}

function renderEval(rep: ReturnType<typeof evalReport>, out: (line: string) => void): void {
  out(`${rep.model} on ${rep.data.name} ${rep.data.split}: ${thousands(rep.samples)} samples (${rep.data.selection})`);
  out(`source: ${rep.data.source}`);
  out(`top-1:  ${pct(rep.top1)}  (${thousands(rep.correct)}/${thousands(rep.samples)})`);
  out(`top-5:  ${pct(rep.top5)}`);
  out('');
  out(table([['class', 'label', 'correct', 'total', 'accuracy'], ...rep.perClass.map((c) => [c.class, c.label ?? '', c.correct, c.total, c.total ? pct(c.accuracy, 1) : '-'])], { align: ['r', 'l', 'r', 'r', 'r'] }));
  out('');
  out('confusion matrix (rows: true class, columns: predicted class)');
  out(table([['', ...rep.confusion.map((_, i) => String(i))], ...rep.confusion.map((row, t) => [String(t), ...row])]));
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'top-1/top-5 accuracy, per-class accuracy and confusion matrix on a dataset',
  help: `Usage: lithe eval MODEL --data DATASET [--split test|train] [--limit N | --per-class N] [--batch N] [--json]

Runs MODEL over a labelled dataset and reports top-1 and top-5 accuracy, accuracy per class and
the confusion matrix. The output names the data's source, so a bundled subset is never mistaken
for the full set.

DATASET is
  fashion-mnist       the full set at /usr/share/datasets/fashion-mnist (Debian package
                      dataset-fashion-mnist) when installed, else the bundled subset
  fashion-mnist-mini  the bundled subset (200 test / 600 train images per class)
  FOLDER              IDX files (train-/t10k-images-idx3-ubyte[.gz] and labels), or images in
                      one subfolder per class (resized to the model's input size)

  --data DATASET   the dataset (required)
  --split S        test (default) or train
  --limit N        only the first N samples of the split, in stored order (Fashion-MNIST's order
                   is mixed; an image folder is sorted by class, so prefer --per-class there)
  --per-class N    a stratified subset: N random samples of every class (see --seed)
  --seed S         seed for --per-class (default 0)
  --batch N        samples per run (default 64; a model with a fixed batch dim uses that)
  --json           print one JSON object; no progress bar
${NORMALIZE_HELP}

Example: lithe eval model.onnx --data fashion-mnist --limit 1000`,
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    limit: { type: 'string' },
    'per-class': { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    json: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
  },
  async run(args, io: CommandIO) {
    const [modelFile] = positionals(args, this, ['MODEL']);
    const spec = str(args, 'data');
    if (!spec) throw new UsageError('lithe eval: missing --data DATASET', this);
    const split = choice(args, 'split', ['test', 'train'] as const, 'test');
    const json = flag(args, 'json');
    const batch = int(args, 'batch', 64, { min: 1 });
    const limit = str(args, 'limit') === undefined ? undefined : int(args, 'limit', 0, { min: 1 });
    const perClass = str(args, 'per-class') === undefined ? undefined : int(args, 'per-class', 0, { min: 1 });
    const seed = int(args, 'seed', 0);
    const model = loadModel(modelFile!);
    const input = modelInput(model, modelFile!);
    const norm = normalization(args, imageGeometry(input.shape));
    const ds = await openDatasetFor(spec, split, input);
    const selection = selectSamples(ds, { limit, perClass, seed });
    const progress = new Progress('eval', selection.subset?.length ?? ds.size, { enabled: io.isTTY && !json, unit: 'samples' });
    const r = await evaluateOnDataset(model, modelFile!, ds, { ...norm, batch, subset: selection.subset, onBatch: (n) => progress.tick(n) });
    progress.finish();
    const rep = evalReport(modelFile!, ds, selection, r);
    if (json) io.out(JSON.stringify(rep, null, 2));
    else renderEval(rep, io.out);
  },
};
