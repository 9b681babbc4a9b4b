import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentSample, augmentSeed, Augmenter } from './augment.js';
import { openDataset, sampleAt, type Dataset } from './dataset.js';

// One 2-channel 3×4 image, pixel value = 100·c + 10·y + x, so every expected pixel is readable.
const SHAPE = [2, 3, 4];
const SRC = Uint8Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 4) + (i % 4));

function run(dy: number, dx: number, flip: boolean, pad = 1): number[] {
  const dst = new Uint8Array(24).fill(255);
  augmentSample(SRC, dst, SHAPE, pad, { dy, dx, flip });
  return [...dst];
}

test('crop: offset (dy, dx) in the zero-padded image, by hand', () => {
  // centre crop = identity
  assert.deepEqual(run(1, 1, false), [...SRC]);
  // dy = 0, dx = 0: shifted down-right by one, top row and left column are padding
  // prettier-ignore
  assert.deepEqual(run(0, 0, false), [
    0, 0, 0, 0,     0, 0, 1, 2,      0, 10, 11, 12,
    0, 0, 0, 0,     0, 100, 101, 102, 0, 110, 111, 112,
  ]);
  // dy = 2, dx = 2 with pad 1: shifted up-left by one
  // prettier-ignore
  assert.deepEqual(run(2, 2, false), [
    11, 12, 13, 0,     21, 22, 23, 0,     0, 0, 0, 0,
    111, 112, 113, 0,  121, 122, 123, 0,  0, 0, 0, 0,
  ]);
  // pad 2, dy = 4 (down by 2 → only the last source row survives, at the top)
  assert.deepEqual(run(4, 2, false, 2).slice(0, 12), [20, 21, 22, 23, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('flip: mirrors each row; after a crop, mirrors the cropped image', () => {
  // prettier-ignore
  assert.deepEqual(run(1, 1, true), [
    3, 2, 1, 0,         13, 12, 11, 10,     23, 22, 21, 20,
    103, 102, 101, 100, 113, 112, 111, 110, 123, 122, 121, 120,
  ]);
  // crop dx = 0 (content moves right, column 0 is padding), then flip: padding ends up on the right
  assert.deepEqual(run(1, 0, true).slice(0, 4), [2, 1, 0, 0]);
});

test('Augmenter: labels unchanged, same (seed, epoch) same pixels, a real sample is transformed exactly', async () => {
  const ds = await openDataset('fashion-mnist-mini', { split: 'train' });
  const idx = [5, 0, 17, 5];
  const a = new Augmenter(augmentSeed(0, 1)).apply(ds, idx);
  const b = new Augmenter(augmentSeed(0, 1)).apply(ds, idx);
  const c = new Augmenter(augmentSeed(0, 2)).apply(ds, idx);
  assert.deepEqual([...a.labels], idx.map((i) => ds.labels[i]));
  assert.equal(a.size, 4);
  assert.deepEqual(a.images, b.images);
  assert.notDeepEqual(a.images, c.images);
  assert.notEqual(augmentSeed(0, 2), augmentSeed(1, 1)); // unlike seed + epoch, (0,2) and (1,1) differ

  // Replay the draws and check every pixel of sample 0 against a zero-padded 32×32 copy
  const draws = new Augmenter(augmentSeed(0, 1));
  const d = draws.draw();
  const { pixels } = sampleAt(ds, 5);
  const padded = new Uint8Array(32 * 32);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) padded[(y + 2) * 32 + x + 2] = pixels[y * 28 + x]!;
  const expected = new Uint8Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expected[y * 28 + (d.flip ? 27 - x : x)] = padded[(y + d.dy) * 32 + x + d.dx]!;
  assert.deepEqual(a.images.subarray(0, 784), expected);
  // the same sample twice in one epoch gets its own draw
  assert.notDeepEqual(a.images.subarray(784 * 3), a.images.subarray(0, 784));
});

test('draws: offsets uniform over 0…2p, flips about half, pad 0 and flip off give the identity', async () => {
  const aug = new Augmenter(7, { pad: 2 });
  const counts = [0, 0, 0, 0, 0];
  let flips = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const d = aug.draw();
    counts[d.dy]!++;
    if (d.flip) flips++;
  }
  for (const k of counts) assert.ok(Math.abs(k / n - 0.2) < 0.015, `dy histogram ${counts}`);
  assert.ok(Math.abs(flips / n - 0.5) < 0.015, `flips ${flips}/${n}`);

  const ds: Dataset = { name: 't', source: 't', split: 'train', size: 1, sampleShape: SHAPE, classes: ['a'], images: SRC, labels: Uint8Array.of(0) };
  assert.deepEqual(new Augmenter(3, { pad: 0, flip: false }).apply(ds, [0]).images, SRC);
  assert.throws(() => new Augmenter(0, { pad: -1 }), /padding/);
});
