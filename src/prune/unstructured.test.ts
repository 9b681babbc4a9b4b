import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildArchitecture } from '../models/index.js';
import { serializeModel } from '../onnx/io.js';
import { createSession } from '../runtime/session.js';
import { DataType } from '../onnx/proto.js';
import { applyMasks, computeMasks, pruneSmallest, pruneUnstructured, sparsityOf } from './unstructured.js';
import { prunableWeights } from './weights.js';

const refCnn = () => buildArchitecture('ref-cnn', { seed: 1 });
const absOf = (m: ReturnType<typeof refCnn>, name: string) => Array.from(m.graph.initializers.get(name)!.initializer!.toArray() as Float32Array, Math.abs);
// conv1 16·9, conv2 32·16·9, fc1 128·1568, fc2 10·128
const REF_WEIGHTS = 144 + 4608 + 200_704 + 1280;

test('exact-k selection: ties go to the lower flat index', () => {
  assert.deepEqual([...pruneSmallest(Float64Array.of(1, 0, 1, 0, 2), 3)], [0, 0, 1, 0, 1]);
  assert.deepEqual([...pruneSmallest(Float64Array.of(5, 5, 5, 5), 2)], [0, 0, 1, 1]);
  assert.deepEqual([...pruneSmallest(Float64Array.of(-Infinity, 3, 1), 1)], [0, 1, 1]);
  assert.deepEqual([...pruneSmallest(Float64Array.of(3, 1), 0)], [1, 1]);
});

test('prunable weights of ref-cnn: the 4 Conv/Gemm weights, biases untouched', () => {
  const w = prunableWeights(refCnn());
  assert.deepEqual(w.map((x) => [x.layer, x.name, x.size]), [
    ['conv1', 'conv1.weight', 144], ['conv2', 'conv2.weight', 4608], ['fc1', 'fc1.weight', 200_704], ['fc2', 'fc2.weight', 1280],
  ]);
  assert.equal(w.reduce((a, x) => a + x.size, 0), REF_WEIGHTS);
});

test('global l1 at 50/80/90%: exactly round(S·N) zeros, and every pruned |w| ≤ every kept |w|', () => {
  for (const s of [0.5, 0.8, 0.9]) {
    const m = refCnn();
    const before = new Map(prunableWeights(m).map((w) => [w.name, absOf(m, w.name)]));
    const masks = pruneUnstructured(m, { method: 'l1', sparsity: s, scope: 'global' });
    const rep = sparsityOf(m);
    assert.equal(rep.zeros, Math.round(s * REF_WEIGHTS), `S=${s}`);
    let maxPruned = 0;
    let minKept = Infinity;
    for (const [name, mask] of masks) before.get(name)!.forEach((a, i) => (mask[i] ? (minKept = Math.min(minKept, a)) : (maxPruned = Math.max(maxPruned, a))));
    assert.ok(maxPruned <= minKept, `S=${s}: ${maxPruned} ≤ ${minKept}`);
    assert.equal(m.graph.initializers.get('fc1.bias')!.initializer!.toArray().some((x) => x === 0), false, 'biases untouched');
  }
});

test('local l1: every layer pruned to round(S·n_l); l2 prunes the same weights as l1', () => {
  const m = refCnn();
  pruneUnstructured(m, { method: 'l1', sparsity: 0.7, scope: 'local' });
  for (const l of sparsityOf(m).layers) assert.equal(l.zeros, Math.round(0.7 * l.params), l.layer);
  const a = computeMasks(refCnn(), { method: 'l1', sparsity: 0.6 });
  const b = computeMasks(refCnn(), { method: 'l2', sparsity: 0.6 });
  for (const [k, v] of a) assert.deepEqual(v, b.get(k));
});

