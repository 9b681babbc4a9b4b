import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lithe from './index.js';
import { packageRoot } from './data/dataset.js';

test("the package root's exports point at the compiled src/index.ts", () => {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { main: string; exports: Record<string, { import: string; types: string }> };
  assert.equal(pkg.exports['.']!.import, './dist/index.js');
  assert.equal(pkg.exports['.']!.types, './dist/index.d.ts');
  assert.equal(pkg.main, 'dist/index.js');
});

test('package root end to end: build ref-cnn, serialize, reload, profile, run in onnxruntime, evaluate', async () => {
  const model = lithe.buildArchitecture('ref-cnn');
  assert.ok(model instanceof lithe.Model);
  assert.equal(lithe.countParams(model).total, 206_922);
  const bytes = lithe.serializeModel(model);
  const again = lithe.loadModel(bytes);
  assert.deepEqual(lithe.serializeModel(again), bytes, 'load ∘ serialize is the identity on bytes');

  const ds = await lithe.openDataset('fashion-mnist-mini', { split: 'test' });
  const [batch] = lithe.batches(ds, { batchSize: 4 });
  const session = await lithe.createSession(bytes);
  try {
    const y = (await session.run({ input: { dtype: lithe.DataType.FLOAT, dims: batch!.dims, data: batch!.x } })).logits!;
    assert.deepEqual(y.dims, [4, 10]);
    // The same four images through evaluate: its confusion matrix holds each row's argmax.
    const r = await lithe.evaluate(session, [batch!], { numClasses: 10 });
    const scores = y.data as Float32Array;
    const predicted = [0, 1, 2, 3].map((i) => {
      const row = scores.subarray(i * 10, i * 10 + 10);
      return row.indexOf(Math.max(...row));
    });
    predicted.forEach((p, i) => assert.ok(r.confusion[batch!.labels[i]!]![p]! > 0));
    assert.equal(r.samples, 4);
  } finally {
    await session.release();
  }
});

test('package root: builder, shape inference, passes and errors work together', () => {
  const g = new lithe.GraphBuilder();
  const x = g.input('x', lithe.DataType.FLOAT, ['N', 8]);
  g.Relu(x, { name: 'unused' });
  g.output(g.Sigmoid(x, { name: 'sig' }), 'y');
  const model = g.model();
  const shapes = lithe.computeShapes(model);
  assert.deepEqual(shapes.get(model.graph.outputs[0]!)?.shape, ['N', 8]);
  const r = new lithe.PassManager([lithe.eliminateDeadCode]).run(model);
  assert.equal(r.modified, true);
  assert.deepEqual(r.model.graph.nodes.map((n) => n.opType), ['Sigmoid']);
  assert.equal(new lithe.LitheError('E_BAD_INPUT', 'x').exitCode, lithe.EXIT_CODES.E_BAD_INPUT);
  assert.throws(() => lithe.buildArchitecture('resnet'), (e: unknown) => e instanceof lithe.LitheError && e.code === 'E_USAGE');
});
