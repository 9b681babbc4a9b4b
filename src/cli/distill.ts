/**
 * `lithe distill`: trains a student (an architecture or a model file) to match a teacher's
 * temperature-softened outputs and the hard labels (src/distill/), writes the student alone, and
 * reports the written file's top-1 on the test split, measured by a fresh onnxruntime session.
 *
 *   L = α·CE(y, s) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)) [+ β·Σ feature MSE]
 *
 * T² keeps the soft-target gradients on the scale of the hard ones (Hinton et al. 2015).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Preprocess } from '../data/batcher.js';
import { openDataset, type Dataset } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import { distill, DISTILL_DEFAULTS } from '../distill/distill.js';
import { parseFeatures } from '../distill/features.js';
import { checkKdOptions } from '../distill/kd-loss.js';
import { LitheError } from '../errors.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { evaluateOnDataset } from '../runtime/dataset-eval.js';
import type { EvalResult } from '../runtime/evaluate.js';
import type { Schedule } from '../train/trainer.js';
import { choice, flag, int, num, str, UsageError, type Command } from './command.js';
import { Progress } from '../report/progress.js';
import { epochReporter } from './progress.js';
import { modelOrArchitecture } from './train.js';
import { inputNormalization, NORMALIZE_HELP, NORMALIZE_OPTIONS } from './run.js';

const D = DISTILL_DEFAULTS;

/** Top-1/top-5 of a model file on a dataset, through a fresh onnxruntime session. */
function evaluateFile(file: string, ds: Dataset, preprocess: Preprocess, threads?: number): Promise<EvalResult> {
  return evaluateOnDataset(loadModel(file), file, ds, { ...preprocess, batch: 500, threads });
}

