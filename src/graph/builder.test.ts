import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttributeType, DataType } from '../onnx/proto.js';
import { GraphBuilder } from './builder.js';
import { Tensor } from './tensor.js';

test('names are unique, scoped, and outputs are renamed', () => {
  const g = new GraphBuilder();
  const x = g.input('input', DataType.FLOAT, ['N', 4]);
  const a = g.Relu(x);
  const b = g.Relu(a);
  const c = g.scope('block', () => g.scope('0', () => g.Relu(b, { name: 'act' })));
  assert.deepEqual(g.graph.nodes.map((n) => n.name), ['Relu', 'Relu_1', 'block.0.act']);
  assert.notEqual(a.name, b.name);
  const out = g.output(c, 'logits');
  assert.equal(out, c);
  assert.equal(c.name, 'logits');
  assert.deepEqual(g.graph.outputs, [c]);
  assert.throws(() => g.input('logits', DataType.FLOAT, [1]), /already has a value named "logits"/);
});

test('outputting a graph input goes through an Identity', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [2]);
  const y = g.output(x, 'y');
  assert.equal(y.producer()?.opType, 'Identity');
  assert.equal(x.name, 'x');
});

test('initializers and shared constants', () => {
  const g = new GraphBuilder();
  const w = g.scope('fc', () => g.initializer('weight', new Float32Array(6), [2, 3]));
  assert.equal(w.name, 'fc.weight');
  assert.deepEqual(w.shape, [2, 3]);
  const t = g.initializer('t', Tensor.fromArray(DataType.INT8, [2], [1, -1]));
  assert.equal(t.dtype, DataType.INT8);
  assert.equal(g.ints([1, 2]), g.ints([1, 2]), 'same int list → one initializer');
  assert.notEqual(g.scalar(0), g.scalar(0, DataType.INT64));
  assert.equal(g.zero(), g.scalar(0));
  assert.deepEqual(g.ints([1, 2]).initializer!.toNumbers(), [1, 2]);
});

test('float attributes stay FLOAT even when integral; ints stay INT(S)', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [1, 1, 4, 4]);
  g.HardSigmoid(x, { alpha: 1, beta: 0 });
  g.Gemm(g.input('a', DataType.FLOAT, [2, 2]), g.input('b', DataType.FLOAT, [2, 2]), null, { alpha: 2, transB: 1 });
  g.MaxPool(x, { kernel_shape: [2, 2] });
  const [hs, gemm, pool] = g.graph.nodes;
  assert.equal(hs!.attr('alpha')!.type, AttributeType.FLOAT);
  assert.equal(hs!.attr('beta')!.f, 0);
  assert.equal(gemm!.attr('alpha')!.type, AttributeType.FLOAT);
  assert.equal(gemm!.attr('transB')!.type, AttributeType.INT);
  assert.equal(pool!.attr('kernel_shape')!.type, AttributeType.INTS);
});

test('opset decides whether axes are attributes or inputs', () => {
  for (const [opset, squeezeInputs, meanInputs] of [[11, 1, 1], [13, 2, 1], [17, 2, 1], [18, 2, 2]] as const) {
    const g = new GraphBuilder({ opset });
    const x = g.input('x', DataType.FLOAT, [2, 1, 3]);
    const s = g.Squeeze(x, [1]).producer()!;
    const m = g.ReduceMean(x, [2]).producer()!;
    const c = g.Clip(x, 0, 6).producer()!;
    assert.equal(s.inputs.length, squeezeInputs, `Squeeze at opset ${opset}`);
    assert.equal(m.inputs.length, meanInputs, `ReduceMean at opset ${opset}`);
    assert.equal(c.inputs.length, opset >= 11 ? 3 : 1);
    assert.equal(s.attr('axes') !== undefined, squeezeInputs === 1);
  }
});

test('optional inputs: trailing nulls are dropped, inner ones kept', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [2, 3]);
  const clip = g.Clip(x, null, 1).producer()!;
  assert.equal(clip.inputs.length, 3);
  assert.equal(clip.inputs[1], null);
  assert.equal(g.Conv(g.input('i', DataType.FLOAT, [1, 1, 3, 3]), g.initializer('w', new Float32Array(4), [1, 1, 2, 2])).producer()!.inputs.length, 2);
});

test('generic op: multiple outputs and custom domains; insertBefore places nodes', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [6]);
  const [a, b] = g.op('Split', [x], { num_outputs: 2 }, { outputs: 2 });
  assert.ok(a && b && a !== b);
  const y = g.Relu(a);
  g.insertBefore(y.producer());
  const z = g.Neg(b, { name: 'early' });
  assert.deepEqual(g.graph.nodes.map((n) => n.name), ['Split', 'early', 'Relu']);
  g.insertBefore(null);
  const c = g.op('Gelu', [z], {}, { domain: 'com.microsoft' });
  assert.equal(c.producer()!.domain, 'com.microsoft');
  assert.deepEqual(x.uses().map((u) => u.node.opType), ['Split']);
});

test('model() carries the opset; edit() continues an existing model', () => {
  const g = new GraphBuilder({ opset: 13 });
  g.output(g.Relu(g.input('x', DataType.FLOAT, [1])), 'y');
  const m = g.model();
  assert.equal(m.opset(), 13);
  const e = GraphBuilder.edit(m);
  const v = e.Relu(m.graph.outputs[0]!);
  assert.notEqual(v.name, 'y');
  assert.deepEqual(v.shape, [1]);
});
