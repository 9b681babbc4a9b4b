/**
 * `lithe prune MODEL -o OUT`: unstructured masks (dense ONNX with zeros) or structured channel
 * removal (a smaller dense model), optionally along a schedule with fine-tuning, and a summary of
 * what it cost and bought: sparsity per layer and overall, parameters and MACs, file size raw and
 * gzip, and top-1 before pruning, after pruning (before fine-tuning) and after fine-tuning on the
 * test split when --data is given. Every figure is measured on the files written or, for the
 * pruned-before-fine-tuning top-1, on the model in memory (through onnxruntime in both cases).
 */
import { resolve } from 'node:path';
import { countMacs, countParams } from '../analysis/profile.js';
import type { Dataset } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import type { Model } from '../graph/ir.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { finetune, PRUNE_FINETUNE_DEFAULTS, pruneScheduled, type FinetuneOptions } from '../prune/finetune.js';
import { SCHEDULES } from '../prune/schedule.js';
import { pruneChannels, type GroupResult } from '../prune/structured.js';
import { channelTaylorScores } from '../prune/channel-taylor.js';
import { trainingGradients } from '../prune/taylor.js';
import { METHODS, sparsityOf, type SparsityReport } from '../prune/unstructured.js';
import { choice, flag, int, num, positionals, str, UsageError, type Command, type CommandIO, type Parsed } from './command.js';
import { evaluateOnDataset, openDatasetFor } from '../runtime/dataset-eval.js';
import { bytes, pct, si, table, thousands } from './format.js';
import { diskSize } from '../onnx/disk-size.js';
import { Progress } from '../report/progress.js';
import { imageGeometry, modelInput } from '../runtime/model-input.js';
import { normalization, NORMALIZE_HELP, NORMALIZE_OPTIONS } from './run.js';

