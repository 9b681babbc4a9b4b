/**
 * The budget loop on the bundled (trained) teacher, accuracy on 600 real Fashion-MNIST test
 * images (60 per class). Whether the fully int8 model already meets a budget depends on the CPU
 * (u8s8 saturation without VNNI), so the first test checks the loop's contract whatever happens;
 * the second forces exclusions with an impossible budget and a two-row sensitivity table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stratifiedIndices } from '../data/batcher.js';
import { openDataset } from '../data/dataset.js';
import { loadModel, serializeModel } from '../onnx/io.js';
import { calibrationFeeds } from './collect.js';
import { datasetAccuracy, quantizeMixedPrecision } from './mixed-precision.js';
import { quantizeStatic } from './static.js';

const teacher = loadModel(join(fileURLToPath(import.meta.url), '../../../data/teacher/teacher.onnx'));
const feeds = calibrationFeeds(teacher, await openDataset('fashion-mnist-mini', { split: 'train' }), 128);
const source = () => feeds;
const testSet = await openDataset('fashion-mnist-mini', { split: 'test' });
const accuracy = datasetAccuracy(testSet, { subset: stratifiedIndices(testSet.labels, 60, 0, 10), threads: 1 });

test('budget 0 pp: greedy in sensitivity order, stops at the first model within budget, returns what --exclude gives', async () => {
  const r = await quantizeMixedPrecision(teacher, source, { threads: 1, maxDropPp: 0, accuracy });
  assert.ok(r.floatTop1 > 0.9, `float top-1 ${r.floatTop1}`);
  assert.equal(r.steps[0]!.excluded, null);
  r.steps.slice(1).forEach((s, i) => assert.equal(s.excluded!.node, r.sensitivity.rows[i]!.node));
  r.steps.slice(0, -1).forEach((s) => assert.ok(s.dropPp > 0));
  assert.equal(r.met, r.dropPp <= 1e-9);
  assert.ok(r.met || r.excluded.length === r.sensitivity.rows.length);
  assert.deepEqual(r.excluded.map((e) => e.node), r.steps.slice(1).map((s) => s.excluded!.node));
  for (const e of r.excluded) {
    assert.match(e.reason, /lowest SQNR .* dB alone\); drop was [\d.]+ pp > 0 pp/);
    assert.match(r.report.nodes.find((n) => n.name === e.node)!.reason, /^returned to float by --max-drop: lowest SQNR/);
    assert.equal(r.report.nodes.find((n) => n.name === e.node)!.quantized, false);
  }
  // the search reused the sensitivity's ranges; a fresh run with its exclusions is the same model
  const again = await quantizeStatic(teacher, source, { threads: 1, exclude: r.excluded.map((e) => e.node) });
  assert.deepEqual(Buffer.from(serializeModel(again.model)), Buffer.from(serializeModel(r.model)));
  assert.equal(await accuracy(again.model, 'check'), r.top1);
  assert.ok(Math.abs(r.dropPp - (r.floatTop1 - r.top1) * 100) < 1e-12);
});

test('an impossible budget sends every ranked unit back to float, in order, and reports met: false', async () => {
  const rows = [
    { node: 'features.10', opType: 'Conv', members: ['features.10', 'features.12'], sqnrDb: 40, mse: 0.01, top1Agreement: 1 },
    { node: 'classifier.4', opType: 'Gemm', members: ['classifier.4'], sqnrDb: 45, mse: 0.005, top1Agreement: 1 },
  ];
  const all = { sqnrDb: 30, mse: 0.1, top1Agreement: 1 };
  const steps: string[] = [];
  const r = await quantizeMixedPrecision(teacher, source, {
    threads: 1,
    maxDropPp: -100,
    accuracy,
    // no ranges: every step calibrates what it needs
    sensitivity: { rows, all, method: 'minmax', batches: 2, samples: 128, notes: [], calibration: { ranges: new Map(), stats: { method: 'minmax', tensors: 0, batches: 0, samples: 0 } } },
    onStep: (s) => steps.push(s.excluded?.node ?? 'int8'),
  });
  assert.deepEqual(steps, ['int8', 'features.10', 'classifier.4']);
  assert.equal(r.met, false);
  assert.deepEqual(r.excluded.map((e) => [e.node, e.sqnrDb]), [['features.10', 40], ['classifier.4', 45]]);
  const float = r.report.nodes.filter((n) => !n.quantized).map((n) => n.name);
  assert.deepEqual(float.sort(), ['classifier.4', 'features.10', 'features.12'].sort());
  assert.ok(r.steps.every((s) => Math.abs(s.dropPp - (r.floatTop1 - s.top1) * 100) < 1e-12));
});
