import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset } from '../data/dataset.js';
import { buildArchitecture } from '../models/index.js';
import { budgetSlice, finetune, pruneScheduled } from './finetune.js';
import { taylorSaliency, trainingGradients, type GradientProvider } from './taylor.js';
import { applyMasks, computeMasks, pruneUnstructured, sparsityOf, type Masks } from './unstructured.js';
import { cloneModel } from './weights.js';

const subset = Uint32Array.from({ length: 96 }, (_, i) => i);

test('fine-tuning (Adam, 3 steps) keeps pruned weights exactly zero and moves the others', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const m = buildArchitecture('ref-cnn', { seed: 5 });
  const masks = pruneUnstructured(m, { method: 'l1', sparsity: 0.8 });
  const before = sparsityOf(m);
  const { model } = await finetune(m, masks, { train, epochs: 1, batch: 32, lr: 1e-2, subset, threads: 1 });
  const after = sparsityOf(model);
  for (const l of after.layers) {
    const w = model.graph.initializers.get(l.weight)!.initializer!.toArray() as Float32Array;
    const w0 = m.graph.initializers.get(l.weight)!.initializer!.toArray() as Float32Array;
    const mask = masks.get(l.weight)!;
    let moved = 0;
    mask.forEach((keep, i) => (keep ? w[i] !== w0[i] && moved++ : assert.ok(w[i] === 0, `${l.weight}[${i}] = ${w[i]}`)));
    assert.ok(moved > 0.5 * mask.filter(Boolean).length, `${l.layer}: kept weights trained (${moved})`);
  }
  assert.equal(after.zeros, before.zeros);
  assert.equal(model.graph.nodes.filter((n) => n.opType === 'Mul').length, 0, 'masks folded');
});

test('taylor saliency is Σ_b |w·g_b| from the training engine; taylor masks have the exact count', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const m = buildArchitecture('student', { seed: 1 });
  const names = ['conv1.weight', 'fc.weight'];
  const provider = trainingGradients(train, { batches: 2, batch: 16 });
  const grads: Map<string, Float32Array>[] = [];
  for await (const g of provider(m, names)) grads.push(new Map([...g].map(([k, v]) => [k, Float32Array.from(v)])));
  assert.equal(grads.length, 2);
  const replay: GradientProvider = async function* () {
    yield* grads;
  };
  const sal = await taylorSaliency(m, names, replay);
  const w = m.graph.initializers.get('fc.weight')!.initializer!.toArray() as Float32Array;
  for (const i of [0, 17, 999]) {
    const want = Math.abs(w[i]! * grads[0]!.get('fc.weight')![i]!) + Math.abs(w[i]! * grads[1]!.get('fc.weight')![i]!);
    assert.ok(Math.abs(sal.get('fc.weight')![i]! - want) < 1e-9);
  }
  const masks = computeMasks(m, { method: 'taylor', sparsity: 0.5, saliency: sal });
  const total = 144 + 27_040;
  assert.equal([...masks.values()].reduce((a, x) => a + x.filter((y) => !y).length, 0), Math.round(0.5 * total));
});

test('iterative schedule with fine-tuning reaches exactly the final sparsity; slices cover the budget', async () => {
  const parts = [0, 1, 2].map((k) => budgetSlice(10, 2, 3, k, 0, undefined));
  assert.deepEqual(parts.map((p) => p.length), [7, 7, 6]);
  const seen = new Array(10).fill(0);
  for (const p of parts) for (const i of p) seen[i]++;
  assert.deepEqual(seen, new Array(10).fill(2));
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const steps: number[] = [];
  const r = await pruneScheduled(buildArchitecture('student', { seed: 2 }), {
    method: 'l1', sparsity: 0.75, schedule: 'iterative', steps: 2,
    finetune: { train, epochs: 1, batch: 32, subset, threads: 1 },
    onPruneStep: (s) => steps.push(s.sparsity),
  });
  assert.deepEqual(steps, [0.5, 0.75]);
  assert.equal(sparsityOf(r.model).zeros, Math.round(0.75 * (144 + 27_040)));
});

test('iterative schedule: every prune step fine-tunes with fresh Adam state (same weights as separate fresh runs)', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const m = buildArchitecture('student', { seed: 3 });
  const ft = { train, epochs: 1, batch: 32, lr: 1e-2, subset, threads: 1 };
  const firstSteps: number[] = [];
  const r = await pruneScheduled(m, {
    method: 'l1', sparsity: 0.75, schedule: 'iterative', steps: 2,
    finetune: { ...ft, onStep: (s) => s.batchInEpoch === 1 && firstSteps.push(s.step) },
  });
  // A new Trainer per step: its optimizer step t (Adam's bias correction) starts again at 1.
  assert.deepEqual(firstSteps, [1, 1]);
  // By hand: prune, fine-tune in a fresh finetune() (zero moments), prune further, fresh again.
  let cur = cloneModel(m);
  let masks: Masks | undefined;
  for (const [k, s] of [0.5, 0.75].entries()) {
    masks = computeMasks(cur, { method: 'l1', sparsity: s, previous: masks, seed: k });
    applyMasks(cur, masks);
    cur = (await finetune(cur, masks, { ...ft, subset: budgetSlice(train.size, 1, 2, k, 0, subset), seed: 1000 * k })).model;
  }
  for (const name of ['conv1.weight', 'fc.weight', 'fc.bias']) {
    const got = r.model.graph.initializers.get(name)!.initializer!.toArray() as Float32Array;
    const want = cur.graph.initializers.get(name)!.initializer!.toArray() as Float32Array;
    assert.deepEqual(got, want, name);
  }
  assert.equal(sparsityOf(r.model).zeros, Math.round(0.75 * (144 + 27_040)));
});
