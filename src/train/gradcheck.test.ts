import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataType } from '../onnx/proto.js';
import { gradcheck, skipFor, toFloat64, type GradCase } from './gradcheck.js';
import { cloneModel as clone } from '../onnx/io.js';
import { RULES } from './rules/index.js';
import { GraphBuilder } from '../graph/builder.js';

const F = DataType.FLOAT;
const mul: GradCase = { name: 'Mul', build: (g) => g.output(g.Mul(g.input('a', F, [2, 3]), g.input('b', F, [3])), 'y') };

test('gradcheck passes a right rule, in float64', async () => {
  const r = await gradcheck(mul, { rules: RULES });
  assert.equal(r.reference, 'float64');
  assert.ok(r.ok);
  assert.deepEqual(r.inputs.map((i) => [i.name, i.checked]), [['a', 6], ['b', 3]]);
  for (const i of r.inputs) assert.ok(i.maxRel < 1e-5, `${i.name}: ${i.maxRel}`);
});

test('gradcheck catches a wrong rule', async () => {
  const wrong = { ...RULES, Mul: RULES.Add! }; // da = dy instead of dy·b
  const r = await gradcheck(mul, { rules: wrong });
  assert.equal(r.ok, false);
  assert.ok(r.inputs[0]!.maxRel > 0.1);
});

test('gradcheck falls back to float32 when ORT has no double kernel (Erf)', async () => {
  const r = await gradcheck({ name: 'Erf', build: (g) => g.output(g.Erf(g.input('x', F, [3, 4])), 'y') }, { rules: RULES });
  assert.equal(r.reference, 'float32');
  assert.ok(r.ok, JSON.stringify(r.inputs));
});

test('gradcheck with expected gradients (a Relu tie at 0 gets gradient 0)', async () => {
  const c: GradCase = { name: 'Relu/tie', build: (g) => g.output(g.Relu(g.input('x', F, [3])), 'y'), inputs: { x: [-1, 0, 2] }, expect: { x: [0, 0, 1] } };
  const r = await gradcheck(c, { rules: RULES });
  assert.equal(r.reference, 'expected');
  assert.ok(r.ok);
  const off = await gradcheck({ ...c, expect: { x: [0, 1, 1] } }, { rules: RULES });
  assert.equal(off.ok, false);
});

test('skipFor finds the skip entry by op', () => {
  assert.equal(skipFor(mul, [{ reason: 'no', ops: ['Mul'] }])?.reason, 'no');
  assert.equal(skipFor(mul, [{ reason: 'no', ops: ['Conv'] }]), undefined);
});

test('toFloat64 widens initializers, types and Cast targets', () => {
  const g = new GraphBuilder();
  const x = g.input('x', F, [2]);
  g.output(g.Cast(g.Add(x, g.initializer('w', [1, 2], [2])), F), 'y');
  const m = toFloat64(clone(g.model()));
  assert.equal(m.graph.initializers.get('w')!.initializer!.dtype, DataType.DOUBLE);
  assert.equal(m.graph.inputs[0]!.dtype, DataType.DOUBLE);
  assert.equal(m.graph.outputs[0]!.dtype, DataType.DOUBLE);
  assert.equal(m.graph.nodes.find((n) => n.opType === 'Cast')!.getInt('to'), DataType.DOUBLE);
});
