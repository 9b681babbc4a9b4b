/**
 * The compression pipeline: the input model, then each recipe step on the current model, every
 * stage saved to OUTDIR/<name>.onnx (atomically) and measured from that file (measure.ts).
 *
 * The budget: with `maxDrop` (percentage points), a step whose top-1 falls more than maxDrop
 * below the INPUT model's top-1 is rejected — its file is kept as OUTDIR/<name>.rejected.onnx
 * for inspection, and the next step starts from the last accepted model instead. Measuring
 * against the input rather than the previous stage keeps small drops from adding up unseen.
 */
import type { Preprocess } from '../data/batcher.js';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { LitheError } from '../errors.js';
import { loadModel, saveModel } from '../onnx/io.js';
import type { SparsityReport } from '../prune/unstructured.js';
import type { LayerSensitivity } from '../report/types.js';
import { openDatasetFor } from '../runtime/dataset-eval.js';
import { modelInput } from '../runtime/model-input.js';
import { measureFile, type Measurement } from './measure.js';
import type { Recipe, StepKind } from './recipe.js';
import { runStep } from './steps.js';

export interface PipelineOptions {
  inputFile: string;
  recipe: Recipe;
  /** Dataset spec, as `lithe eval --data` takes it: train split for steps, test split for accuracy. */
  data: string;
  outDir: string;
  /** Reject steps whose top-1 drop vs the input exceeds this many percentage points. */
  maxDrop?: number;
  /** Timed benchmark runs per stage, batch 1. */
  runs: number;
  threads: number;
  /** Pixels → input for every step's training, calibration and evaluation (default pixel/255, NCHW). */
  preprocess?: Preprocess;
  progress: boolean;
  log: (line: string) => void;
  /** Label of the input stage (default 'input'). */
  inputName?: string;
  /** Notes on the input stage (where it came from). */
  inputNotes?: string[];
}

export type StageStatus = 'input' | 'accepted' | 'rejected';

export interface StageSummary extends Omit<Measurement, 'confusion'> {
  name: string;
  kind: StepKind | 'input';
  /** 1-based recipe step; 0 for the input. */
  step: number;
  status: StageStatus;
  file: string;
  /** The stage this one was made from (its input model). */
  from: string;
  /** Top-1 drop against the input model, percentage points (negative: better). */
  dropPp: number;
  /** Wall time of the step itself (training, calibration), without measuring. */
  seconds: number;
  notes: string[];
}

export interface PipelineResult {
  stages: StageSummary[];
  test: Dataset;
  /** Confusion matrix of the final (last accepted) model. */
  confusion: number[][];
  /** Per-layer sparsity after the last accepted prune step. */
  sparsity?: SparsityReport;
  /** Per-node sensitivity from the last accepted quantize step that measured one. */
  sensitivity?: LayerSensitivity[];
  final: StageSummary;
}

/** The input model is never overwritten: no stage file may be the input file. */
function checkOutputs(o: PipelineOptions): void {
  for (const step of o.recipe.steps) {
    for (const file of [`${step.name}.onnx`, `${step.name}.rejected.onnx`]) {
      if (resolve(o.outDir, file) === resolve(o.inputFile))
        throw new LitheError(
          'E_USAGE',
          `step ${step.index} (${step.name}) would write ${join(o.outDir, file)}, which is the input model; give the step another name or choose another output folder`,
        );
    }
  }
}

/** Runs the recipe on the input model; see the header for what is written and how steps are judged. */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  checkOutputs(o);
  mkdirSync(o.outDir, { recursive: true });
  const first = loadModel(o.inputFile);
  const test = await openDatasetFor(o.data, 'test', modelInput(first, o.inputFile));
  let train: Promise<Dataset> | undefined;
  const recipeDir = o.recipe.source.startsWith('built-in') ? process.cwd() : dirname(resolve(o.recipe.source));
  const measureOpts = { test, runs: o.runs, threads: o.threads, preprocess: o.preprocess, progress: o.progress };

  const inputName = o.inputName ?? 'input';
  o.log(`${inputName}: measuring ${o.inputFile}`);
  const base = await measureFile(o.inputFile, inputName, measureOpts);
  const { confusion: inputConfusion, ...baseM } = base.m;
  const input: StageSummary = {
    name: inputName,
    kind: 'input',
    step: 0,
    status: 'input',
    file: o.inputFile,
    from: '',
    dropPp: 0,
    seconds: 0,
    notes: o.inputNotes ?? [],
    ...baseM,
  };
  const stages: StageSummary[] = [input];
  let current = { model: base.model, stage: input, confusion: inputConfusion };
  let sparsity: SparsityReport | undefined;
  let sensitivity: LayerSensitivity[] | undefined;

  for (const step of o.recipe.steps) {
    o.log(`step ${step.index}/${o.recipe.steps.length}: ${step.name} (${step.kind}) on ${current.stage.name}`);
    const t0 = performance.now();
    const r = await runStep(step, current.model, {
      train: () => (train ??= openDatasetFor(o.data, 'train', modelInput(current.model, current.stage.file))),
      test,
      inputFile: o.inputFile,
      resolve: (p) => resolve(recipeDir, p),
      preprocess: o.preprocess ?? {},
      progress: o.progress,
      log: o.log,
    });
    const seconds = (performance.now() - t0) / 1000;
    r.model.producerName = 'lithe';
    const file = join(o.outDir, `${step.name}.onnx`);
    saveModel(r.model, file);
    const { model, m } = await measureFile(file, step.name, measureOpts);
    const { confusion, ...rest } = m;
    const dropPp = 100 * (input.top1 - m.top1);
    const rejected = o.maxDrop !== undefined && dropPp > o.maxDrop;
    const stage: StageSummary = {
      name: step.name,
      kind: step.kind,
      step: step.index,
      status: rejected ? 'rejected' : 'accepted',
      file,
      from: current.stage.name,
      dropPp,
      seconds,
      notes: r.notes,
      ...rest,
    };
    if (rejected) {
      stage.file = join(o.outDir, `${step.name}.rejected.onnx`);
      renameSync(file, stage.file);
      stage.notes = [
        `REJECTED: top-1 drop ${dropPp.toFixed(2)} pp vs ${input.name} exceeds the budget of ${o.maxDrop} pp; the next step starts from ${current.stage.name}`,
        ...r.notes,
      ];
      o.log(
        `step ${step.index} (${step.name}) rejected: top-1 ${(100 * m.top1).toFixed(2)}% is ${dropPp.toFixed(2)} pp below ${input.name}, over the --max-drop budget of ${o.maxDrop} pp; kept as ${stage.file}, not used`,
      );
    } else {
      // A stale rejected file from an earlier run would contradict this run's summary.
      if (existsSync(join(o.outDir, `${step.name}.rejected.onnx`))) rmSync(join(o.outDir, `${step.name}.rejected.onnx`));
      current = { model, stage, confusion };
      if (r.sparsity) sparsity = r.sparsity;
      if (r.sensitivity) sensitivity = r.sensitivity;
    }
    stages.push(stage);
  }
  return { stages, test, confusion: current.confusion, sparsity, sensitivity, final: current.stage };
}
