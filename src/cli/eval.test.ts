import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import { saveModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { SYSTEM_FASHION_MNIST_DIR, sampleAt, type Dataset } from '../data/dataset.js';
import { stratifiedIndices } from '../data/batcher.js';
import type { evalReport } from './eval.js';
import { argmax, assertErrors, centroidFixture, centroidScores, lithe, litheJson, tempDir, type Centroids, type ErrorCase } from './testing.js';

type Report = ReturnType<typeof evalReport>;
const dir = tempDir();

const evalJson = (...argv: string[]) => litheJson<Report>('eval', ...argv);

/** Everything an eval report claims, checked against itself. */
function assertConsistent(r: Report) {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  assert.equal(sum(r.confusion.map(sum)), r.samples, 'confusion matrix sums to the sample count');
  r.confusion.forEach((row, t) => {
    assert.equal(sum(row), r.perClass[t]!.total, `class ${t}: row sum = per-class total`);
    assert.equal(row[t], r.perClass[t]!.correct, `class ${t}: diagonal = per-class correct`);
  });
  assert.equal(sum(r.perClass.map((c) => c.total)), r.samples);
  assert.equal(r.correct, Math.round(r.top1 * r.samples));
  assert.ok(r.top1 <= r.top5 && r.top5 <= 1, `top1 ${r.top1} ≤ top5 ${r.top5}`);
}

/** The confusion matrix the plain-JS centroid classifier gives on the listed samples. */
function referenceConfusion(c: Centroids, ds: Dataset, indices: number[]): number[][] {
  const m = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  for (const i of indices) {
    const { pixels, label } = sampleAt(ds, i);
    m[label]![argmax(centroidScores(c, pixels))]!++;
  }
  return m;
}

test('eval --limit on the bundled subset: consistent numbers that match a plain-JS reference', async () => {
  const { file, centroids, test: ds } = await centroidFixture();
  const r = await evalJson(file, '--data', 'fashion-mnist-mini', '--limit', '300');
  assertConsistent(r);
  assert.equal(r.samples, 300);
  assert.match(r.data.source, /^bundled subset/);
  assert.equal(r.data.split, 'test');
  assert.equal(r.data.selection, 'first 300 of 2,000');
  const first300 = Array.from({ length: 300 }, (_, i) => i);
  assert.deepEqual(r.confusion, referenceConfusion(centroids, ds, first300));
  assert.deepEqual(r.perClass.map((c) => c.total), r.confusion.map((_, t) => first300.filter((i) => ds.labels[i] === t).length));
  assert.ok(r.top1 > 0.6, `a real classifier: top-1 ${r.top1}`);
  assert.equal(r.perClass[9]!.label, 'Ankle boot');

  // The batch size changes nothing but speed.
  const r7 = await evalJson(file, '--data', 'fashion-mnist-mini', '--limit', '300', '--batch', '7');
  assert.deepEqual(r7.confusion, r.confusion);
  assert.equal(r7.top5, r.top5);

  const text = await lithe('eval', file, '--data', 'fashion-mnist-mini', '--limit', '300');
  assert.equal(text.code, 0);
  assert.match(text.out, /on fashion-mnist-mini test: 300 samples \(first 300 of 2,000\)/);
  assert.match(text.out, /source: bundled subset/);
  assert.match(text.out, new RegExp(`top-1:\\s+${(100 * r.top1).toFixed(2)}%\\s+\\(${r.correct}/300\\)`));
  assert.match(text.out, /confusion matrix \(rows: true class, columns: predicted class\)/);
});

test('eval --per-class takes a stratified subset', async () => {
  const { file, centroids, test: ds } = await centroidFixture();
  const r = await evalJson(file, '--data', 'fashion-mnist-mini', '--per-class', '5', '--seed', '3');
  assertConsistent(r);
  assert.equal(r.samples, 50);
  assert.deepEqual(r.perClass.map((c) => c.total), new Array(10).fill(5));
  assert.equal(r.data.selection, '5 per class (stratified, seed 3) of 2,000');
  const again = await evalJson(file, '--data', 'fashion-mnist-mini', '--per-class', '5', '--seed', '3');
  assert.deepEqual(again.confusion, r.confusion, 'same seed, same subset');
  assert.deepEqual(r.confusion, referenceConfusion(centroids, ds, [...stratifiedIndices(ds.labels, 5, 3, 10)]));
});

test('eval on the builder\'s untrained ref-cnn: consistent, and chance-level', async () => {
  const { buildArchitecture } = await import('../models/index.js');
  const file = join(dir, 'ref-cnn.onnx');
  saveModel(buildArchitecture('ref-cnn'), file);
  const r = await evalJson(file, '--data', 'fashion-mnist-mini', '--limit', '200');
  assertConsistent(r);
  assert.equal(r.samples, 200);
  assert.ok(r.top1 < 0.3, `untrained: top-1 ${r.top1}`);
});

test('eval --data fashion-mnist says which source it used', { skip: !existsSync(join(SYSTEM_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')) && 'the Debian dataset-fashion-mnist package is not installed' }, async () => {
  const { file } = await centroidFixture();
  const r = await evalJson(file, '--data', 'fashion-mnist', '--limit', '100');
  assertConsistent(r);
  assert.match(r.data.source, /full, Debian dataset-fashion-mnist/);
  assert.equal(r.data.size, 10000);
});

test('eval errors: exit code and a one-line message', async () => {
  const { file } = await centroidFixture();
  const g = new GraphBuilder();
  g.output(g.GlobalAveragePool(g.input('x', DataType.FLOAT, ['N', 3, 28, 28])), 'y');
  const rgb = join(dir, 'rgb.onnx');
  saveModel(g.model(), rgb);
  const cases: ErrorCase[] = [
    { argv: ['eval', file], code: EXIT_CODES.E_USAGE, message: /missing --data DATASET/ },
    { argv: ['eval', file, '--data', 'fashion-mnist-mini', '--split', 'val'], code: EXIT_CODES.E_USAGE, message: /--split must be one of test, train/ },
    { argv: ['eval', file, '--data', 'fashion-mnist-mini', '--limit', '5', '--per-class', '2'], code: EXIT_CODES.E_USAGE, message: /--limit and --per-class exclude each other/ },
    { argv: ['eval', file, '--data', join(dir, 'nowhere')], code: EXIT_CODES.E_IO, message: /nowhere' not found/ },
    { argv: ['eval', join(dir, 'missing.onnx'), '--data', 'fashion-mnist-mini'], code: EXIT_CODES.E_IO, message: /missing\.onnx: cannot read/ },
    { argv: ['eval', rgb, '--data', 'fashion-mnist-mini'], code: EXIT_CODES.E_BAD_INPUT, message: /fashion-mnist-mini: samples are nchw \[1,28,28\], which does not fit input "x" float\[N,3,28,28\] of .*rgb\.onnx/ },
  ];
  await assertErrors(cases);
});
