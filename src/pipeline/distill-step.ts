/**
 * The distill step: the pipeline's current model is the teacher, the step's 'student' (an
 * architecture name or a model file, relative to the recipe) is trained on the train split by
 * distill/distill.ts — the library `lithe distill` calls, with the same option names.
 */
import { existsSync } from 'node:fs';
import { LitheError } from '../errors.js';
import { parseFeatures } from '../distill/features.js';
import { distill, DISTILL_DEFAULTS } from '../distill/distill.js';
import { permutation } from '../data/rng.js';
import type { Model } from '../graph/ir.js';
import { ARCHITECTURES, buildArchitecture } from '../models/index.js';
import { loadModel } from '../onnx/io.js';
import type { Schedule } from '../train/trainer.js';
import { Progress } from '../report/progress.js';
import type { RecipeStep } from './recipe.js';
import type { StepContext, StepResult } from './steps.js';

function studentModel(spec: string, seed: number, ctx: StepContext, where: string): { model: Model; label: string } {
  if (ARCHITECTURES[spec]) return { model: buildArchitecture(spec, { seed }), label: spec };
  const file = ctx.resolve(spec);
  if (!existsSync(file))
    throw new LitheError(
      'E_USAGE',
      `${where}: option 'student' '${spec}' is neither an architecture (${Object.keys(ARCHITECTURES).join(', ')}) nor a model file`,
    );
  return { model: loadModel(file), label: file };
}

export async function runDistill(step: RecipeStep, teacher: Model, ctx: StepContext): Promise<StepResult> {
  const o = step.options;
  const d = DISTILL_DEFAULTS;
  const seed = o.num('seed', 0);
  const student = studentModel(o.str('student', 'student'), seed, ctx, `step ${step.index} (${step.name})`);
  const train = await ctx.train();
  const limit = o.num('limit');
  const subset = limit ? permutation(train.size, seed).slice(0, Math.min(limit, train.size)) : undefined;
  const samples = subset?.length ?? train.size;
  const epochs = o.num('epochs', d.epochs);
  const temperature = o.num('temperature', d.temperature);
  const alpha = o.num('alpha', d.alpha);
  const optimizer = o.str<'sgd' | 'adam' | 'adamw'>('optimizer', d.optimizer);
  const schedule = o.str<Schedule>('schedule', d.schedule);
  const augment = o.flag('augment');
  const features = o.list('features');
  let bar: Progress | undefined;
  let cacheBar: Progress | undefined;
  let cached = 0;
  const r = await distill({
    teacher,
    student: student.model,
    teacherLabel: ctx.inputFile,
    studentLabel: student.label,
    train,
    subset,
    temperature,
    alpha,
    features: features.length ? parseFeatures(features.join(',')) : undefined,
    featureWeight: o.num('feature-weight', 1),
    teacherMode: o.str<'auto' | 'cache' | 'run' | 'graph'>('teacher-mode', 'auto'),
    trainer: {
      epochs,
      batch: o.num('batch', d.batch),
      lr: o.num('lr', d.lr),
      optimizer: { name: optimizer, momentum: 0.9, weightDecay: o.num('weight-decay', d.weightDecay) },
      schedule,
      augment: augment ? { pad: o.num('augment-pad', 2) } : false,
      seed,
      preprocess: ctx.preprocess,
      evaluate: false,
      onStep: (s) => {
        if (s.batchInEpoch === 1) bar = new Progress(`${step.name}: epoch ${s.epoch}/${epochs}`, samples, { enabled: ctx.progress, unit: 'samples' });
        bar?.tick(s.samples, `loss ${s.loss.toFixed(4)}`);
      },
      onEpochEnd: (e) => {
        bar?.finish();
        ctx.log(
          `${step.name}: epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}, train acc ${(100 * e.trainAccuracy).toFixed(2)}%, ${e.seconds.toFixed(1)} s`,
        );
      },
    },
    onCache: (done, total) => {
      cacheBar ??= new Progress(`${step.name}: teacher logits`, total, { enabled: ctx.progress, unit: 'samples' });
      cacheBar.tick(done - cached);
      cached = done;
      if (done === total) cacheBar.finish();
    },
  });
  const how = `${epochs} epoch${epochs === 1 ? '' : 's'} on ${samples} samples, T = ${temperature}, α = ${alpha}, ${optimizer}${schedule === 'constant' ? '' : ` ${schedule}`}${augment ? ', augmented' : ''}`;
  const feats = features.length ? `, features ${features.join(', ')}` : '';
  return { model: r.model, notes: [`${student.label} distilled from ${ctx.inputFile}: ${how}${feats} (teacher ${r.teacherMode})`] };
}
