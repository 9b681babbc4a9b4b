import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../data/rng.js';
import { computeParams, dequantizeValue, quantRange, quantizeBias, quantizeValue, quantizeWeights, roundHalfEven } from './params.js';

test('roundHalfEven matches QuantizeLinear rounding', () => {
  const cases: [number, number][] = [[2.5, 2], [3.5, 4], [-2.5, -2], [-3.5, -4], [0.5, 0], [-0.5, -0], [1.5, 2], [2.4999, 2], [2.5001, 3], [-1.2, -1]];
  for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, `round(${x})`);
});

test('integer ranges: uint8, int8, symmetric-restricted, reduce-range', () => {
  assert.deepEqual(quantRange('uint8'), { qmin: 0, qmax: 255 });
  assert.deepEqual(quantRange('int8'), { qmin: -128, qmax: 127 });
  assert.deepEqual(quantRange('int8', { symmetric: true }), { qmin: -127, qmax: 127 });
  assert.deepEqual(quantRange('int8', { reduceRange: true }), { qmin: -64, qmax: 64 });
  // reduce-range keeps two u8·s8 products inside int16 (vpmaddubsw without VNNI)
  assert.ok(255 * 64 * 2 <= 32767 && 255 * 127 * 2 > 32767);
});

const rng = new Rng(11);
const data = Array.from({ length: 5000 }, () => 3 * rng.normal() + 0.7);

for (const [type, symmetric] of [['uint8', false], ['int8', false], ['int8', true], ['uint8', true]] as const) {
  test(`round trip ${type}${symmetric ? ' symmetric' : ''}: |x − x̂| ≤ s/2 inside the range, 0 exact, saturation outside`, () => {
    const range = quantRange(type, { symmetric });
    const lo = Math.min(...data);
    const hi = Math.max(...data);
    const p = computeParams(lo, hi, range, symmetric);
    assert.ok(p.zeroPoint >= range.qmin && p.zeroPoint <= range.qmax && Number.isInteger(p.zeroPoint));
    if (symmetric) assert.equal(p.zeroPoint, type === 'int8' ? 0 : 128);
    for (const x of data) {
      const q = quantizeValue(x, p, range);
      assert.ok(q >= range.qmin && q <= range.qmax);
      assert.ok(Math.abs(dequantizeValue(q, p) - x) <= p.scale / 2 + 1e-6 * Math.abs(x), `x=${x}`);
    }
    assert.equal(dequantizeValue(quantizeValue(0, p, range), p), 0, 'zero is exact');
    const big = 10 * Math.max(Math.abs(lo), hi);
    assert.equal(quantizeValue(big, p, range), range.qmax);
    assert.equal(quantizeValue(-big, p, range), range.qmin);
  });
}

test('non-negative data (ReLU output) gets uint8 zero point 0 and scale max/255', () => {
  const p = computeParams(0, 6, quantRange('uint8'), false);
  assert.equal(p.zeroPoint, 0);
  assert.equal(p.scale, Math.fround(6 / 255));
  assert.deepEqual(computeParams(0, 0, quantRange('uint8'), false), { scale: 1, zeroPoint: 0 });
});

test('per-channel weights: each channel its own scale, error ≤ s_c/2; bias int32 at s_x·s_w', () => {
  const dims = [3, 2, 2, 2];
  const w = Float32Array.from({ length: 24 }, (_, i) => (i < 8 ? 0.01 : i < 16 ? 1 : 50) * Math.sin(i + 1));
  const range = quantRange('int8', { symmetric: true });
  const { q, params } = quantizeWeights(w, dims, 0, range, true);
  assert.equal(params.length, 3);
  for (let i = 0; i < 24; i++) {
    const p = params[Math.floor(i / 8)]!;
    assert.equal(p.zeroPoint, 0);
    assert.ok(Math.abs(dequantizeValue(q[i]!, p) - w[i]!) <= p.scale / 2 + 1e-7);
  }
  // the channel maximum maps to ±127 exactly
  for (let c = 0; c < 3; c++) assert.equal(Math.max(...Array.from(q.subarray(8 * c, 8 * c + 8), Math.abs)), 127);
  const perTensor = quantizeWeights(w, dims, undefined, range, true);
  assert.equal(perTensor.params.length, 1);
  // per-tensor wastes the small channel: its values all round to 0 or ±1
  assert.ok(Math.max(...Array.from(perTensor.q.subarray(0, 8), Math.abs)) <= 1);
  const bias = Float32Array.from([0.3, -1.7, 12.25]);
  const { q: qb, scales } = quantizeBias(bias, 0.02, params.map((p) => p.scale));
  for (let c = 0; c < 3; c++) {
    assert.equal(scales[c], Math.fround(0.02 * params[c]!.scale));
    assert.ok(Math.abs(qb[c]! * scales[c]! - bias[c]!) <= scales[c]! / 2 + 1e-9);
  }
});
