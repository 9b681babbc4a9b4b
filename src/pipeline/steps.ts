/**
 * What each recipe step does, through the same library calls as its command: `lithe prune`
 * (prune/finetune.ts, prune/structured.ts), `lithe quantize` (quantize/static.ts, dynamic.ts,
 * fp16.ts) and `lithe distill` (distill/). Options have the commands' names and defaults.
 *
 * A step gets the current model and returns the next one with notes for the report (one line
 * each, "60% unstructured (l1, global), 1 epoch fine-tuning"), and what it knows per layer:
 * sparsity after pruning.
 */
import type { Preprocess } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import type { Model } from '../graph/ir.js';
import { channelTaylorScores } from '../prune/channel-taylor.js';
import { finetune, pruneScheduled, PRUNE_FINETUNE_DEFAULTS, type FinetuneOptions } from '../prune/finetune.js';
import type { ScheduleName } from '../prune/schedule.js';
import type { Schedule } from '../train/trainer.js';
import { pruneChannels } from '../prune/structured.js';
import { trainingGradients } from '../prune/taylor.js';
import { sparsityOf, type Method, type SparsityReport } from '../prune/unstructured.js';
import type { CalibrationMethod } from '../quantize/calibrate.js';
import { calibrationFeeds } from '../quantize/collect.js';
import { quantizeDynamic } from '../quantize/dynamic.js';
import { convertFloat16 } from '../quantize/fp16.js';
import { analyzeSensitivity } from '../quantize/sensitivity.js';
import { quantizeStatic, type Calibration, type QuantizeReport, type StaticOptions } from '../quantize/static.js';
import type { LayerSensitivity } from '../report/types.js';
import { Progress } from '../report/progress.js';
import { runDistill } from './distill-step.js';
import type { RecipeStep } from './recipe.js';

export interface StepContext {
  /** The train split of the pipeline's data (opened on first use). */
  train(): Promise<Dataset>;
  test: Dataset;
  /** The input model of the whole pipeline (the teacher of a distill step). */
  inputFile: string;
  /** Resolves a path written in the recipe (relative to the recipe's folder). */
  resolve(path: string): string;
  /** Pixels → input for training, calibration and evaluation batches. */
  preprocess: Preprocess;
  progress: boolean;
  log(line: string): void;
}

export interface StepResult {
  model: Model;
  notes: string[];
  /** Per-layer sparsity of the step's model (prune steps). */
  sparsity?: SparsityReport;
  /** Per-node quantization sensitivity (quantize steps), when the quantize library reports one. */
  sensitivity?: LayerSensitivity[];
}

export async function runStep(step: RecipeStep, model: Model, ctx: StepContext): Promise<StepResult> {
  switch (step.kind) {
    case 'prune':
      return runPrune(step, model, ctx);
    case 'quantize':
      return runQuantize(step, model, ctx);
    case 'distill':
      return runDistill(step, model, ctx);
  }
}

const pct = (x: number) => `${+(100 * x).toFixed(1)}%`;

/** Fine-tuning options of a prune step, or undefined without 'finetune-epochs'. */
async function finetuneOptions(step: RecipeStep, ctx: StepContext): Promise<FinetuneOptions | undefined> {
  const o = step.options;
  const epochs = o.num('finetune-epochs', 0);
  if (epochs === 0) return undefined;
  const train = await ctx.train();
  const seed = o.num('seed', 0);
  const limit = o.num('limit');
  let bar: Progress | undefined;
  return {
    train,
    epochs,
    // lithe prune's measured fine-tuning recipe (PRUNE_FINETUNE_DEFAULTS), so a recipe step and the command agree
    batch: o.num('batch', PRUNE_FINETUNE_DEFAULTS.batch),
    lr: o.num('lr', PRUNE_FINETUNE_DEFAULTS.lr),
    schedule: o.str<Schedule>('lr-schedule', PRUNE_FINETUNE_DEFAULTS.schedule),
    seed,
    subset: limit ? permutation(train.size, seed).slice(0, Math.min(limit, train.size)) : undefined,
    preprocess: ctx.preprocess,
    onStep: (s) => {
      if (s.batchInEpoch === 1) bar = new Progress(`${step.name}: fine-tune`, s.batchesPerEpoch, { enabled: ctx.progress, unit: 'batches' });
      bar?.tick(1, `loss ${s.loss.toFixed(4)}`);
      if (s.batchInEpoch === s.batchesPerEpoch) bar?.finish();
    },
  };
}

