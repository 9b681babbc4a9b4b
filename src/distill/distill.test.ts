import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batches } from '../data/batcher.js';
import { openDataset } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import type { Model } from '../graph/ir.js';
import { buildArchitecture } from '../models/index.js';
import { serializeModel } from '../onnx/io.js';
import { evaluate } from '../runtime/evaluate.js';
import { createSession } from '../runtime/session.js';
import { Trainer } from '../train/trainer.js';
import { chooseTeacherMode, distill } from './distill.js';
import { cacheTeacherLogits, teacherRunner } from './teacher.js';

const train = await openDataset('fashion-mnist-mini', { split: 'train' });
const test_ = await openDataset('fashion-mnist-mini', { split: 'test' });

/** Top-1 of a model on the mini test split, through onnxruntime loading the serialized bytes. */
async function top1(m: Model): Promise<number> {
  const session = await createSession(serializeModel(m), { threads: 1 });
  const r = await evaluate(session, batches(test_, { batchSize: 500 }), { numClasses: 10 });
  await session.release();
  return r.top1;
}

test('distilling on soft targets alone (α = 0) teaches the student; the written model is the student architecture', async (ctx) => {
  // a quickly trained teacher: ref-cnn, 1 epoch on 2,000 samples (≈ 75% on the mini test split)
  const t = new Trainer(buildArchitecture('ref-cnn', { seed: 1 }), { epochs: 1, batch: 32, lr: 2e-3, threads: 1 });
  await t.fit(train, undefined, { subset: permutation(train.size, 1).slice(0, 2000) });
  const teacher = t.exportInference();
  await t.close();

  const student = buildArchitecture('student');
  const before = await top1(student);
  const r = await distill({
    teacher,
    student,
    train,
    subset: permutation(train.size, 2).slice(0, 2000),
    temperature: 2,
    alpha: 0, // no labels: everything the student learns comes from the teacher's logits
    trainer: { epochs: 1, batch: 32, lr: 2e-3, threads: 1 },
  });
  assert.equal(r.teacherMode, 'cache');
  const after = await top1(r.model);
  const teacherTop1 = await top1(teacher);
  ctx.diagnostic(`student top-1 ${before} → ${after}, teacher ${teacherTop1}`);
  assert.ok(before < 0.3 && after > 0.6, `student top-1 ${before} → ${after} (teacher ${teacherTop1})`);
  assert.deepEqual(
    r.model.graph.nodes.map((n) => `${n.opType} ${n.name}`),
    student.graph.nodes.map((n) => `${n.opType} ${n.name}`),
  );
  assert.deepEqual(r.model.graph.inputs.map((v) => v.name), ['input']);
  assert.deepEqual(r.model.graph.outputs.map((v) => v.name), ['logits']);
  assert.deepEqual([...r.model.graph.initializers.keys()].sort(), [...student.graph.initializers.keys()].sort());
});

test('teacher mode: cache without per-batch inputs, run with --augment/--features; cache cannot serve them', () => {
  assert.equal(chooseTeacherMode('auto', { augment: false, features: false }), 'cache');
  assert.equal(chooseTeacherMode(undefined, { augment: true, features: false }), 'run');
  assert.equal(chooseTeacherMode('graph', { augment: true, features: true }), 'graph');
  assert.throws(() => chooseTeacherMode('cache', { augment: true, features: false }), /--teacher-mode cache cannot serve --augment \(the teacher must see the augmented batch\)/);
  assert.throws(() => chooseTeacherMode('cache', { augment: false, features: true }), /cannot serve --features/);
});

test('precomputed teacher logits (teacherLogits) train exactly as the cache distill computes itself', async () => {
  const teacher = buildArchitecture('ref-cnn', { seed: 4 });
  const subset = permutation(train.size, 5).slice(0, 128);
  const losses = async (teacherLogits?: Float32Array) => {
    const out: number[] = [];
    const opts = { epochs: 1, batch: 32, lr: 1e-3, threads: 1, onStep: (s: { loss: number }) => void out.push(s.loss) };
    await distill({ teacher, student: buildArchitecture('student'), train, subset, temperature: 2, alpha: 0.5, teacherLogits, trainer: opts });
    return out;
  };
  const runner = await teacherRunner(teacher, [], { label: 'ref-cnn' });
  const cache = await cacheTeacherLogits(runner, train, 10, { indices: subset });
  await runner.release();
  assert.deepEqual(await losses(cache), await losses());
  await assert.rejects(losses(new Float32Array(10)), /teacherLogits has 10 values, expected 6000 × 10/);
});
