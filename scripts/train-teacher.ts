/**
 * Trains the bundled teacher, data/teacher/teacher.onnx, with lithe's own trainer (training-step
 * graphs run in onnxruntime) on the full Fashion-MNIST, and writes data/teacher/README.md with the
 * provenance: command, seed, recipe, per-epoch accuracy and time, and the file's sha256.
 *
 *   node --import tsx scripts/train-teacher.ts [--epochs 10] [--batch 128] [--lr 3e-3]
 *        [--optimizer adamw] [--weight-decay 0.01] [--augment-pad 2] [--seed 0] [--threads N]
 *        [--limit N] [--out DIR] [--checkpoint FILE]
 *
 * Recipe (defaults), and why:
 *   architecture  'teacher' (src/models/teacher.ts): 3 blocks of 2×(Conv+BN+ReLU) 32/64/128, 585k params
 *   schedule      one-cycle (PyTorch OneCycleLR defaults; Adam's β₁ cycled 0.95→0.85→0.95): reaches
 *                 a good minimum in few epochs, which is the whole budget here (≤ 10 epochs)
 *   optimizer     AdamW, peak lr 3e-3: Adam with BN tolerates a high peak, and the one-cycle warm-up
 *                 (lr/25 at the start) keeps the first steps stable. Weight decay λ = 0.01 decoupled
 *                 (torch.optim.AdamW's default): AdamW shrinks by lr·λ per step, so an SGD-style
 *                 λ = 5e-4 would decay by ~1.5e-6 per step, i.e. not at all
 *   batch         128: fewer, larger steps per epoch run faster per sample in onnxruntime
 *   augmentation  random crop from the image zero-padded by 2 px and horizontal flip (p = ½), the
 *                 usual Fashion-MNIST recipe (items are symmetric left-right; 28 px leaves little
 *                 room to shift, so 2 px rather than CIFAR's 4)
 *
 * The model is evaluated after each epoch on the 10,000 test images; at the end the written file is
 * loaded by a fresh onnxruntime session and evaluated again, and that figure goes into the README.
 * --checkpoint FILE writes the model after every epoch (for long runs that may be interrupted).
 * --limit N trains on N samples (for timing), and then writes nothing under --out unless it is given.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { batches } from '../src/data/batcher.js';
import { openDataset, packageRoot } from '../src/data/dataset.js';
import { permutation } from '../src/data/rng.js';
import { buildArchitecture, TEACHER_PARAMS } from '../src/models/index.js';
import { saveModel } from '../src/onnx/io.js';
import { evaluate } from '../src/runtime/evaluate.js';
import { createSession } from '../src/runtime/session.js';
import { Trainer, type EpochInfo } from '../src/train/trainer.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
function num(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number, got '${v}'`);
  return n;
}

const root = packageRoot();
const o = {
  epochs: num('epochs', 10),
  batch: num('batch', 128),
  lr: num('lr', 3e-3),
  optimizer: (arg('optimizer') ?? 'adamw') as 'adam' | 'adamw',
  weightDecay: num('weight-decay', 0.01),
  pad: num('augment-pad', 2),
  seed: num('seed', 0),
  threads: num('threads', 0) || undefined,
  limit: num('limit', 0),
};
if (o.optimizer !== 'adam' && o.optimizer !== 'adamw') throw new Error(`--optimizer must be adam or adamw, got '${o.optimizer}'`);
const outArg = arg('out');
const out = outArg ?? (o.limit ? undefined : join(root, 'data', 'teacher'));
const checkpoint = arg('checkpoint');
if (checkpoint) mkdirSync(dirname(checkpoint), { recursive: true });
const command = `node --import tsx scripts/train-teacher.ts ${process.argv.slice(2).join(' ')}`.trim();

const train = await openDataset('fashion-mnist', { split: 'train' });
const test = await openDataset('fashion-mnist', { split: 'test' });
if (train.size !== 60000 || test.size !== 10000)
  throw new Error(`the teacher is trained on the full Fashion-MNIST; got ${train.source} (${train.size}/${test.size}). apt install dataset-fashion-mnist`);
const subset = o.limit ? permutation(train.size, o.seed).slice(0, o.limit) : undefined;
const samples = subset?.length ?? train.size;

const log = (s: string) => console.log(`[${new Date().toISOString()}] ${s}`);
log(
  `teacher: ${samples} samples, ${o.epochs} epochs, batch ${o.batch}, ${o.optimizer} lr ${o.lr} wd ${o.weightDecay}, one-cycle, augment pad ${o.pad} + flip, seed ${o.seed}, threads ${o.threads ?? 'default'}`,
);
const t0 = performance.now();
let tStep = performance.now();
const trainer = new Trainer(buildArchitecture('teacher', { seed: o.seed }), {
  epochs: o.epochs,
  batch: o.batch,
  lr: o.lr,
  optimizer: { name: o.optimizer, weightDecay: o.weightDecay },
  schedule: 'onecycle',
  augment: { pad: o.pad, flip: true },
  seed: o.seed,
  threads: o.threads,
  onStep: (s) => {
    if (s.batchInEpoch % 50 === 0 || s.batchInEpoch === s.batchesPerEpoch) {
      const ms = (performance.now() - tStep) / (s.batchInEpoch % 50 || 50);
      log(
        `epoch ${s.epoch} batch ${s.batchInEpoch}/${s.batchesPerEpoch}: loss ${s.loss.toFixed(4)}, lr ${s.lr.toExponential(3)}, β₁ ${s.beta1?.toFixed(4)}, ${ms.toFixed(0)} ms/step`,
      );
      tStep = performance.now();
    }
  },
  onEpochEnd: (e) => {
    log(
      `epoch ${e.epoch}/${o.epochs}: loss ${e.loss.toFixed(4)}, train acc ${pct(e.trainAccuracy)}, test top-1 ${pct(e.test!.top1)}, ${e.seconds.toFixed(0)} s (${e.samplesPerSecond.toFixed(0)} samples/s)`,
    );
    if (checkpoint) saveModel(trainer.exportInference(), checkpoint);
    tStep = performance.now();
  },
});
let history: EpochInfo[];
try {
  history = await trainer.fit(train, test, { subset });
} finally {
  await trainer.close();
}
const wall = (performance.now() - t0) / 1000;
log(`trained in ${(wall / 60).toFixed(1)} min`);
if (!out) process.exit(0);

mkdirSync(out, { recursive: true });
const file = join(out, 'teacher.onnx');
saveModel(trainer.exportInference(), file);
// The figure that goes into the README is the written file's, run by a fresh stock session.
const bytes = readFileSync(file);
const session = await createSession(bytes, { label: file, threads: o.threads });
const final = await evaluate(session, batches(test, { batchSize: 256 }), { numClasses: 10 });
await session.release();
const sha256 = createHash('sha256').update(bytes).digest('hex');
log(`${file}: test top-1 ${pct(final.top1)}, top-5 ${pct(final.top5)}, ${bytes.length} bytes, sha256 ${sha256}`);

const last = history.at(-1)!;
const rows = history.map(
  (e) =>
    `| ${e.epoch} | ${e.loss.toFixed(4)} | ${pct(e.trainAccuracy)} | ${pct(e.test!.top1)} | ${e.lr.toExponential(2)} | ${e.seconds.toFixed(0)} | ${e.samplesPerSecond.toFixed(0)} |`,
);
const verdict =
  final.top1 >= 0.93 ? "meets the training issue's target (≥ 93.0%)" : `**misses the training issue's target of 93.0%** (${pct(final.top1)}); see the notes`;
const readme = `# teacher

The teacher CNN that lithe's demo and tests distil from: the \`teacher\` architecture
(\`src/models/teacher.ts\`, 3 blocks of 2×(Conv 3×3 + BatchNorm + ReLU) with 32/64/128 channels and
2×2 max pooling, then Linear 1152→256, ReLU, Linear 256→10; ${TEACHER_PARAMS.toLocaleString('en-US')} parameters), trained by
lithe's own trainer (training-step graphs of standard ONNX ops, run by onnxruntime-node) on the
full Fashion-MNIST. Input \`input\` [N, 1, 28, 28] float32, pixels / 255 (no mean/std
normalisation); output \`logits\` [N, 10]. BatchNorm carries its learned running statistics.

**Test top-1 ${pct(final.top1)}, top-5 ${pct(final.top5)}** on the 10,000 official test images,
measured by loading \`teacher.onnx\` in a fresh onnxruntime-node session; this ${verdict}.

| | |
|---|---|
| file | \`teacher.onnx\`, ${bytes.length.toLocaleString('en-US')} bytes |
| sha256 | \`${sha256}\` |
| command | \`${command}\` |
| data | ${train.source}: all 60,000 training images${subset ? ` (limited to ${samples})` : ''}, tested on the 10,000 test images |
| recipe | ${o.epochs} epochs, batch ${o.batch}, ${o.optimizer === 'adamw' ? 'AdamW' : 'Adam'} (peak lr ${o.lr}, weight decay ${o.weightDecay}${o.optimizer === 'adamw' ? ' decoupled' : ' L2'}, β₂ 0.999, ε 1e-8), one-cycle schedule (PyTorch OneCycleLR defaults: lr/25 → lr over 30% of the steps → lr/25/10⁴, cosine; β₁ 0.95 → 0.85 → 0.95) |
| augmentation | random 28×28 crop of the image zero-padded by ${o.pad} px, random horizontal flip (p = ½), seeded per (seed, epoch) |
| seed | ${o.seed} (weights, shuffling, augmentation) |
| time | ${(wall / 60).toFixed(1)} min wall (training and per-epoch evaluation), ${o.threads ?? 'default'} onnxruntime thread(s), on ${cpus()[0]?.model ?? 'unknown CPU'} (${availableParallelism()} cores, shared with other jobs) |
| software | lithe ${gitCommit()}, Node ${process.version}, onnxruntime-node ${ortVersion()} |
| made | ${new Date().toISOString().slice(0, 10)} |

| epoch | train loss | train acc (augmented) | test top-1 | lr at epoch end | seconds | samples/s |
|---|---|---|---|---|---|---|
${rows.join('\n')}

The last epoch's test top-1 during training was ${pct(last.test!.top1)}; the file above gives ${pct(final.top1)}.

Reproduce (needs Debian's \`dataset-fashion-mnist\`, which puts the full set at
\`/usr/share/datasets/fashion-mnist\`):

    ${command}

With several onnxruntime threads, float reductions are not bit-for-bit deterministic, so a re-run
gives a model with a different sha256 and an accuracy within a few tenths of a percent (whether a
one-thread re-run reproduces the file byte for byte has not been checked). Epoch times above vary
with the load of the machine, which other training jobs shared during the run.
`;
writeAtomic(join(out, 'README.md'), readme);
log(`wrote ${relative(process.cwd(), file)} and README.md`);

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function gitCommit(): string {
  try {
    return `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`;
  } catch {
    return '(not a git checkout)';
  }
}

function ortVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
