import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../graph/builder.js';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { fashionBatches, maxAbsDiff, randomizeBatchNorm, runAll } from '../quantize/testing.js';
import { checkFoldBatchNorm, foldBatchNorm } from './fold-batchnorm.js';
import { loadModel, serializeModel } from '../onnx/io.js';

const archs: [string, object][] = [
  ['teacher', {}],
  ['mobilenetv2', { inputSize: 28, inChannels: 1, numClasses: 10, widthMultiplier: 0.5 }],
];

for (const [name, opts] of archs) {
  test(`folded ${name} gives ORT's outputs of the original on real images`, async () => {
    const model = buildArchitecture(name, { seed: 5, ...opts });
    randomizeBatchNorm(model);
    const feeds = await fashionBatches(2, 10);
    const before = await runAll(serializeModel(model), feeds);
    const bnCount = model.graph.nodes.filter((n) => n.opType === 'BatchNormalization').length;
    const r = foldBatchNorm.run(model);
    assert.equal(r.modified, true);
    assert.match(r.notes![0]!, new RegExp(`folded ${bnCount} BatchNormalization`));
    assert.equal(model.graph.nodes.filter((n) => n.opType === 'BatchNormalization').length, 0);
    const after = await runAll(model, feeds);
    const scale = maxAbsDiff(before, new Float32Array(before.length));
    // float32 reassociation only: a few ulps of the largest logit per layer
    assert.ok(maxAbsDiff(before, after) <= 1e-4 * Math.max(1, scale), `max |Δ| ${maxAbsDiff(before, after)} vs scale ${scale}`);
    assert.equal(foldBatchNorm.run(model).modified, false, 'nothing left to fold');
    // the folded model survives a save/load round trip with the same outputs
    assert.deepEqual(await runAll(serializeModel(loadModel(serializeModel(model))), feeds), after);
  });
}

test('check() names the reason a BatchNormalization is left alone', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [1, 2, 4, 4]);
  const w = g.initializer('w', new Float32Array(4).fill(0.5), [2, 2, 1, 1]);
  const c = g.Conv(x, w, null, { name: 'c1' });
  const bnIn = (n: string) => [1, 2, 3, 4].map((i) => g.initializer(`${n}.${i}`, new Float32Array(2).fill(i === 4 ? 1 : 0.1), [2]));
  const [s, b, m, v] = bnIn('bn3');
  const y = g.BatchNormalization(c, s!, b!, m!, v!, { name: 'bn3' });
  g.output(y, 'y');
  g.output(g.Relu(c), 'side'); // Conv output used twice
  const [s2, b2, m2, v2] = bnIn('bn4');
  g.output(g.BatchNormalization(x, s2!, b2!, m2!, v2!, { name: 'bn4' }), 'z'); // no Conv before
  const model = g.model();
  const bn = model.graph.nodes.find((n) => n.name === 'bn3')!;
  assert.equal(checkFoldBatchNorm(bn), "BatchNormalization 'bn3' input is used by 2 nodes");
  const r = foldBatchNorm.run(model);
  assert.equal(r.modified, false);
  assert.deepEqual(r.notes, ["BatchNormalization 'bn3' input is used by 2 nodes", "BatchNormalization 'bn4' input is not produced by a Conv"]);
});

test('a BN that is a graph output keeps the output name; a shared weight is not mutated', async () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [1, 2, 3, 3]);
  const w = g.initializer('w', Float32Array.from({ length: 4 }, (_, i) => i / 4 - 0.3), [2, 2, 1, 1]);
  const bnp = [1, 2, 3, 4].map((i) => g.initializer(`p${i}`, Float32Array.from([0.7 + i / 10, 1.3 - i / 10]), [2]));
  g.output(g.BatchNormalization(g.Conv(x, w), bnp[0]!, bnp[1]!, bnp[2]!, bnp[3]!, { epsilon: 1e-3 }), 'y');
  g.output(g.Conv(x, w), 'y2');
  const model = g.model();
  const feeds = [{ dtype: DataType.FLOAT, dims: [1, 2, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)) }];
  const y = await runAll(serializeModel(model), feeds);
  const y2 = await runAll(serializeModel(model), feeds, { output: 'y2' });
  assert.equal(foldBatchNorm.run(model).modified, true);
  assert.deepEqual(model.graph.outputs.map((v) => v.name), ['y', 'y2']);
  assert.ok(maxAbsDiff(y, await runAll(model, feeds)) < 1e-6);
  assert.deepEqual(await runAll(model, feeds, { output: 'y2' }), y2);
});
