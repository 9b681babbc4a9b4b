/**
 * Shared fixtures for the CLI tests (fixtures.test.ts tests the fixture itself).
 *
 * The nearest-centroid classifier: with μ_k the mean training image of class k, the class nearest
 * to x in Euclidean distance maximises  x·μ_k − ‖μ_k‖²/2  (‖x‖² is the same for every k), which is
 * one Gemm:  logits = Flatten(x) · Wᵀ + b,  W[k] = μ_k,  b[k] = −‖μ_k‖²/2.
 * It is a real classifier (far above chance on Fashion-MNIST) built without training, so the CLI
 * tests can check predictions against the true labels and against a plain-JS reference.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../graph/builder.js';
import type { Model } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { saveModel } from '../onnx/io.js';
import { openDataset, sampleAt, type Dataset } from '../data/dataset.js';
import { captureIO, main } from './main.js';
import { parse, type Command } from './command.js';

/** Runs the CLI in-process; stdout joined, stderr as lines. */
export async function lithe(...argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const io = captureIO();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr };
}

/** Runs one command in-process on its parsed argv, as main() would but letting errors throw; the captured output. */
export async function runCommand(cmd: Command, argv: string[]): Promise<ReturnType<typeof captureIO>> {
  const io = captureIO();
  await cmd.run(parse(cmd, argv), io);
  return io;
}

/** Runs `lithe ... --json`, which must succeed and print nothing on stderr, and parses its output. */
export async function litheJson<T>(...argv: string[]): Promise<T> {
  const r = await lithe(...argv, '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.deepEqual(r.err, [], 'quiet with --json');
  return JSON.parse(r.out) as T;
}

export interface ErrorCase {
  argv: string[];
  code: number;
  message: RegExp;
}

/** Each case fails with its exit code and a one-line `lithe: …` message, no stack, no stdout. */
export async function assertErrors(cases: readonly ErrorCase[]): Promise<void> {
  for (const c of cases) {
    const r = await lithe(...c.argv);
    const what = c.argv.join(' ');
    assert.equal(r.code, c.code, `${what}: ${r.err.join('\n')}`);
    assert.equal(r.out, '', what);
    assert.match(r.err[0]!, /^lithe: /, what);
    assert.match(r.err[0]!, c.message, what);
    assert.ok(!r.err[0]!.includes('\n') && r.err.length <= 2, `${what}: one line (plus the usage hint)`);
    assert.ok(!r.err.join('\n').includes('    at '), `${what}: no stack trace`);
  }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lithe-cli-'));
}

export interface Centroids {
  /** 10 × 784 class means, pixels scaled to [0,1]. */
  w: Float64Array;
  b: Float64Array;
}

export function classCentroids(ds: Dataset): Centroids {
  const k = ds.classes.length;
  const d = 784;
  const w = new Float64Array(k * d);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < ds.size; i++) {
    const { pixels, label } = sampleAt(ds, i);
    counts[label]!++;
    for (let j = 0; j < d; j++) w[label * d + j]! += pixels[j]! / 255;
  }
  const b = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += (w[c * d + j]! /= counts[c]!) ** 2;
    b[c] = -sq / 2;
  }
  return { w, b };
}

export function centroidModel(c: Centroids): Model {
  const g = new GraphBuilder();
  const x = g.Flatten(g.input('input', DataType.FLOAT, ['N', 1, 28, 28]), { name: 'flatten' });
  const w = g.initializer('centroids', Float32Array.from(c.w), [10, 784]);
  const b = g.initializer('bias', Float32Array.from(c.b), [10]);
  g.output(g.Gemm(x, w, b, { transB: 1, name: 'nearest' }), 'logits');
  return g.model();
}

/** Plain-JS scores of the centroid classifier for one 28×28 uint8 image. */
export function centroidScores(c: Centroids, pixels: Uint8Array): Float64Array {
  const s = Float64Array.from(c.b);
  for (let k = 0; k < 10; k++) for (let j = 0; j < 784; j++) s[k]! += (c.w[k * 784 + j]! * pixels[j]!) / 255;
  return s;
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

let cached: Promise<{ centroids: Centroids; file: string; test: Dataset }> | undefined;
/** The centroid model (from the bundled train split) saved to a temp file, and the bundled test split. */
export function centroidFixture(): Promise<{ centroids: Centroids; file: string; test: Dataset }> {
  cached ??= (async () => {
    const centroids = classCentroids(await openDataset('fashion-mnist-mini', { split: 'train' }));
    const file = join(tempDir(), 'centroid.onnx');
    saveModel(centroidModel(centroids), file);
    return { centroids, file, test: await openDataset('fashion-mnist-mini', { split: 'test' }) };
  })();
  return cached;
}

/** A little-endian float32 .npy file (format 1.0). */
export function writeNpy(file: string, dims: number[], data: Float32Array): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  writeFileSync(file, Buffer.concat([head, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]));
}
