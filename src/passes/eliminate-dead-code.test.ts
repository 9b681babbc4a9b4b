import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, Model, Node, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { DataType } from '../onnx/proto.js';
import { PassManager } from '../graph/pass.js';
import { eliminateDeadCode } from './eliminate-dead-code.js';

function chain() {
  const g = new Graph('g');
  const x = g.addInput(new Value('x'));
  const w = g.addInitializer(Tensor.fromArray(DataType.FLOAT, [1], [2]), 'w');
  const unusedW = g.addInitializer(Tensor.fromArray(DataType.FLOAT, [1], [3]), 'unused');
  const y = new Value('y');
  const dead = new Value('dead');
  const dead2 = new Value('dead2');
  g.append(new Node({ opType: 'Mul', inputs: [x, w], outputs: [y] }));
  g.append(new Node({ opType: 'Relu', inputs: [x], outputs: [dead] }));
  g.append(new Node({ opType: 'Neg', inputs: [dead], outputs: [dead2] }));
  g.outputs.push(y);
  return { model: new Model(g), x, unusedW };
}

test('removes chains of dead nodes and unused initializers, keeps live ones', () => {
  const { model, x } = chain();
  const r = new PassManager([eliminateDeadCode], { fixedPoint: true }).run(model);
  assert.equal(r.modified, true);
  assert.deepEqual(model.graph.nodes.map((n) => n.opType), ['Mul']);
  assert.deepEqual([...model.graph.initializers.keys()], ['w']);
  assert.equal(x.uses().length, 1, 'x keeps exactly its live use');
  assert.equal(eliminateDeadCode.run(model).modified, false, 'a second run finds nothing');
});

test('safe removal refuses while outputs are used', () => {
  const { model } = chain();
  const mul = model.graph.nodes[0]!;
  assert.throws(() => model.graph.remove(mul), /graph output/);
  const relu = model.graph.nodes[1]!;
  assert.throws(() => model.graph.remove(relu), /still used by Neg/);
});
