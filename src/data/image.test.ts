import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { LitheError } from '../errors.js';
import { decodeImage, readImageTensor } from './image.js';

/** A PNG from raw HWC bytes. */
function png(width: number, height: number, channels: 1 | 3 | 4, pixels: number[]): Promise<Buffer> {
  return sharp(Buffer.from(pixels), { raw: { width, height, channels } }).png().toBuffer();
}

const f = (xs: number[]) => xs.map(Math.fround);

test('2×2 RGB PNG: exact NCHW and NHWC values, /255, mean/std', async () => {
  // (R,G,B) per pixel, row-major: red, green / blue, (51,102,153)
  const file = await png(2, 2, 3, [255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 153]);
  const nchw = await readImageTensor(file);
  assert.deepEqual(nchw.dims, [1, 3, 2, 2]);
  assert.deepEqual([...nchw.data], f([255, 0, 0, 51, 0, 255, 0, 102, 0, 0, 255, 153].map((v) => v / 255)));
  const nhwc = await readImageTensor(file, { layout: 'nhwc' });
  assert.deepEqual(nhwc.dims, [1, 2, 2, 3]);
  assert.deepEqual([...nhwc.data], f([255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 153].map((v) => v / 255)));
  // ImageNet normalisation of the last pixel (0.2, 0.4, 0.6), NCHW index 3, 7, 11.
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const norm = await readImageTensor(file, { mean, std });
  const last = [3, 7, 11].map((i) => norm.data[i]!);
  assert.deepEqual(last, f([0, 1, 2].map((c) => ((51 * (c + 1)) / 255 - mean[c]!) / std[c]!)));
});

test("fit 'cover' scales the shorter side and keeps the centre", async () => {
  // 8 wide × 4 high: columns 0-1 red, 2-5 green, 6-7 blue. Cover to 4×4 keeps exactly the green.
  const px: number[] = [];
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) px.push(...(x < 2 ? [255, 0, 0] : x < 6 ? [0, 255, 0] : [0, 0, 255]));
  const img = await png(8, 4, 3, px);
  const t = await readImageTensor(img, { size: 4, scale: 1 });
  assert.deepEqual(t.dims, [1, 3, 4, 4]);
  assert.deepEqual([...t.data], [...new Array(16).fill(0), ...new Array(16).fill(255), ...new Array(16).fill(0)]);
  // fill keeps everything: the red and blue edges survive the squeeze. A linear (triangle) filter
  // widened by the 2× shrink blends a little of the neighbouring green in, so check dominance.
  const filled = await decodeImage(img, { size: 4, fit: 'fill' });
  const [r0, g0, b0] = filled.data.subarray(0, 3);
  assert.ok(r0! > 200 && g0! < 64 && b0 === 0, `top-left is red, got ${r0},${g0},${b0}`);
  const [r3, g3, b3] = filled.data.subarray(9, 12);
  assert.ok(b3! > 200 && g3! < 64 && r3 === 0, `top-right is blue, got ${r3},${g3},${b3}`);
  // nearest keeps the exact colours
  const nearest = await decodeImage(img, { size: 4, fit: 'fill', kernel: 'nearest' });
  assert.deepEqual([...nearest.data.subarray(0, 3)], [255, 0, 0]);
  assert.deepEqual([...nearest.data.subarray(9, 12)], [0, 0, 255]);
});

test('shorterSide then centre crop (Resize(s) + CenterCrop(n))', async () => {
  // 6×4 grayscale with value 10·x + y: shorter side is already 4, so the 2×2 crop is x 2-3, y 1-2.
  const px: number[] = [];
  for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) px.push(10 * x + y);
  const t = await readImageTensor(await png(6, 4, 1, px), { size: 2, shorterSide: 4, channels: 1, scale: 1 });
  assert.deepEqual(t.dims, [1, 1, 2, 2]);
  assert.deepEqual([...t.data], [21, 31, 22, 32]);
});

test('grayscale, alpha, and a solid image resized to any size keeps its value', async () => {
  const grayRgb = await png(3, 5, 3, new Array(15).fill([90, 90, 90]).flat());
  const g = await readImageTensor(grayRgb, { size: [7, 2], channels: 1, scale: 1 });
  assert.deepEqual(g.dims, [1, 1, 7, 2]);
  assert.deepEqual([...g.data], new Array(14).fill(90));
  // Half-transparent RGBA: alpha is dropped before resampling, so the colour is unchanged.
  const rgba = await png(4, 4, 4, new Array(16).fill([10, 20, 30, 128]).flat());
  const c = await decodeImage(rgba, { size: 3 });
  assert.deepEqual([...c.data], new Array(9).fill([10, 20, 30]).flat());
  // A 1-channel PNG asked for as RGB is replicated to three channels.
  const one = await decodeImage(await png(2, 1, 1, [7, 200]), { channels: 3 });
  assert.deepEqual([...one.data], [7, 7, 7, 200, 200, 200]);
});

test('missing and corrupt images: one-line errors with codes', async () => {
  await assert.rejects(readImageTensor('/no/such/image.png'), (e: unknown) => e instanceof LitheError && e.code === 'E_IO' && e.message.startsWith('/no/such/image.png:'));
  await assert.rejects(readImageTensor(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), {}, 'bad.png'), (e: unknown) => e instanceof LitheError && e.code === 'E_BAD_INPUT' && /^bad\.png: cannot decode image/.test(e.message) && !e.message.includes('\n'));
  await assert.rejects(readImageTensor(await png(1, 1, 3, [0, 0, 0]), { mean: [1, 2] }), /mean has 2 values for an image with 3 channels/);
});
