import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { buildTrainingGraph } from '../train/training-graph.js';
import { cloneModel } from './finetune.js';
import { foldMasks, isMaskName, maskParameters, masksInGraph } from './mask-graph.js';
import { polynomialSparsity, sparsitySchedule } from './schedule.js';
import { applyMasks, computeMasks } from './unstructured.js';

const x4: HostTensor = { dtype: DataType.FLOAT, dims: [4, 1, 28, 28], data: Float32Array.from({ length: 4 * 784 }, (_, i) => ((i * 53) % 97) / 97) };

async function logits(m: ReturnType<typeof buildArchitecture>): Promise<Float32Array> {
  const s = await createSession(m);
  try {
    return (await s.run({ input: x4 })).logits!.data as Float32Array;
  } finally {
    await s.release();
  }
}

test('∂L/∂W of a masked weight is exactly 0 at masked positions (training graph, ORT)', async () => {
  const m = buildArchitecture('ref-cnn', { seed: 2 });
  const masks = computeMasks(m, { method: 'random', sparsity: 0.5, seed: 1 });
  applyMasks(m, masks);
  const names = maskParameters(m, masks);
  assert.deepEqual(names, ['conv1.weight.prune_mask', 'conv2.weight.prune_mask', 'fc1.weight.prune_mask', 'fc2.weight.prune_mask']);
  const tg = buildTrainingGraph(m, { loss: 'cross-entropy', optimizer: 'none', batch: 4, trainable: (n) => !isMaskName(n) });
  assert.ok(![...tg.params.keys()].some(isMaskName), 'masks are not trained');
  const s = await createSession(tg.model);
  const feeds: Record<string, HostTensor> = { input: x4, labels: { dtype: DataType.INT64, dims: [4], data: BigInt64Array.of(0n, 3n, 7n, 9n) } };
  for (const [k, t] of [...tg.params, ...tg.state]) feeds[k] = { dtype: t.dtype, dims: [...t.dims], data: t.toArray() };
  const out = await s.run(feeds);
  await s.release();
  for (const [w, mask] of masks) {
    const g = out[`grad.${w}`]!.data as Float32Array;
    let nonzeroKept = 0;
    mask.forEach((keep, i) => (keep ? g[i] !== 0 && nonzeroKept++ : assert.ok(g[i] === 0, `${w}[${i}] = ${g[i]}`)));
    assert.ok(nonzeroKept > 0.2 * mask.filter(Boolean).length, `${w}: kept weights get gradients (${nonzeroKept})`);
  }
});

test('maskParameters → ORT gives the masked model’s outputs; foldMasks restores a plain dense model', async () => {
  const m = buildArchitecture('ref-cnn', { seed: 2 });
  const masks = computeMasks(m, { method: 'l1', sparsity: 0.8 });
  const zeroed = cloneModel(m);
  applyMasks(zeroed, masks);
  const masked = cloneModel(m); // weights NOT zeroed: the Mul alone must zero them
  maskParameters(masked, masks);
  assert.deepEqual(masksInGraph(masked), masks);
  const want = await logits(zeroed);
  const got = await logits(masked);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `${v} vs ${want[i]}`));
  assert.equal(foldMasks(masked), 4);
  assert.equal(masked.graph.nodes.filter((n) => n.opType === 'Mul').length, 0);
  assert.ok(![...masked.graph.initializers.keys()].some(isMaskName));
  assert.deepEqual(await logits(masked), want);
});

test('schedules: polynomial decay as TF-MOT, iterative removes a constant fraction of what is left', () => {
  // s_t = s_f + (s_i − s_f)(1 − t/T)^3 with s_i = 0.1, s_f = 0.9, T = 10
  assert.ok(Math.abs(polynomialSparsity(0, { initial: 0.1, final: 0.9, begin: 0, end: 10 }) - 0.1) < 1e-12);
  assert.ok(Math.abs(polynomialSparsity(5, { initial: 0.1, final: 0.9, begin: 0, end: 10 }) - (0.9 - 0.8 * 0.125)) < 1e-12);
  assert.equal(polynomialSparsity(12, { initial: 0.1, final: 0.9, begin: 0, end: 10 }), 0.9);
  assert.deepEqual(sparsitySchedule('oneshot', 0.9), [0.9]);
  const it = sparsitySchedule('iterative', 0.875, 3); // 1 − 0.125^(k/3) = 0.5, 0.75, 0.875
  [0.5, 0.75, 0.875].forEach((s, i) => assert.ok(Math.abs(it[i]! - s) < 1e-12, `${it[i]}`));
  const poly = sparsitySchedule('polynomial', 0.8, 3); // t = 0, 1, 2 of end 2: 0.8·(1 − (1 − t/2)^3)
  [0, 0.7, 0.8].forEach((s, i) => assert.ok(Math.abs(poly[i]! - s) < 1e-12, `${poly[i]}`));
  assert.throws(() => sparsitySchedule('iterative', 1.5, 2), /sparsity must be in \[0, 1\]/);
});
