import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset } from '../data/dataset.js';
import { permutation } from '../data/rng.js';
import { buildArchitecture } from '../models/index.js';
import { cloneModel as clone } from '../onnx/io.js';
import { distill } from './distill.js';
import { addAdapters, parseFeatures, removeAdapters, resolveFeatures } from './features.js';

const labels = { teacher: 't.onnx', student: 'student' };
const teacher = buildArchitecture('teacher');
const student = buildArchitecture('student');

test('--features parses T:S pairs and rejects anything else', () => {
  assert.deepEqual(parseFeatures('features.6:pool1, a:b'), [
    { teacher: 'features.6', student: 'pool1' },
    { teacher: 'a', student: 'b' },
  ]);
  assert.throws(() => parseFeatures('features.6'), /--features: 'features\.6' is not TEACHER_NODE:STUDENT_NODE/);
  assert.throws(() => parseFeatures('a:b:c'), /'a:b:c' is not/);
});

test('unknown nodes are named, with the nodes that exist', () => {
  assert.throws(() => resolveFeatures(parseFeatures('features.99:pool1'), teacher, student, labels), /--features: unknown teacher node "features\.99" in t\.onnx\. Nodes: features\.0, features\.1, /);
  assert.throws(() => resolveFeatures(parseFeatures('features.6:pool9'), teacher, student, labels), /unknown student node "pool9" in student\. Nodes: conv1, relu1, pool1, flatten, fc$/);
});

test('spatial sizes must match: the error names both nodes and both shapes', () => {
  assert.throws(
    () => resolveFeatures(parseFeatures('features.6:pool1'), teacher, student, labels),
    /--features features\.6:pool1: teacher node "features\.6" gives \[N, 32, 14, 14\] and student node "pool1" gives \[N, 16, 13, 13\]; both must be \[N, C, H, W\] with the same H and W/,
  );
  assert.throws(() => resolveFeatures(parseFeatures('classifier.1:pool1'), teacher, student, labels), /teacher node "classifier\.1" gives \[N, 256\]/);
});

test('adapters: a 1×1 Conv per pair, student channels → teacher channels, removed without a trace', () => {
  const m = clone(student);
  const pairs = resolveFeatures(parseFeatures('pool1:pool1'), studentTeacher(), m, labels);
  const adapters = addAdapters(m, pairs, 0);
  assert.equal(adapters.length, 1);
  const conv = m.graph.nodes.find((n) => n.name === adapters[0]!.node)!;
  assert.equal(conv.opType, 'Conv');
  assert.deepEqual(m.graph.initializers.get(adapters[0]!.weight)!.initializer!.dims, [16, 16, 1, 1]);
  removeAdapters(m, adapters);
  assert.deepEqual(m.graph.nodes.map((n) => n.name), student.graph.nodes.map((n) => n.name));
  assert.deepEqual([...m.graph.initializers.keys()], [...student.graph.initializers.keys()]);
});

/** A teacher whose pool1 matches the student's [N, 16, 13, 13]: the student architecture, other seed. */
function studentTeacher() {
  return buildArchitecture('student', { seed: 7 });
}

test('feature distillation trains (run and graph modes agree) and exports the plain student', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const subset = permutation(train.size, 0).slice(0, 256);
  const run = async (mode: 'run' | 'graph') => {
    const losses: number[] = [];
    const r = await distill({
      teacher: studentTeacher(),
      student,
      train,
      subset,
      temperature: 2,
      alpha: 0.5,
      features: parseFeatures('pool1:pool1'),
      teacherMode: mode,
      trainer: { epochs: 1, batch: 64, lr: 1e-3, threads: 1, onStep: (s) => void losses.push(s.loss) },
    });
    return { r, losses };
  };
  const a = await run('run');
  const b = await run('graph');
  assert.equal(a.r.teacherMode, 'run');
  a.losses.forEach((l, i) => assert.ok(Math.abs(l - b.losses[i]!) < 1e-4 * Math.max(1, l), `step ${i + 1}: run ${l} vs graph ${b.losses[i]}`));
  assert.ok(a.losses[3]! < a.losses[0]!, `loss ${a.losses.join(', ')}`);
  assert.deepEqual(a.r.model.graph.nodes.map((n) => n.opType), student.graph.nodes.map((n) => n.opType));
  assert.deepEqual([...a.r.model.graph.initializers.keys()].sort(), [...student.graph.initializers.keys()].sort());
});
