import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../data/rng.js';
import { GraphBuilder } from '../graph/builder.js';
import { DataType } from '../onnx/proto.js';
import { AbsHistogram, MinMaxCollector, clipRange, entropyThreshold, mseThreshold, percentileThreshold } from './calibrate.js';
import { collectRanges, inputDerived } from './collect.js';
import { buildArchitecture } from '../models/index.js';
import { fashionBatches } from './testing.js';
import { computeParams, dequantizeValue, quantRange, quantizeValue } from './params.js';

const rng = new Rng(5);
const gaussian = (n: number, sigma = 1) => Float32Array.from({ length: n }, () => sigma * rng.normal());
/** 20,000 N(0,1) samples plus 5 outliers at ±40: the case clipping methods exist for. */
const withOutliers = Float32Array.from([...gaussian(20000), 40, -38, 35, 39.5, -40]);
const chunks = (a: Float32Array, n: number) => Array.from({ length: Math.ceil(a.length / n) }, (_, i) => a.subarray(i * n, (i + 1) * n));
const absMax = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

test('MinMax over batches equals min/max of all data', () => {
  const c = new MinMaxCollector();
  for (const b of chunks(withOutliers, 777)) c.update(b);
  assert.deepEqual(c.range(), { min: Math.min(...withOutliers), max: Math.max(...withOutliers) });
});

test('histogram counts every value once, in the bin of |x|', () => {
  const h = new AbsHistogram(absMax(withOutliers), 2048);
  for (const b of chunks(withOutliers, 1000)) h.update(b);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), withOutliers.length);
  // brute force: count of |x| < edge(100) equals sum of the first 100 bins
  const below = Array.from(withOutliers).filter((x) => Math.abs(x) < h.edge(100)).length;
  assert.equal(h.counts.subarray(0, 100).reduce((a, b) => a + b, 0), below);
});

test('percentile threshold brackets the exact percentile of sorted |x| within one bin', () => {
  const h = new AbsHistogram(absMax(withOutliers));
  h.update(withOutliers);
  const sorted = Array.from(withOutliers, Math.abs).sort((a, b) => a - b);
  for (const p of [99, 99.9, 99.99]) {
    const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
    const t = percentileThreshold(h, p);
    assert.ok(t >= exact && t - exact <= h.width + 1e-9, `p=${p}: T=${t} exact=${exact}`);
  }
});

/** Real quantization MSE of `data` with the range clipped to ±t, int8 symmetric. */
function actualMse(data: Float32Array, t: number): number {
  const r = quantRange('int8', { symmetric: true });
  const p = computeParams(-t, t, r, true);
  let e = 0;
  for (const x of data) e += (dequantizeValue(quantizeValue(x, p, r), p) - x) ** 2;
  return e / data.length;
}

test('MSE threshold is within 10% of the brute-force best clipping on the raw data', () => {
  const h = new AbsHistogram(absMax(withOutliers));
  h.update(withOutliers);
  const t = mseThreshold(h, 128);
  let best = Infinity;
  for (let i = 8; i <= 2048; i += 8) best = Math.min(best, actualMse(withOutliers, h.edge(i)));
  const got = actualMse(withOutliers, t);
  assert.ok(got <= 1.1 * best, `mse(T=${t}) = ${got}, best ${best}`);
  assert.ok(got <= 1.1 * actualMse(withOutliers, absMax(withOutliers)), 'never worse than no clipping');
});

test('entropy (KL) clips outliers of a Gaussian but keeps the bulk; keeps the full range of uniform data', () => {
  const h = new AbsHistogram(absMax(withOutliers));
  h.update(withOutliers);
  const t = entropyThreshold(h, 128);
  assert.ok(t > 2.5 && t < 20, `T=${t} for N(0,1) with outliers at 40`);
  const uniform = Float32Array.from({ length: 20000 }, () => 2 * rng.float() - 1);
  const hu = new AbsHistogram(absMax(uniform));
  hu.update(uniform);
  assert.ok(entropyThreshold(hu, 128) > 0.9 * absMax(uniform));
  // clipRange keeps a one-sided (ReLU) range one-sided
  const relu = Float32Array.from(withOutliers, (x) => Math.max(0, x));
  const hr = new AbsHistogram(absMax(relu));
  hr.update(relu);
  const r = clipRange({ min: 0, max: 40 }, hr, { method: 'entropy' });
  assert.equal(r.min, 0);
  assert.ok(r.max < 20);
});

