import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBatch } from '../data/batcher.js';
import { openDataset } from '../data/dataset.js';
import { GraphBuilder } from '../graph/builder.js';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import { cacheTeacherLogits, cachedRows, checkCompatible, embedTeacher, teacherRunner } from './teacher.js';

const train = await openDataset('fashion-mnist-mini', { split: 'train' });
const teacher = buildArchitecture('teacher', { seed: 3 }); // BN, 585k params: the real shape of things
const labels = { teacher: 't.onnx', student: 's.onnx' };

/** The teacher's logits for `indices` in one direct onnxruntime run. */
async function direct(indices: number[]): Promise<Float32Array> {
  const session = await createSession(teacher);
  const b = makeBatch(train, Uint32Array.from(indices));
  const out = await session.run({ input: { dtype: DataType.FLOAT, dims: b.dims, data: b.x } });
  await session.release();
  return out.logits!.data as Float32Array;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('cached teacher logits equal a direct onnxruntime run, row by sample index; rows not asked for stay zero', async () => {
  const indices = Uint32Array.from([5999, 17, 4000, 3, 250, 1234, 42]); // out of order, batch 3 leaves a partial batch
  const runner = await teacherRunner(teacher, [], { label: 't.onnx' });
  const cache = await cacheTeacherLogits(runner, train, 10, { indices, batch: 3 });
  await runner.release();
  assert.equal(cache.length, train.size * 10);
  const want = await direct([...indices]);
  const got = cachedRows(cache, 10, indices);
  assert.deepEqual(got.dims, [7, 10]);
  close(got.data as Float32Array, want, 'cached logits');
  assert.ok(cache.subarray(0, 30).every((x) => x === 0), 'samples 0–2 were not asked for');
});

test('the teacher embedded in another graph computes the same logits as the teacher alone', async () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, ['N', 1, 28, 28]);
  const [logits, feature] = embedTeacher(g, teacher, x, ['features.6'], 't.onnx');
  g.output(logits!, 'teacher_logits');
  g.output(feature!, 'feature');
  assert.deepEqual(feature!.shape, ['N', 32, 14, 14]);
  const session = await createSession(g.model());
  const b = makeBatch(train, Uint32Array.from([1, 2, 3]));
  const out = await session.run({ x: { dtype: DataType.FLOAT, dims: b.dims, data: b.x } });
  await session.release();
  close(out.teacher_logits!.data as Float32Array, await direct([1, 2, 3]), 'embedded logits');
});

test('teacher and student must agree on classes and input shape, and fit the data', () => {
  const student = buildArchitecture('student');
  assert.doesNotThrow(() => checkCompatible(teacher, student, labels, train));
  assert.throws(() => checkCompatible(teacher, buildArchitecture('student', { numClasses: 5 }), labels, train), /teacher t\.onnx has 10 classes but student s\.onnx has 5/);
  const g = new GraphBuilder();
  const x = g.input('input', DataType.FLOAT, ['N', 1, 14, 14]);
  g.output(g.Gemm(g.Flatten(x), g.initializer('w', new Float32Array(196 * 10), [196, 10])), 'logits');
  assert.throws(() => checkCompatible(teacher, g.model(), labels), /teacher t\.onnx takes input \[N, 1, 28, 28\] but student s\.onnx takes \[N, 1, 14, 14\]/);
  const five = buildArchitecture('student', { numClasses: 5 });
  assert.throws(() => checkCompatible(five, five, labels, train), /fashion-mnist.* has 10 classes but the models have 5/);
});