async function runPrune(step: RecipeStep, model: Model, ctx: StepContext): Promise<StepResult> {
  const o = step.options;
  const include = o.list('include');
  const exclude = o.list('exclude');
  const sparsity = o.num('sparsity', 0.5);
  const method = o.str<Method>('method', 'l1');
  const seed = o.num('seed', 0);
  const ft = await finetuneOptions(step, ctx);
  const tuned = ft ? `, ${ft.epochs} epoch${ft.epochs === 1 ? '' : 's'} fine-tuning${ft.subset ? ` on ${ft.subset.length} samples` : ''}` : ', no fine-tuning';
  const train = method === 'taylor' ? await ctx.train() : undefined;
  const gradients = train ? trainingGradients(train, { batches: o.num('taylor-batches', 4), seed, preprocess: ctx.preprocess }) : undefined;
  if (o.flag('structured')) {
    const r = pruneChannels(model, {
      ratio: sparsity,
      targetMacs: o.num('target-macs'),
      criterion: method as 'l1' | 'l2' | 'taylor',
      scores: gradients ? await channelTaylorScores(model, gradients) : undefined,
      include,
      exclude,
      channelMultiple: o.num('channel-multiple', 8),
    });
    const pruned = ft ? (await finetune(r.model, undefined, ft)).model : r.model;
    const what = o.has('target-macs') ? `MACs ≤ ${o.num('target-macs')}× (${pct(r.ratio)} of channels)` : `${pct(r.ratio)} of channels`;
    return { model: pruned, notes: [`structured: ${what} removed (${method})${tuned}`], sparsity: sparsityOf(pruned) };
  }
  const schedule = o.str<ScheduleName>('schedule', 'oneshot');
  const r = await pruneScheduled(model, {
    method,
    sparsity,
    threshold: o.num('threshold'),
    scope: o.str<'global' | 'local'>('scope', 'global'),
    include,
    exclude,
    seed,
    schedule,
    steps: o.num('steps', 3),
    finetune: ft,
    gradients,
  });
  const target = method === 'threshold' ? `|w| < ${o.num('threshold')}` : pct(sparsity);
  const sp = sparsityOf(r.model, { include, exclude });
  return {
    model: r.model,
    notes: [`${target} unstructured (${method}, ${o.str('scope', 'global')}, ${schedule})${tuned}: ${pct(sp.sparsity)} of weights are zero`],
    sparsity: sp,
  };
}

async function runQuantize(step: RecipeStep, model: Model, ctx: StepContext): Promise<StepResult> {
  const o = step.options;
  const mode = o.str('mode', 'static');
  const common = { exclude: o.list('exclude'), excludeOps: o.list('exclude-ops'), perChannel: !o.flag('per-tensor'), reduceRange: o.flag('reduce-range') };
  let r: { model: Model; report: QuantizeReport };
  let sensitivity: LayerSensitivity[] | undefined;
  if (mode === 'static') {
    const feeds = calibrationFeeds(model, await ctx.train(), o.num('calib-size', 512), undefined, ctx.preprocess);
    const method = o.str<CalibrationMethod>('method', 'minmax');
    const bar = new Progress(`${step.name}: calibrate`, (method === 'minmax' ? 1 : 2) * feeds.length, { enabled: ctx.progress, unit: 'batches' });
    const opts: StaticOptions = {
      ...common,
      method,
      percentile: o.num('percentile', 99.999),
      weightType: o.str<'int8' | 'uint8'>('weight-type', 'int8'),
      activationType: o.str<'uint8' | 'int8'>('activation-type', 'uint8'),
      symmetricActivations: o.flag('symmetric-activations'),
    };
    let calibration: Calibration | undefined;
    if (o.values.sensitivity !== false) {
      // each node quantized alone, SQNR of the model output vs float on the calibration samples (for
      // the report); it calibrates every tensor the full plan needs too, so quantizeStatic reuses it
      const s = await analyzeSensitivity(model, () => feeds, { ...opts, onBatch: () => bar.tick() });
      sensitivity = s.rows.map((row) => ({ node: row.node, op: row.opType, sqnrDb: row.sqnrDb }));
      calibration = s.calibration;
    }
    r = await quantizeStatic(model, () => feeds, { ...opts, calibration, onBatch: () => bar.tick() });
    bar.finish();
  } else if (mode === 'dynamic') {
    r = quantizeDynamic(model, common);
  } else {
    r = convertFloat16(model, { keepIoTypes: true, exclude: common.exclude, excludeOps: common.excludeOps });
  }
  const q = r.report.nodes.filter((n) => n.quantized).length;
  const calib = r.report.calibration ? `, calibrated on ${r.report.calibration.samples} samples (${r.report.calibration.method})` : '';
  const what = mode === 'fp16' ? 'fp16' : `${mode} int8${mode === 'static' ? ' QDQ' : ''}, ${common.perChannel ? 'per-channel' : 'per-tensor'} ${common.reduceRange ? '7-bit (reduce-range)' : '8-bit'} weights`;
  const notes = [`${what}: ${q} node${q === 1 ? '' : 's'} quantized, ${r.report.nodes.length - q} float${calib}`, ...r.report.notes];
  return { model: r.model, notes, sensitivity };
}