export const distillCommand: Command = {
  name: 'distill',
  summary: 'knowledge distillation: train a small student on a teacher’s soft targets and the labels',
  help: `Usage: lithe distill --teacher T.onnx --student ARCH|S.onnx --data DATASET --epochs N -o OUT.onnx [options]

Trains the student on
  L = α·CE(y, student) + (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))
(Hinton et al. 2015). Softening by T shrinks the soft-target gradients by 1/T²; the T² factor
keeps them on the scale of the hard-label gradients, so α means the same at every T.
The teacher's logits come from onnxruntime: one pass over the un-augmented training set, cached
(float32 [N, C]), or with --augment/--features a teacher run on every batch as the student sees
it. The output is the student alone (no teacher or adapter nodes), with the test-split top-1 of
the written file.

  --teacher T.onnx    trained teacher (same input shape and classes as the student)
  --student S         an architecture (student, ref-cnn, teacher, mobilenetv2) or an ONNX model
  --data DATASET      fashion-mnist (default), fashion-mnist-mini, or a dataset folder
  --epochs N          epochs (default ${D.epochs})
  -o, --output OUT    output model (written atomically)
  --temperature T     softmax temperature (default ${D.temperature})
  --alpha A           weight of the hard-label cross-entropy, 1 − A on the soft targets (default ${D.alpha})
  --features T:S,…    also match teacher node T's output to student node S's output (MSE through a
                      learned 1×1 conv adapter, student channels → teacher channels; spatial sizes
                      must match); the adapters are dropped from the written model
  --feature-weight B  weight of each feature term (default 1)
  --augment           random crop (zero pad --augment-pad px, default 2) and horizontal flip; the
                      teacher sees the same augmented batch
  --optimizer O       adam, adamw (default ${D.optimizer}) or sgd
  --lr X              peak learning rate (default ${D.lr})
  --weight-decay X    (default ${D.weightDecay}; decoupled with adamw)
  --schedule S        constant, cosine or onecycle (default ${D.schedule})
  --batch N           batch size (default ${D.batch})
  --seed N            student initialisation and shuffling (default 0)
  --teacher-mode M    auto (default): cache without --augment/--features, else run; run: a
                      separate teacher run per batch; graph: the teacher inside the training graph
  --threads N         onnxruntime intra-op threads (default: one per core)
  --limit N           train on N samples drawn with --seed (quick runs)
  --json              one JSON record per epoch, then a summary record; no progress bar

Defaults (T ${D.temperature}, α ${D.alpha}, ${D.optimizer} ${D.schedule} lr ${D.lr}, ${D.epochs} epochs) are the recipe measured on
full Fashion-MNIST with lithe's teacher (src/distill/distill.ts has the numbers).

Input preprocessing, one for both models (the teacher's logits are computed on the batches the
student trains on); the student learns on these inputs, and the written model expects them:
${NORMALIZE_HELP}

Examples:
  lithe distill --teacher data/teacher/teacher.onnx --student student --data fashion-mnist -o student.onnx
  lithe distill --teacher t.onnx --student s.onnx --features features.6:pool1 --augment -o s2.onnx`,
  options: {
    teacher: { type: 'string' },
    student: { type: 'string' },
    data: { type: 'string' },
    epochs: { type: 'string' },
    output: { type: 'string', short: 'o' },
    temperature: { type: 'string' },
    alpha: { type: 'string' },
    features: { type: 'string' },
    'feature-weight': { type: 'string' },
    augment: { type: 'boolean' },
    'augment-pad': { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    'weight-decay': { type: 'string' },
    schedule: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    'teacher-mode': { type: 'string' },
    threads: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
  },
  async run(args, io) {
    if (args.positionals.length) throw new UsageError(`lithe distill: unexpected argument '${args.positionals[0]}'`, this);
    const teacherFile = str(args, 'teacher');
    const studentSpec = str(args, 'student');
    const out = str(args, 'output');
    if (!teacherFile) throw new UsageError('lithe distill: missing --teacher T.onnx', this);
    if (!studentSpec) throw new UsageError('lithe distill: missing --student ARCH|S.onnx', this);
    if (!out) throw new UsageError('lithe distill: missing -o OUT.onnx', this);
    for (const input of [teacherFile, studentSpec])
      if (existsSync(input) && resolve(out) === resolve(input)) throw new UsageError(`lithe distill: -o ${out} would overwrite the input model`, this);
    if (!existsSync(teacherFile)) throw new LitheError('E_IO', `--teacher ${teacherFile}: no such file`);
    const json = flag(args, 'json');
    const seed = int(args, 'seed', 0);
    const epochs = int(args, 'epochs', D.epochs, { min: 1 });
    const batch = int(args, 'batch', D.batch, { min: 1 });
    const threads = int(args, 'threads', 0) || undefined;
    const temperature = num(args, 'temperature', D.temperature);
    const alpha = num(args, 'alpha', D.alpha);
    const optimizer = choice(args, 'optimizer', ['sgd', 'adam', 'adamw'] as const, D.optimizer);
    const schedule = choice(args, 'schedule', ['constant', 'cosine', 'onecycle'] as const, D.schedule) as Schedule;
    const teacherMode = choice(args, 'teacher-mode', ['auto', 'cache', 'run', 'graph'] as const, 'auto');
    const features = str(args, 'features') ? parseFeatures(str(args, 'features')!) : [];
    checkKdOptions(alpha, temperature);
    const augment = flag(args, 'augment') ? { pad: int(args, 'augment-pad', 2, { min: 0 }) } : false;

    const teacher = loadModel(teacherFile);
    const student = modelOrArchitecture(studentSpec, seed);
    const preprocess = inputNormalization(args, student, studentSpec);
    const data = str(args, 'data') ?? 'fashion-mnist';
    const [train, test] = await Promise.all([openDataset(data, { split: 'train' }), openDataset(data, { split: 'test' })]);
    const limit = int(args, 'limit', 0);
    const subset = limit > 0 ? permutation(train.size, seed).slice(0, Math.min(limit, train.size)) : undefined;
    const samples = subset?.length ?? train.size;
    if (!json)
      io.err(
        `distilling ${teacherFile} → ${studentSpec} on ${train.source}: ${samples} samples, ${epochs} epoch(s), T ${temperature}, α ${alpha}, ` +
          `${optimizer} ${schedule} lr ${num(args, 'lr', D.lr)}, batch ${batch}${augment ? ', augmented' : ''}${features.length ? `, ${features.length} feature pair(s)` : ''}`,
      );

    let cacheBar: Progress | undefined;
    let cached = 0;
    const t0 = performance.now();
    const result = await distill({
      teacher,
      student,
      teacherLabel: teacherFile,
      studentLabel: studentSpec,
      train,
      test,
      subset,
      temperature,
      alpha,
      features,
      featureWeight: num(args, 'feature-weight', 1),
      teacherMode,
      onCache: (done, total) => {
        cacheBar ??= new Progress('teacher logits', total, { enabled: io.isTTY && !json, unit: 'samples' });
        cacheBar.tick(done - cached);
        cached = done;
        if (done === total) cacheBar.finish();
      },
      trainer: {
        epochs,
        batch,
        lr: num(args, 'lr', D.lr),
        optimizer: { name: optimizer, momentum: 0.9, weightDecay: num(args, 'weight-decay', D.weightDecay) },
        schedule,
        augment,
        seed,
        threads,
        preprocess,
        ...epochReporter(io, { epochs, samples, json }),
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    saveModel(result.model, out);
    // The figures reported are those of the written files, each in a fresh session.
    const [final, teacherEval] = [await evaluateFile(out, test, preprocess, threads), await evaluateFile(teacherFile, test, preprocess, threads)];
    const summary = {
      output: out,
      teacher: teacherFile,
      student: studentSpec,
      data: { name: test.name, source: train.source, trainSamples: samples, testSamples: test.size },
      temperature,
      alpha,
      epochs,
      teacherMode: result.teacherMode,
      cacheSeconds: result.cacheSeconds,
      seconds,
      top1: final.top1,
      top5: final.top5,
      teacherTop1: teacherEval.top1,
    };
    if (json) io.out(JSON.stringify(summary));
    else {
      if (result.cacheSeconds !== undefined) io.err(`teacher logits cached in ${result.cacheSeconds.toFixed(1)} s`);
      io.err(`wrote ${out}: test top-1 ${(100 * final.top1).toFixed(2)}% (teacher ${(100 * teacherEval.top1).toFixed(2)}%), ${seconds.toFixed(0)} s`);
    }
  },
};
