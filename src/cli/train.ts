/**
 * `lithe train`: trains an architecture or an ONNX model on a dataset with lithe's trainer
 * (training-step graphs run in onnxruntime) and writes the inference model.
 */
import { existsSync } from 'node:fs';
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { ARCHITECTURES, buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { openDataset } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import { Trainer, type Schedule } from '../train/trainer.js';
import { epochReporter } from './progress.js';
import { choice, flag, int, num, positionals, str, UsageError, type Command } from './command.js';
import { inputNormalization, NORMALIZE_HELP, NORMALIZE_OPTIONS } from './run.js';

/** An architecture name or a model file. */
export function modelOrArchitecture(spec: string, seed: number): Model {
  if (ARCHITECTURES[spec]) return buildArchitecture(spec, { seed });
  if (!existsSync(spec)) throw new LitheError('E_IO', `'${spec}' is neither an architecture (${Object.keys(ARCHITECTURES).join(', ')}) nor a model file`);
  return loadModel(spec);
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train an architecture or ONNX model (autodiff graphs run in onnxruntime)',
  help: `Usage: lithe train ARCH|MODEL.onnx --data DATASET --epochs N -o OUT.onnx [options]

Builds a training-step graph (forward, loss, backward and optimizer update, standard ONNX ops
only), runs it in onnxruntime over the training split with a seeded shuffle each epoch, evaluates
on the test split after every epoch, and writes the inference model with the trained weights.

  --data DATASET      fashion-mnist (default), fashion-mnist-mini, or a dataset folder
  --epochs N          epochs (default 1)
  -o, --output OUT    output model (written atomically)
  --batch N           batch size (default 64; the last partial batch runs in its own session)
  --lr X              learning rate (default 1e-3 for adam/adamw, 0.01 for sgd); the peak with onecycle
  --optimizer O       sgd, adam (default) or adamw
  --momentum X        SGD momentum (default 0.9)
  --weight-decay X    sgd/adam: L2, λ·w added to the gradient; adamw: decoupled, w ← w·(1 − lr·λ)
                      each step, as torch.optim.AdamW (default 0)
  --schedule S        constant (default), cosine (lr → 0) or onecycle (PyTorch OneCycleLR defaults:
                      lr/25 → lr over 30% of the steps → lr/25/10⁴, cosine; Adam's β₁ 0.95 → 0.85 → 0.95)
  --augment           random crop from the image zero-padded by --augment-pad px, random horizontal
                      flip (p = ½); seeded per (seed, epoch); training batches only
  --augment-pad N     padding for --augment's crop (default 2)
  --label-smoothing X cross-entropy label smoothing (default 0)
  --seed N            weight initialisation (architectures) and shuffling (default 0)
  --threads N         onnxruntime intra-op threads (default: one per core)
  --limit N           train on N samples drawn with --seed (quick runs)
  --json              one JSON record per epoch on stdout, no progress bar

Input preprocessing, for training and evaluation batches alike (a model trained elsewhere on
normalised images needs its own values, e.g. PyTorch's Normalize((0.2860,), (0.3530,))):
${NORMALIZE_HELP}

Examples:
  lithe train ref-cnn --data fashion-mnist --epochs 3 -o ref-cnn.onnx
  lithe train model.onnx --data ./my-images --epochs 5 --optimizer sgd --lr 0.05 --schedule cosine -o tuned.onnx`,
  options: {
    data: { type: 'string' },
    epochs: { type: 'string' },
    output: { type: 'string', short: 'o' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    schedule: { type: 'string' },
    augment: { type: 'boolean' },
    'augment-pad': { type: 'string' },
    'label-smoothing': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
  },
  async run(args, io) {
    const [spec] = positionals(args, this, ['ARCH|MODEL.onnx']);
    const out = str(args, 'output');
    if (!out) throw new UsageError('lithe train: missing -o OUT.onnx', this);
    const json = flag(args, 'json');
    const seed = int(args, 'seed', 0);
    const optimizer = choice(args, 'optimizer', ['sgd', 'adam', 'adamw'] as const, 'adam');
    const epochs = int(args, 'epochs', 1, { min: 1 });
    const batch = int(args, 'batch', 64, { min: 1 });
    const data = str(args, 'data') ?? 'fashion-mnist';
    const model = modelOrArchitecture(spec!, seed);
    const [train, test] = await Promise.all([openDataset(data, { split: 'train' }), openDataset(data, { split: 'test' }).catch(() => undefined)]);
    const limit = int(args, 'limit', 0);
    const subset = limit > 0 ? permutation(train.size, seed).slice(0, Math.min(limit, train.size)) : undefined;
    const samples = subset?.length ?? train.size;
    if (!json)
      io.err(
        `training ${spec} on ${train.source}: ${samples} samples, ${epochs} epoch(s), batch ${batch}, ${optimizer}${flag(args, 'augment') ? ', augmented' : ''}`,
      );
    const trainer = new Trainer(model, {
      epochs,
      batch,
      lr: num(args, 'lr', optimizer === 'sgd' ? 0.01 : 1e-3),
      optimizer: { name: optimizer, momentum: num(args, 'momentum', 0.9), weightDecay: num(args, 'weight-decay', 0) },
      schedule: choice(args, 'schedule', ['constant', 'cosine', 'onecycle'] as const, 'constant') as Schedule,
      labelSmoothing: num(args, 'label-smoothing', 0),
      augment: flag(args, 'augment') ? { pad: int(args, 'augment-pad', 2, { min: 0 }) } : false,
      seed,
      threads: int(args, 'threads', 0) || undefined,
      preprocess: inputNormalization(args, model, spec!),
      ...epochReporter(io, { epochs, samples, json }),
    });
    try {
      await trainer.fit(train, test, { subset });
      saveModel(trainer.exportInference(), out);
    } finally {
      await trainer.close();
    }
    if (!json) io.err(`wrote ${out}`);
  },
};