const list = (p: Parsed, name: string): string[] => (str(p, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);

interface Stats {
  params: number;
  macs: number;
  bytes: number;
  gzipBytes: number;
  top1?: number;
}

function stats(file: string, model: Model): Stats {
  const d = diskSize(file, model);
  return { params: countParams(model).total, macs: countMacs(model).total, bytes: d.bytes, gzipBytes: d.gzipBytes };
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'prune a model: unstructured masks (zeros) or structured channel removal (smaller model)',
  help: `Usage: lithe prune MODEL -o OUT [--sparsity S] [--method l1|l2|random|threshold|taylor]
       [--threshold T] [--scope global|local] [--include NODE,…|--exclude NODE,…]
       [--structured [--target-macs F]] [--schedule oneshot|iterative|polynomial] [--steps K]
       [--finetune-epochs N --data DATASET] [--json]

Unstructured (default): zeroes the least important weights of every Conv, ConvTranspose, Gemm and
MatMul (biases and normalization parameters are left alone). The output is a dense ONNX model
with exact zeros: it loads anywhere, and the zeros show in the gzip size.
  --sparsity S        fraction of the selected weights to zero (default 0.5)
  --method M          l1 |w| (default), l2 w² (same ranking as l1 for single weights), random
                      (seeded baseline), threshold (|w| < T), taylor (Σ|w·∂L/∂w| over
                      --taylor-batches batches of --data's train split, via the training engine)
  --threshold T       for --method threshold
  --scope S           global (default: rank all weights together, as PyTorch's
                      global_unstructured) or local (every layer to the same sparsity)
  --include NODE,…    prune only these nodes;  --exclude NODE,…  all but these
  --seed N            seed for random, shuffling and fine-tuning (default 0)

Structured (--structured): removes whole output channels of Conv and units of Gemm, ranked by the
L1 (or --method l2) norm of their weights, or by --method taylor (the first-order loss change
when the channel is removed, |γ·∂L/∂γ + β·∂L/∂β| of the BatchNorm after it, else |Σ w·∂L/∂w| over
its weights, summed over --taylor-batches batches of --data), and rewrites every consumer
(BatchNorm, depthwise convs, the next layer's inputs, a Gemm after Flatten, Concat); channels
joined by a residual Add are removed together. Graph outputs keep their channels.
  --sparsity S        fraction of channels removed from every group (default 0.5)
  --target-macs F     instead: the smallest uniform fraction that brings MACs to ≤ F × the original
  --channel-multiple M  keep a multiple of M channels in every group whose size is one (default 8;
                      1 turns it off): CPU kernels work in blocks of 8/16 channels, and odd
                      counts can make a pruned model slower than the dense one

Schedules and fine-tuning (unstructured):
  --schedule S        oneshot (default); iterative (each step removes the same fraction of what
                      is left); polynomial (TF-MOT: s_t = s_f + (s_i − s_f)(1 − t/T)^3)
  --steps K           pruning steps for iterative/polynomial (default 3)
  --finetune-epochs N fine-tune for N epochs in all, split over the steps; pruned weights stay
                      exactly zero (the mask is inside the training step). Needs --data
  --data DATASET      fashion-mnist, fashion-mnist-mini or a folder: train split for fine-tuning
                      and Taylor, test split for accuracy before/after
  --batch N --lr X    fine-tuning batch (default 64) and Adam learning rate (default 2e-3)
  --lr-schedule S     cosine (default: lr·½(1 + cos(π·t/T)) over the fine-tuning steps) or
                      constant; measured defaults: see PRUNE_FINETUNE_DEFAULTS in prune/finetune.ts
  --limit N           fine-tune on N samples of the train split (quick runs)
  --eval-limit N      accuracy on the first N test samples only
  --taylor-batches N  batches for Taylor saliency (default 4)
  --json              print the summary as JSON, no progress
${NORMALIZE_HELP}

Examples:
  lithe prune ref-cnn.onnx -o ref-cnn.s90.onnx --sparsity 0.9 --finetune-epochs 1 --data fashion-mnist
  lithe prune teacher.onnx -o teacher.half.onnx --structured --target-macs 0.5 --data fashion-mnist`,
  options: {
    output: { type: 'string', short: 'o' },
    sparsity: { type: 'string' },
    method: { type: 'string' },
    threshold: { type: 'string' },
    scope: { type: 'string' },
    include: { type: 'string' },
    exclude: { type: 'string' },
    structured: { type: 'boolean' },
    'target-macs': { type: 'string' },
    'channel-multiple': { type: 'string' },
    schedule: { type: 'string' },
    steps: { type: 'string' },
    'finetune-epochs': { type: 'string' },
    data: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'lr-schedule': { type: 'string' },
    limit: { type: 'string' },
    'eval-limit': { type: 'string' },
    'taylor-batches': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
  },
  async run(args, io: CommandIO) {
    const [file] = positionals(args, this, ['MODEL']);
    const out = str(args, 'output');
    if (!out) throw new UsageError('lithe prune: missing -o OUT', this);
    if (resolve(out) === resolve(file!)) throw new UsageError(`lithe prune: -o ${out} would overwrite the input model`, this);
    const json = flag(args, 'json');
    const method = choice(args, 'method', METHODS, 'l1');
    const structured = flag(args, 'structured');
    const sparsity = num(args, 'sparsity', 0.5);
    if (!(sparsity >= 0 && sparsity <= 1)) throw new UsageError(`--sparsity must be in [0, 1], got ${sparsity}`, this);
    const schedule = choice(args, 'schedule', SCHEDULES, 'oneshot');
    const include = list(args, 'include');
    const exclude = list(args, 'exclude');
    const seed = int(args, 'seed', 0);
    const epochs = int(args, 'finetune-epochs', 0);
    const spec = str(args, 'data');
    if (epochs > 0 && !spec) throw new UsageError('--finetune-epochs needs --data DATASET (the samples to fine-tune on)', this);
    if (method === 'taylor' && !spec) throw new UsageError('--method taylor needs --data DATASET (gradients come from its train split)', this);
    if (method === 'threshold' && str(args, 'threshold') === undefined) throw new UsageError('--method threshold needs --threshold T', this);
    if (str(args, 'target-macs') !== undefined && !structured) throw new UsageError('--target-macs needs --structured', this);
    if (structured && !['l1', 'l2', 'taylor'].includes(method)) throw new UsageError(`--structured ranks channels by l1, l2 or taylor; --method ${method} is for unstructured pruning`, this);
    if (structured && schedule !== 'oneshot') throw new UsageError('--structured prunes one-shot (then fine-tunes); --schedule is for unstructured pruning', this);

    const model = loadModel(file!);
    const input = modelInput(model, file!);
    // one preprocessing for evaluation, fine-tuning and Taylor gradients: the model's own
    const norm = normalization(args, imageGeometry(input.shape));
    let test: Dataset | undefined;
    let train: Dataset | undefined;
    if (spec) {
      test = await openDatasetFor(spec, 'test', input);
      if (epochs > 0 || method === 'taylor') train = await openDatasetFor(spec, 'train', input);
    }
    const evalLimit = int(args, 'eval-limit', 0);
    const evalSubset = test && evalLimit > 0 && evalLimit < test.size ? Uint32Array.from({ length: evalLimit }, (_, i) => i) : undefined;
    const accuracy = async (m: Model, label: string) => {
      if (!test) return undefined;
      const progress = new Progress(`eval ${label}`, evalSubset?.length ?? test.size, { enabled: io.isTTY && !json, unit: 'samples' });
      const r = await evaluateOnDataset(m, label, test, { ...norm, batch: 256, subset: evalSubset, onBatch: (n) => progress.tick(n) });
      progress.finish();
      return r.top1;
    };
    const before: Stats = { ...stats(file!, model), top1: await accuracy(model, file!) };

    const limit = int(args, 'limit', 0);
    let progress: Progress | undefined;
    const ft: FinetuneOptions | undefined = train && epochs > 0
      ? {
          train,
          epochs,
          batch: int(args, 'batch', PRUNE_FINETUNE_DEFAULTS.batch, { min: 1 }),
          lr: num(args, 'lr', PRUNE_FINETUNE_DEFAULTS.lr),
          schedule: choice(args, 'lr-schedule', ['constant', 'cosine'] as const, PRUNE_FINETUNE_DEFAULTS.schedule),
          seed,
          subset: limit > 0 ? permutation(train.size, seed).slice(0, Math.min(limit, train.size)) : undefined,
          preprocess: norm,
          onStep: (s) => {
            if (s.batchInEpoch === 1) progress = new Progress('fine-tune', s.batchesPerEpoch, { enabled: io.isTTY && !json, unit: 'batches' });
            progress?.tick(1, `loss ${s.loss.toFixed(4)}`);
            if (s.batchInEpoch === s.batchesPerEpoch) progress?.finish();
          },
        }
      : undefined;

    let pruned: Model;
    let groups: GroupResult[] | undefined;
    let ratio: number | undefined;
    // top-1 of the pruned model before fine-tuning (one-shot pruning with fine-tuning only)
    let prunedTop1: number | undefined;
    const gradients = method === 'taylor' && train ? trainingGradients(train, { batches: int(args, 'taylor-batches', 4, { min: 1 }), seed, preprocess: norm }) : undefined;
    if (structured) {
      const targetMacs = str(args, 'target-macs') === undefined ? undefined : num(args, 'target-macs', 0.5);
      const channelMultiple = int(args, 'channel-multiple', 8, { min: 1 });
      const scores = gradients ? await channelTaylorScores(model, gradients) : undefined;
      const r = pruneChannels(model, { ratio: sparsity, targetMacs, criterion: method as 'l1' | 'l2' | 'taylor', scores, include, exclude, channelMultiple });
      groups = r.groups;
      ratio = r.ratio;
      if (ft) prunedTop1 = await accuracy(r.model, 'pruned');
      pruned = ft ? (await finetune(r.model, undefined, ft)).model : r.model;
    } else {
      const threshold = str(args, 'threshold') === undefined ? undefined : num(args, 'threshold', 0);
      const oneshotFt = schedule === 'oneshot' && ft;
      const r = await pruneScheduled(model, {
        method,
        sparsity,
        threshold,
        scope: choice(args, 'scope', ['global', 'local'] as const, 'global'),
        include,
        exclude,
        seed,
        schedule,
        steps: int(args, 'steps', 3, { min: 1 }),
        // one-shot: prune here, measure, then fine-tune below (the same steps pruneScheduled takes)
        finetune: oneshotFt ? undefined : ft,
        gradients,
        onPruneStep: (s) => !json && s.steps > 1 && io.err(`step ${s.step}/${s.steps}: sparsity ${pct(s.sparsity, 1)}`),
      });
      pruned = r.model;
      if (oneshotFt) {
        prunedTop1 = await accuracy(pruned, 'pruned');
        pruned = (await finetune(pruned, r.masks, ft)).model;
      }
    }
    pruned.producerName = 'lithe';
    saveModel(pruned, out);
    const written = loadModel(out);
    const after: Stats = { ...stats(out, written), top1: await accuracy(written, out) };
    const sparsityReport = sparsityOf(written, structured ? {} : { include, exclude });
    const summary = {
      input: file!,
      output: out,
      mode: structured ? 'structured' : 'unstructured',
      method,
      ...(structured ? { channelRatio: ratio, groups } : { scope: choice(args, 'scope', ['global', 'local'] as const, 'global'), schedule, sparsity }),
      finetuneEpochs: epochs,
      ...(ft ? { finetune: { batch: ft.batch, lr: ft.lr, lrSchedule: ft.schedule, optimizer: 'adam', samples: ft.subset?.length ?? ft.train.size } } : {}),
      data: test ? { name: test.name, source: test.source, evaluated: evalSubset?.length ?? test.size } : undefined,
      weights: { params: sparsityReport.params, zeros: sparsityReport.zeros, sparsity: sparsityReport.sparsity, layers: sparsityReport.layers.map(({ dims, ...l }) => ({ ...l, dims })) },
      before,
      ...(prunedTop1 === undefined ? {} : { prunedTop1 }),
      after,
    };
    if (json) return io.out(JSON.stringify(summary, null, 2));
    printSummary(io.out, summary.output, sparsityReport, groups, before, after, prunedTop1);
  },
};

function printSummary(out: (l: string) => void, file: string, sp: SparsityReport, groups: GroupResult[] | undefined, before: Stats, after: Stats, prunedTop1?: number): void {
  out(`wrote ${file}`);
  out('');
  if (groups) {
    out(table([['group (sources)', 'channels', 'kept', 'note'], ...groups.map((g) => [g.sources.join(' + '), g.channels, g.kept, g.fixed ?? ''])], { align: ['l', 'r', 'r', 'l'] }));
  } else {
    out(table([['layer', 'op', 'shape', 'params', 'zeros', 'sparsity'], ...sp.layers.map((l) => [l.layer, l.op, l.dims.join('×'), thousands(l.params), thousands(l.zeros), pct(l.sparsity, 1)]),
      ['overall', '', '', thousands(sp.params), thousands(sp.zeros), pct(sp.sparsity, 2)]]));
  }
  out('');
  const ratio = (a: number, b: number) => (b ? (a / b).toFixed(3) : '-');
  const rows: (string | number)[][] = [
    ['', 'before', 'after', 'after/before'],
    ['params', thousands(before.params), thousands(after.params), ratio(after.params, before.params)],
    ['MACs', si(before.macs), si(after.macs), ratio(after.macs, before.macs)],
    ['file (raw)', bytes(before.bytes), bytes(after.bytes), ratio(after.bytes, before.bytes)],
    ['file (gzip)', bytes(before.gzipBytes), bytes(after.gzipBytes), ratio(after.gzipBytes, before.gzipBytes)],
  ];
  if (before.top1 !== undefined && after.top1 !== undefined) rows.push(['top-1', pct(before.top1), pct(after.top1), `${((after.top1 - before.top1) * 100).toFixed(2)} pp`]);
  out(table(rows));
  if (prunedTop1 !== undefined) out(`top-1 after pruning, before fine-tuning: ${pct(prunedTop1)}`);
}
