import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, permutation } from './rng.js';

test('mulberry32 reproduces its reference output', () => {
  // First outputs of the reference C implementation (uint32 state, seed 1), compiled with gcc.
  const r = new Rng(1);
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32()], [2693262067, 11749833, 2265367787]);
});

test('same seed, same stream; different seed, different stream', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 100 }, () => a.float());
  assert.deepEqual(sa, Array.from({ length: 100 }, () => b.float()));
  assert.notDeepEqual(sa, Array.from({ length: 100 }, () => c.float()));
  assert.ok(sa.every((x) => x >= 0 && x < 1));
});

test('int() is uniform enough and in range', () => {
  const r = new Rng(7);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 100000; i++) counts[r.int(10)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `bucket count ${c}`);
});

test('normal() has mean 0 and variance 1', () => {
  const r = new Rng(3);
  const xs = Array.from({ length: 100000 }, () => r.normal());
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
});

test('permutation is a seeded permutation', () => {
  const p = permutation(1000, 5);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(p, permutation(1000, 5));
  assert.notDeepEqual(p, permutation(1000, 6));
});
