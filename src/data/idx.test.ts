import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LitheError } from '../errors.js';
import { encodeIdx, parseIdx, readIdx } from './idx.js';

/** A hand-written IDX file: ubyte, dims [2, 3], values 1..6. */
const HAND = new Uint8Array([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof LitheError && e.code === code && pattern.test(e.message) && !e.message.includes('\n'));
}

test('hand-written ubyte file parses, plain and gzip', async () => {
  for (const bytes of [HAND, gzipSync(HAND)]) {
    const a = await parseIdx(bytes, 'hand.idx');
    assert.equal(a.dtype, 'u8');
    assert.deepEqual(a.dims, [2, 3]);
    assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]);
  }
});

test('big-endian multi-byte types decode to host values', async () => {
  // int16 [2]: 0x0102 = 258, 0xFFFE = -2 ; float32 [1]: 0x3FC00000 = 1.5
  const i16 = await parseIdx(new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]), 'a');
  assert.deepEqual([...i16.data], [258, -2]);
  const f32 = await parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]), 'b');
  assert.deepEqual([...f32.data], [1.5]);
});

test('encodeIdx round trips every dtype', async () => {
  const cases = [
    ['u8', [0, 7, 255]],
    ['i8', [-128, 0, 127]],
    ['i16', [-32768, 1, 32767]],
    ['i32', [-(2 ** 31), 5, 2 ** 31 - 1]],
    ['f32', [-1.5, 0, 3.25]],
    ['f64', [Math.PI, -1e300, 0.1]],
  ] as const;
  for (const [dtype, values] of cases) {
    const a = await parseIdx(gzipSync(encodeIdx(dtype, [3, 1], values)), dtype);
    assert.equal(a.dtype, dtype);
    assert.deepEqual(a.dims, [3, 1]);
    assert.deepEqual([...a.data], [...values]);
  }
  assert.deepEqual(encodeIdx('u8', [2, 3], [1, 2, 3, 4, 5, 6]), HAND);
});

test('truncated, oversized and corrupt files get one-line errors naming the file', async () => {
  await rejectsWith(parseIdx(HAND.subarray(0, HAND.length - 1), 'short.idx'), 'E_BAD_INPUT', /^short\.idx: truncated: dims \[2, 3\] need 6 bytes.*has 5/);
  await rejectsWith(parseIdx(HAND.subarray(0, 6), 'hdr.idx'), 'E_BAD_INPUT', /^hdr\.idx: truncated IDX header/);
  await rejectsWith(parseIdx(new Uint8Array([...HAND, 9]), 'long.idx'), 'E_BAD_INPUT', /^long\.idx: 1 bytes after the data/);
  await rejectsWith(parseIdx(new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), 'type.idx'), 'E_BAD_INPUT', /unknown IDX element type 0x07/);
  await rejectsWith(parseIdx(new Uint8Array([1, 2, 3, 4, 5]), 'x.idx'), 'E_BAD_INPUT', /not an IDX file/);
  const gz = gzipSync(HAND);
  await rejectsWith(parseIdx(gz.subarray(0, gz.length - 6), 'cut.gz'), 'E_BAD_INPUT', /^cut\.gz: (corrupt or truncated gzip|truncated)/);
  // A header claiming 2^30 floats (4 GiB) is refused before any allocation.
  await rejectsWith(parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0x40, 0, 0, 0]), 'huge.idx'), 'E_BAD_INPUT', /more than lithe accepts/);
});

test('a gzip bomb is cut off at the declared size', async () => {
  // Header says 4 bytes, the stream inflates to 64 MB of zeros.
  const big = new Uint8Array(8 + (64 << 20));
  big.set([0, 0, 0x08, 1, 0, 0, 0, 4]);
  await rejectsWith(parseIdx(gzipSync(big), 'bomb.gz'), 'E_BAD_INPUT', /more data than the IDX header declares/);
});

test('readIdx reports missing files as E_IO', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lithe-idx-'));
  writeFileSync(join(dir, 'ok.idx'), HAND);
  assert.deepEqual((await readIdx(join(dir, 'ok.idx'))).dims, [2, 3]);
  await rejectsWith(readIdx(join(dir, 'missing.idx')), 'E_IO', /missing\.idx: cannot read \(ENOENT\)/);
});
