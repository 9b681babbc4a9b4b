import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LitheError } from '../errors.js';
import { DataType } from '../onnx/proto.js';
import { Graph, Node, Value, externalInputs } from './ir.js';

/** x → Relu → a → Neg → b;  a → Exp → c;  outputs b, c */
function chain() {
  const g = new Graph('g');
  const x = g.addInput(new Value('x'));
  x.setTensorType(DataType.FLOAT, [2]);
  const a = new Value('a');
  const b = new Value('b');
  const c = new Value('c');
  const relu = g.append(new Node({ opType: 'Relu', name: 'relu', inputs: [x], outputs: [a] }));
  const neg = g.append(new Node({ opType: 'Neg', name: 'neg', inputs: [a], outputs: [b] }));
  const exp = g.append(new Node({ opType: 'Exp', name: 'exp', inputs: [a], outputs: [c] }));
  g.outputs.push(b, c);
  return { g, x, a, b, c, relu, neg, exp };
}

const uses = (v: Value) => v.uses().map((u) => `${u.node.name}:${u.index}`).sort();

test('values know their producer and uses; only Node changes them', () => {
  const { x, a, relu, neg, exp } = chain();
  assert.equal(a.producer(), relu);
  assert.equal(a.index(), 0);
  assert.equal(x.producer(), null);
  assert.deepEqual(uses(a), ['exp:0', 'neg:0']);
  neg.setInput(0, x);
  assert.deepEqual(uses(a), ['exp:0']);
  assert.deepEqual(uses(x), ['neg:0', 'relu:0']);
  exp.appendInput(a);
  assert.deepEqual(uses(a), ['exp:0', 'exp:1']);
  exp.truncateInputs(1);
  assert.deepEqual(uses(a), ['exp:0']);
});

test('replaceAllUsesWith moves every use, including uses inside subgraphs', () => {
  const { g, x, a, exp } = chain();
  const body = new Graph('body');
  const inner = new Value('inner');
  body.append(new Node({ opType: 'Identity', name: 'id', inputs: [a], outputs: [inner] }));
  body.outputs.push(inner);
  const loop = new Node({ opType: 'If', name: 'if', inputs: [x], outputs: [new Value('r')] });
  loop.setAttr('then_branch', body);
  g.append(loop);
  assert.equal(body.parentGraph(), g);
  assert.deepEqual(uses(a), ['exp:0', 'id:0', 'neg:0']);
  assert.deepEqual([...externalInputs(loop)].map((v) => v.name).sort(), ['a', 'x']);
  a.replaceAllUsesWith(x);
  assert.equal(a.isUsed(), false);
  assert.equal(exp.input(0), x);
  assert.equal(body.nodes[0]!.input(0), x);
});

test('safe removal refuses while outputs are used or are graph outputs; unsafe removal unlinks', () => {
  const { g, x, a, relu, neg, exp } = chain();
  assert.throws(() => g.remove(relu), /output "a" is still used by Neg "neg"/);
  assert.throws(() => g.remove(neg), /"b" is a graph output/);
  a.replaceAllUsesWith(x);
  g.remove(relu);
  assert.equal(relu.graph, null);
  assert.equal(a.producer(), null);
  assert.deepEqual(uses(x), ['exp:0', 'neg:0']);
  g.remove(exp, { safe: false });
  assert.deepEqual(uses(x), ['neg:0']);
  assert.deepEqual(g.nodes.map((n) => n.name), ['neg']);
});

test('replaceValue keeps the graph interface: the new value takes the output slot, name and type', () => {
  const { g, b, c, exp } = chain();
  b.setTensorType(DataType.FLOAT, [2]);
  const d = new Value('d');
  g.append(new Node({ opType: 'Sigmoid', name: 'sig', inputs: [c], outputs: [d] }));
  g.replaceValue(b, d);
  assert.equal(g.outputs[0], d);
  assert.equal(d.name, 'b');
  assert.deepEqual(d.shape, [2]);
  assert.equal(exp.output(0), c);
});

test('topological sort restores producer-first order and names a cycle', () => {
  const { g, relu, neg, exp } = chain();
  // move the producer last: re-inserting a removed node relinks it, and the sort restores
  // producer-before-consumer order (and otherwise keeps the current order)
  g.remove(relu, { safe: false });
  assert.equal(relu.output(0).producer(), null);
  g.append(relu);
  assert.equal(relu.output(0).producer(), relu);
  assert.deepEqual(uses(g.inputs[0]!), ['relu:0']);
  g.sortTopologically();
  assert.deepEqual(g.nodes.map((n) => n.name), ['relu', 'neg', 'exp']);
  neg.setInput(0, exp.output(0));
  exp.setInput(0, neg.output(0));
  assert.throws(() => g.sortTopologically(), (e: unknown) => e instanceof LitheError && e.code === 'E_BAD_MODEL' && /cycle through/.test(e.message));
});

test('uniqueName avoids every name of the graph and its ancestors', () => {
  const { g } = chain();
  assert.equal(g.uniqueName('fresh'), 'fresh');
  const n1 = g.uniqueName('a');
  assert.notEqual(n1, 'a');
  assert.ok(!['x', 'a', 'b', 'c'].includes(n1));
});