test('random: seeded, exact count; threshold prunes |w| < T exactly', () => {
  const r1 = computeMasks(refCnn(), { method: 'random', sparsity: 0.5, seed: 3 });
  const r2 = computeMasks(refCnn(), { method: 'random', sparsity: 0.5, seed: 3 });
  const r3 = computeMasks(refCnn(), { method: 'random', sparsity: 0.5, seed: 4 });
  assert.deepEqual(r1, r2);
  assert.notDeepEqual(r1, r3);
  const zeros = (ms: Map<string, Uint8Array>) => [...ms.values()].reduce((a, m) => a + m.filter((x) => !x).length, 0);
  assert.equal(zeros(r1), Math.round(0.5 * REF_WEIGHTS));
  const m = refCnn();
  const T = 0.01;
  const expected = prunableWeights(m).reduce((a, w) => a + absOf(m, w.name).filter((x) => x < T).length, 0);
  pruneUnstructured(m, { method: 'threshold', threshold: T });
  assert.equal(sparsityOf(m).zeros, expected);
  assert.ok(expected > 0);
});

test('include/exclude by node name; unknown names are an error naming them', () => {
  const m = refCnn();
  const fc1 = absOf(m, 'fc1.weight');
  pruneUnstructured(m, { method: 'l1', sparsity: 0.5, exclude: ['fc1'] });
  assert.deepEqual(absOf(m, 'fc1.weight'), fc1);
  const only = computeMasks(refCnn(), { method: 'l1', sparsity: 0.5, include: ['conv2', 'fc2'] });
  assert.deepEqual([...only.keys()], ['conv2.weight', 'fc2.weight']);
  assert.throws(() => computeMasks(refCnn(), { method: 'l1', sparsity: 0.5, exclude: ['fc9', 'conv7'] }), /--exclude: no node named 'fc9', 'conv7'. Prunable layers: conv1, conv2, fc1, fc2/);
  assert.throws(() => computeMasks(refCnn(), { method: 'l1', sparsity: 0.5, include: ['relu1'] }), /'relu1' has no prunable weight/);
  assert.throws(() => computeMasks(refCnn(), { method: 'taylor', sparsity: 0.5 }), /taylor pruning needs gradient saliency/);
});

test('previous masks stay pruned (iterative steps never revive a weight)', () => {
  const m = refCnn();
  const first = computeMasks(m, { method: 'random', sparsity: 0.3, seed: 9 });
  applyMasks(m, first);
  const second = computeMasks(m, { method: 'l1', sparsity: 0.5, previous: first });
  for (const [k, v] of first) v.forEach((keep, i) => keep || assert.equal(second.get(k)![i], 0));
  assert.equal([...second.values()].reduce((a, x) => a + x.filter((y) => !y).length, 0), Math.round(0.5 * REF_WEIGHTS));
});

test('ORT: 0% sparsity gives the original outputs exactly; the 90% model runs; gzip shrinks', async () => {
  const x = { dtype: DataType.FLOAT, dims: [4, 1, 28, 28], data: Float32Array.from({ length: 4 * 784 }, (_, i) => ((i * 37) % 101) / 101) };
  const run = async (m: ReturnType<typeof refCnn>) => {
    const s = await createSession(m);
    try {
      return (await s.run({ input: x })).logits!.data as Float32Array;
    } finally {
      await s.release();
    }
  };
  const dense = refCnn();
  const zero = refCnn();
  pruneUnstructured(zero, { method: 'l1', sparsity: 0 });
  assert.deepEqual(await run(zero), await run(dense));
  const sparse = refCnn();
  pruneUnstructured(sparse, { method: 'l1', sparsity: 0.9 });
  const out = await run(sparse);
  assert.equal(out.length, 40);
  assert.ok(out.every(Number.isFinite));
  const gz = (m: ReturnType<typeof refCnn>) => gzipSync(serializeModel(m), { level: 9 }).length;
  const ratio = gz(sparse) / gz(dense);
  assert.ok(ratio < 0.25, `gzip ratio at 90% sparsity: ${ratio.toFixed(3)}`);
});
