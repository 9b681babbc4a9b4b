import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParams } from '../analysis/profile.js';
import { DataType } from '../onnx/proto.js';
import { ARCHITECTURES, buildArchitecture, buildMobileNetV2, makeDivisible } from './index.js';

test('every architecture: input `input` [N,…] float, output `logits` [N,classes], all values typed', () => {
  for (const name of Object.keys(ARCHITECTURES)) {
    const m = buildArchitecture(name, name === 'mobilenetv2' ? { inputSize: 96, numClasses: 10 } : {});
    const [input] = m.graph.inputs;
    const [logits] = m.graph.outputs;
    assert.equal(input!.name, 'input');
    assert.equal(input!.dtype, DataType.FLOAT);
    assert.deepEqual(input!.shape, name === 'mobilenetv2' ? ['N', 3, 96, 96] : ['N', 1, 28, 28]);
    assert.equal(logits!.name, 'logits');
    assert.deepEqual(logits!.shape, ['N', 10]);
    for (const n of m.graph.nodes) for (const v of n.outputs) assert.ok(v.shape?.every((d) => d !== null), `${name}: ${n.describe()} typed`);
  }
});

test('parameter counts of the small CNNs', () => {
  assert.equal(countParams(buildArchitecture('ref-cnn')).total, 206_922);
  assert.equal(countParams(buildArchitecture('student')).total, 27_210);
  assert.equal(countParams(buildArchitecture('teacher')).total, 585_066);
});

test('weights: same seed → same weights, other seed → other weights, PyTorch init bounds', () => {
  const w = (seed: number) => buildArchitecture('ref-cnn', { seed }).graph.initializers.get('conv2.weight')!.initializer!.toArray() as Float32Array;
  assert.deepEqual(w(1), w(1));
  assert.notDeepEqual(w(1), w(2));
  const bound = 1 / Math.sqrt(16 * 9);
  const a = w(3);
  assert.ok(a.every((x) => Math.abs(x) <= bound));
  assert.ok(Math.max(...a.map(Math.abs)) > 0.95 * bound, 'uses the whole range');
  const t = buildArchitecture('teacher').graph.initializers;
  assert.ok((t.get('features.1.weight')!.initializer!.toArray() as Float32Array).every((x) => x === 1));
  assert.ok((t.get('features.1.running_var')!.initializer!.toArray() as Float32Array).every((x) => x === 1));
});

test('make_divisible as torchvision', () => {
  assert.equal(makeDivisible(32 * 0.5), 16);
  assert.equal(makeDivisible(16 * 0.35), 8);
  assert.equal(makeDivisible(96 * 0.35), 32);
  assert.equal(makeDivisible(1280 * 1.4), 1792);
  assert.equal(makeDivisible(24 * 0.75), 24); // 18 → 16 would lose > 10%
});

test('MobileNetV2 structure: 17 inverted residual blocks, 10 residual Adds, 52 convs, torchvision names', () => {
  const m = buildMobileNetV2();
  const ops = m.graph.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'Conv').length, 52);
  assert.equal(ops.filter((o) => o === 'Add').length, 10);
  assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 52);
  for (const name of ['features.0.0.weight', 'features.1.conv.0.0.weight', 'features.17.conv.3.weight', 'features.18.0.weight', 'classifier.1.weight'])
    assert.ok(m.graph.initializers.has(name), name);
  assert.deepEqual(m.graph.initializers.get('features.18.0.weight')!.shape, [1280, 320, 1, 1]);
});

test('MobileNetV2 width multiplier scales channels; last conv grows only above 1', () => {
  const half = buildMobileNetV2({ widthMultiplier: 0.5 });
  assert.deepEqual(half.graph.initializers.get('features.0.0.weight')!.shape, [16, 3, 3, 3]);
  assert.deepEqual(half.graph.initializers.get('classifier.1.weight')!.shape, [1000, 1280]);
  const wide = buildMobileNetV2({ widthMultiplier: 1.4, numClasses: 10 });
  assert.deepEqual(wide.graph.initializers.get('classifier.1.weight')!.shape, [10, 1792]);
  assert.ok(countParams(half).total < 3_504_872 && countParams(wide).total > 3_504_872);
});

test('unknown architecture names list the known ones', () => {
  assert.throws(() => buildArchitecture('resnet'), /unknown architecture 'resnet'. Known: ref-cnn, student, teacher, mobilenetv2/);
});