test('entropy ignores the spike of exact zeros after a ReLU (black backgrounds), which pulled T into the bulk', () => {
  // 80% exact zeros, the rest |N(0, 3)|: the bulk reaches ~10
  const data = Float32Array.from({ length: 40000 }, (_, i) => (i % 5 ? 0 : 3 * Math.abs(rng.normal())));
  const h = new AbsHistogram(absMax(data));
  h.update(data);
  const t = entropyThreshold(h, 256);
  // with the spike counted T was 3.1 (about one σ of the bulk) against 9.8 now, of max 12.6
  assert.ok(t > 0.5 * h.absMax, `T=${t} of max ${h.absMax}`);
  assert.equal(h.counts[0], data.filter((x) => x < h.width).length, 'the histogram itself is left as counted');
});

test('collectRanges through ORT equals brute force over the same batches; mismatched data is a one-line error', async () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, ['N', 4]);
  const w = g.initializer('w', Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), [4, 3]);
  const h = g.MatMul(x, w, { name: 'mm' });
  g.output(g.Relu(h, { name: 'r' }), 'y');
  const model = g.model();
  const batches = Array.from({ length: 5 }, () => gaussian(8 * 4, 2));
  const source = () => batches.map((b) => ({ x: { dtype: DataType.FLOAT, dims: [8, 4], data: b } }));
  const seen: number[] = [];
  const ranges = await collectRanges(model, ['mm', 'y'], source, { method: 'minmax', onBatch: (p) => seen.push(p.samples) });
  assert.deepEqual(seen, [8, 16, 24, 32, 40]);
  // brute force in JS (float64 products; ORT sums in float32, so compare to 1e-5)
  const W = w.initializer!.toArray() as Float32Array;
  const hs: number[] = [];
  for (const b of batches) for (let r = 0; r < 8; r++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += b[r * 4 + k]! * W[k * 3 + c]!;
    hs.push(s);
  }
  const mm = ranges.get('mm')!;
  assert.ok(Math.abs(mm.min - Math.min(...hs)) < 1e-5 && Math.abs(mm.max - Math.max(...hs)) < 1e-5);
  assert.equal(ranges.get('y')!.min, Math.max(0, mm.min));
  const pct = await collectRanges(model, ['mm'], source, { method: 'percentile', percentile: 90 });
  assert.ok(pct.get('mm')!.max < mm.max && pct.get('mm')!.min > mm.min);

  const wrong = () => [{ x: { dtype: DataType.FLOAT, dims: [8, 5], data: new Float32Array(40) } }];
  await assert.rejects(collectRanges(model, ['mm'], wrong, { method: 'minmax' }), /calibration data has shape \[8,5\], model input 'x' expects \[N,4\]/);
  await assert.rejects(collectRanges(model, ['mm'], () => [], { method: 'minmax' }), /calibration data is empty/);
  const ints = () => [{ x: { dtype: DataType.INT32, dims: [8, 4], data: new Int32Array(32) } }];
  await assert.rejects(collectRanges(model, ['mm'], ints, { method: 'minmax' }), /calibration data is int32, model input 'x' is float/);
});

test('histogram methods keep the MinMax range of the data input and of in-graph normalisation (ref-cnn input_norm)', async () => {
  const m = buildArchitecture('ref-cnn', { seed: 1 });
  assert.deepEqual([...inputDerived(m)], ['input', 'input_norm.sub', 'input_norm']);
  const batches = await fashionBatches(10, 50, 2); // 100 real images
  const source = () => batches.map((x) => ({ input: x }));
  const names = ['input', 'input_norm', 'relu1'];
  const minmax = await collectRanges(m, names, source, { method: 'minmax' });
  // background pixels normalise to −0.81 and bright ones reach 2.02: all of it is signal
  assert.ok(minmax.get('input_norm')!.min < -0.8 && minmax.get('input_norm')!.max > 2);
  for (const method of ['entropy', 'percentile', 'mse'] as const) {
    const r = await collectRanges(m, names, source, { method, percentile: 99 });
    assert.deepEqual(r.get('input'), minmax.get('input'), method);
    assert.deepEqual(r.get('input_norm'), minmax.get('input_norm'), method);
    assert.ok(r.get('relu1')!.max < minmax.get('relu1')!.max, `${method} clips the activations`);
  }
});
