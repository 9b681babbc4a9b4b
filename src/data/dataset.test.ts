import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { LitheError } from '../errors.js';
import { FASHION_MNIST_CLASSES, SYSTEM_FASHION_MNIST_DIR, bundledFashionMnistDir, fashionMnistLocation, openDataset, packageRoot, sampleAt, type Dataset } from './dataset.js';
import { encodeIdx } from './idx.js';

function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.classes.length).fill(0);
  for (const l of ds.labels) counts[l]!++;
  return counts;
}

function meanPixel(ds: Dataset): number {
  let s = 0;
  for (const v of ds.images) s += v;
  return s / ds.images.length / 255;
}

test('the package root is found by walking up to package.json named lithe', () => {
  assert.ok(existsSync(join(packageRoot(), 'src', 'data', 'dataset.ts')));
  assert.equal(bundledFashionMnistDir(), join(packageRoot(), 'data', 'fashion-mnist-mini'));
});

test('bundled subset: 600/200 real images per class', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const testSet = await openDataset('fashion-mnist-mini', { split: 'test' });
  assert.match(train.source, /^bundled subset/);
  assert.deepEqual(train.classes, FASHION_MNIST_CLASSES);
  assert.deepEqual(train.sampleShape, [1, 28, 28]);
  assert.equal(train.size, 6000);
  assert.equal(testSet.size, 2000);
  assert.equal(train.images.length, 6000 * 784);
  assert.deepEqual(classCounts(train), new Array(10).fill(600));
  assert.deepEqual(classCounts(testSet), new Array(10).fill(200));
  // Fashion-MNIST's mean pixel is 0.2860 (train) / 0.2868 (test); random bytes would give 0.5.
  assert.ok(Math.abs(meanPixel(train) - 0.286) < 0.01, `train mean ${meanPixel(train)}`);
  assert.ok(Math.abs(meanPixel(testSet) - 0.286) < 0.015, `test mean ${meanPixel(testSet)}`);
  // Trousers (1) are tall and narrow: the centre column is brighter than the edge columns.
  const i = train.labels.indexOf(1);
  const px = sampleAt(train, i).pixels;
  let centre = 0;
  let edge = 0;
  for (let y = 0; y < 28; y++) {
    centre += px[y * 28 + 14]!;
    edge += px[y * 28]! + px[y * 28 + 27]!;
  }
  assert.ok(centre > edge, `trouser centre ${centre} vs edges ${edge}`);
});

test("'fashion-mnist' uses the Debian package when installed and says so", { skip: !existsSync(join(SYSTEM_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')) && 'dataset-fashion-mnist not installed' }, async () => {
  const ds = await openDataset('fashion-mnist', { split: 'test' });
  assert.equal(ds.size, 10000);
  assert.equal(ds.source, `${SYSTEM_FASHION_MNIST_DIR} (full, Debian dataset-fashion-mnist)`);
  assert.deepEqual(classCounts(ds), new Array(10).fill(1000));
  assert.ok(Math.abs(meanPixel(ds) - 0.2868) < 0.001, `mean ${meanPixel(ds)}`);
});

test('an IDX folder (t10k names, gzip and plain, classes.txt)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lithe-idxdir-'));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx('u8', [3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx('u8', [3], [2, 0, 1]));
  writeFileSync(join(dir, 'classes.txt'), 'cat\ndog\nemu\n');
  const ds = await openDataset(dir, { split: 'test' });
  assert.deepEqual(ds.sampleShape, [1, 2, 2]);
  assert.deepEqual(ds.classes, ['cat', 'dog', 'emu']);
  assert.deepEqual([...sampleAt(ds, 1).pixels], [4, 5, 6, 7]);
  assert.equal(sampleAt(ds, 0).label, 2);
  await assert.rejects(openDataset(dir, { split: 'train' }), (e: unknown) => e instanceof LitheError && e.code === 'E_IO' && /no train split/.test(e.message));
  // Labels that do not match the image count are refused.
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx('u8', [2], [0, 1]));
  await assert.rejects(openDataset(dir, { split: 'test' }), /2 labels for 3 images/);
});

test('an image folder: sorted class subfolders, decoded to the requested size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lithe-imgdir-'));
  const colours: Record<string, [number, number, number]> = { zebra: [200, 200, 200], apple: [255, 0, 0], Banana: [0, 0, 255] };
  for (const [cls, [r, g, b]] of Object.entries(colours)) {
    mkdirSync(join(dir, cls));
    for (const n of [0, 1]) {
      const png = await sharp({ create: { width: 8 + n, height: 6, channels: 3, background: { r, g, b } } }).png().toBuffer();
      writeFileSync(join(dir, cls, `${n}.png`), png);
    }
  }
  writeFileSync(join(dir, 'apple', 'notes.txt'), 'not an image');
  const rgb = await openDataset(dir, { split: 'train', imageSize: 4, channels: 3 });
  assert.deepEqual(rgb.classes, ['Banana', 'apple', 'zebra']); // code-point order, as torchvision
  assert.equal(rgb.size, 6);
  assert.deepEqual([...rgb.labels], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(rgb.sampleShape, [3, 4, 4]);
  const apple = sampleAt(rgb, 2).pixels; // CHW: 16 reds, 16 greens, 16 blues
  assert.deepEqual([...apple], [...new Array(16).fill(255), ...new Array(32).fill(0)]);
  const gray = await openDataset(dir, { split: 'test', imageSize: [2, 3], channels: 1 });
  assert.deepEqual(gray.sampleShape, [1, 2, 3]);
  assert.deepEqual([...sampleAt(gray, 4).pixels], new Array(6).fill(200));
});

test('an image folder with train/ and test/ uses the split', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lithe-split-'));
  for (const [split, n] of [['train', 3], ['test', 1]] as const) {
    mkdirSync(join(dir, split, 'only'), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, split, 'only', `${i}.png`), await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).png().toBuffer());
  }
  assert.equal((await openDataset(dir, { split: 'train', imageSize: 2 })).size, 3);
  assert.equal((await openDataset(dir, { split: 'test', imageSize: 2 })).size, 1);
});

test('unknown names and broken images give one-line errors', async () => {
  await assert.rejects(openDataset('no-such-dataset', { split: 'train' }), (e: unknown) => e instanceof LitheError && e.code === 'E_IO' && /'no-such-dataset' not found/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'lithe-bad-'));
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'a', 'x.png'), 'not a png');
  await assert.rejects(openDataset(dir, { split: 'train' }), (e: unknown) => e instanceof LitheError && e.code === 'E_BAD_INPUT' && e.message.startsWith(join(dir, 'a', 'x.png')) && !e.message.includes('\n'));
});

test("'fashion-mnist' falls back to the bundled subset without the Debian package", () => {
  const loc = fashionMnistLocation('train', join(tmpdir(), 'lithe-no-such-dir'));
  assert.equal(loc.dir, bundledFashionMnistDir());
  assert.match(loc.source, /^bundled subset/);
  assert.equal(fashionMnistLocation('test', null).dir, bundledFashionMnistDir());
});
