import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataType } from '../onnx/proto.js';
import { GraphBuilder } from './builder.js';
import { broadcastShapes, windowOut } from './dims.js';
import { Graph, Model, Node, Value } from './ir.js';
import { SHAPE_CASES } from './shape-cases.js';
import { computeShapes, inferShapes, topologicalOrder } from './shape-inference.js';

for (const c of SHAPE_CASES) {
  test(`shape rule: ${c.name}`, () => {
    const g = new GraphBuilder({ opset: c.opset ?? 17 });
    const outs = c.build(g);
    assert.deepEqual(outs.map((v) => v.shape), c.expect);
    for (const v of outs) assert.ok(v.dtype !== undefined, `${v.name} has a dtype`);
  });
}

test('dtypes: comparisons give bool, Cast gives `to`, ArgMax int64, QuantizeLinear the zero point type', () => {
  const g = new GraphBuilder();
  const a = g.input('a', DataType.FLOAT, [2]);
  assert.equal(g.Greater(a, g.zero()).dtype, DataType.BOOL);
  assert.equal(g.Cast(a, DataType.INT32).dtype, DataType.INT32);
  assert.equal(g.ArgMax(a).dtype, DataType.INT64);
  assert.equal(g.Shape(a).dtype, DataType.INT64);
  assert.equal(g.QuantizeLinear(a, g.scalar(0.1), g.scalar(0, DataType.INT8)).dtype, DataType.INT8);
  assert.equal(g.QuantizeLinear(a, g.scalar(0.1)).dtype, DataType.UINT8);
  assert.equal(g.op('MaxPool', [g.input('p', DataType.FLOAT, [1, 1, 4, 4])], { kernel_shape: [2, 2] }, { outputs: 2 })[1]!.dtype, DataType.INT64);
});

test('broadcast: symbols pass through, unknown dims are wildcards, different symbols give null', () => {
  assert.deepEqual(broadcastShapes([['N', 1], [null, 5]]), ['N', 5]);
  assert.deepEqual(broadcastShapes([['N'], ['M']]), [null]);
  assert.deepEqual(broadcastShapes([[3, 1, 5], [4, 1]]), [3, 4, 5]);
  assert.equal(broadcastShapes([[1], undefined]), undefined);
});

test('windowOut: floor, ceil and the ceil-mode end-padding rule', () => {
  assert.equal(windowOut(224, 3, 2, 1, 1, 1, false), 112);
  assert.equal(windowOut(10, 3, 2, 1, 0, 0, true), 5);
  assert.equal(windowOut(5, 2, 2, 1, 1, 1, true), 3); // ⌈2.5⌉+1 = 4, but window 4 would start in the pad
  assert.equal(windowOut('N', 1, 1, 1, 0, 0, false), 'N');
  assert.equal(windowOut('N', 3, 1, 1, 1, 1, false), null);
});

test('unknown ops and domains leave outputs untyped, without error', () => {
  const g = new GraphBuilder();
  const a = g.input('a', DataType.FLOAT, ['N', 3]);
  const y = g.op('FancyOp', [a], {}, { domain: 'com.example' });
  const z = g.Relu(y);
  assert.equal(y.type, undefined);
  assert.equal(z.type, undefined);
  const r = inferShapes(g.model());
  assert.equal(r.untyped.length, 2);
});

test('inferShapes walks out-of-order graphs in topological order and fills Value.type', () => {
  const graph = new Graph();
  const x = new Value('x');
  x.setTensorType(DataType.FLOAT, ['N', 4]);
  graph.addInput(x);
  const mid = new Value('mid');
  const out = new Value('out');
  // Appended consumer-first: the walk must still see Relu before Neg.
  graph.append(new Node({ opType: 'Neg', inputs: [mid], outputs: [out] }));
  graph.append(new Node({ opType: 'Relu', inputs: [x], outputs: [mid] }));
  graph.outputs.push(out);
  const model = new Model(graph);
  assert.deepEqual(topologicalOrder(graph).map((n) => n.opType), ['Relu', 'Neg']);
  assert.equal(graph.nodes[0]!.opType, 'Neg', 'the graph itself is not reordered');
  const r = inferShapes(model);
  assert.equal(r.typed, 2);
  assert.deepEqual(out.shape, ['N', 4]);
});

test('computeShapes is pure and binds input dims; declared dims fill what inference cannot tell', () => {
  const g = new GraphBuilder();
  const a = g.input('a', DataType.FLOAT, ['N', 8]);
  const y = g.op('Custom', [a], {}, { domain: 'x' });
  y.setTensorType(DataType.FLOAT, ['N', 2]); // declared by the file (value_info)
  const z = g.Relu(y);
  const model = g.model();
  const types = computeShapes(model, { inputShapes: new Map([[a, [5, 8]]]) });
  assert.deepEqual(types.get(z)?.shape, ['N', 2]);
  assert.deepEqual(a.shape, ['N', 8], 'model untouched');
  const r = g.Reshape(a, [-1, 4]);
  assert.deepEqual(computeShapes(model, { inputShapes: new Map([[a, [5, 8]]]) }).get(r)?.shape, [10, 4]);
});
