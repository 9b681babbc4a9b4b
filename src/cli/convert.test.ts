/**
 * `lithe convert`: to external data and back with identical ORT outputs, the input (model and
 * data file) never modified, outputs written atomically (no temporaries left on failure), and
 * refusals with the documented exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES } from '../errors.js';
import { buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { decodeModel } from '../onnx/decode.js';
import { outputDifference } from '../onnx/testing.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { lithe, tempDir } from './testing.js';

const snapshot = (...files: string[]) => files.map((f) => ({ f, bytes: readFileSync(f), mtime: statSync(f).mtimeMs }));
function assertUnchanged(before: ReturnType<typeof snapshot>): void {
  for (const { f, bytes, mtime } of before) {
    assert.deepEqual(readFileSync(f), bytes, `${f} unchanged`);
    assert.equal(statSync(f).mtimeMs, mtime, `${f} not rewritten`);
  }
}
const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

async function outputs(path: string): Promise<Record<string, HostTensor>> {
  const s = await createSession(path);
  const shape = loadModel(path).graph.inputs[0]!.shape!.map((d) => (typeof d === 'number' ? d : 2));
  const n = shape.reduce((a, b) => a * b, 1);
  const x = { dtype: DataType.FLOAT, dims: shape, data: Float32Array.from({ length: n }, (_, i) => (i % 17) / 17) };
  try {
    return await s.run({ [s.inputNames[0]!]: x });
  } finally {
    await s.release();
  }
}

test('convert to external data and back: identical outputs, input untouched', async () => {
  const dir = tempDir();
  const src = join(dir, 'student.onnx');
  saveModel(buildArchitecture('student'), src);
  const before = snapshot(src);

  const ext = join(dir, 'ext.onnx');
  let r = await lithe('convert', src, '-o', ext, '--external-data', 'ext.data', '--size-threshold', '512');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out, `wrote ${ext} (+ external data ${join(dir, 'ext.data')})`);
  assert.ok(decodeModel(readFileSync(ext)).graph!.initializer.some((t) => t.dataLocation === 1));
  assertUnchanged(before);

  const back = join(dir, 'back.onnx');
  const extBefore = snapshot(ext, join(dir, 'ext.data'));
  r = await lithe('convert', ext, '-o', back, '--internal');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.ok(decodeModel(readFileSync(back)).graph!.initializer.every((t) => t.dataLocation === undefined));
  assertUnchanged(extBefore);
  assert.deepEqual(readFileSync(back), readFileSync(src), 'back to internal gives the bytes lithe wrote first');

  const want = await outputs(src);
  for (const f of [ext, back]) assert.equal(outputDifference(want, await outputs(f)), undefined, f);
  assert.deepEqual(temporaries(dir), []);
});

test('failed writes leave no temporaries and no partial output', async () => {
  const dir = tempDir();
  const src = join(dir, 'm.onnx');
  saveModel(buildArchitecture('student'), src);
  const before = snapshot(src);
  mkdirSync(join(dir, 'taken'));

  // OUT is a folder; the external data file name is a folder; OUT's folder does not exist.
  for (const argv of [['-o', join(dir, 'taken')], ['-o', join(dir, 'x.onnx'), '--external-data', 'taken'], ['-o', join(dir, 'missing', 'x.onnx')]]) {
    const r = await lithe('convert', src, ...argv);
    assert.equal(r.code, EXIT_CODES.E_IO, `${argv.join(' ')}: ${r.err.join(' | ')}`);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0]!, /^lithe: .*: cannot write \((is a folder|no such file)\)$/);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['m.onnx', 'taken']);

  // An unwritable folder (root ignores permissions, so this part needs a normal user).
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  if (process.getuid?.() !== 0) {
    const r = await lithe('convert', src, '-o', join(locked, 'x.onnx'), '--external-data', 'x.data');
    assert.equal(r.code, EXIT_CODES.E_IO, r.err.join(' | '));
    assert.match(r.err[0]!, /cannot write \(permission denied\)/);
    assert.deepEqual(readdirSync(locked), []);
  }
  chmodSync(locked, 0o700);
  assertUnchanged(before);
});

test('the input model and its data file are never outputs', async () => {
  const dir = tempDir();
  const src = join(dir, 'in.onnx');
  saveModel(buildArchitecture('student'), src, { externalData: { location: 'in.data', sizeThreshold: 256 } });
  const before = snapshot(src, join(dir, 'in.data'));
  for (const argv of [['-o', src], ['-o', join(dir, 'other.onnx'), '--external-data', 'in.data'], ['-o', join(dir, '.', 'in.onnx'), '--internal']]) {
    const r = await lithe('convert', src, ...argv);
    assert.equal(r.code, EXIT_CODES.E_USAGE, argv.join(' '));
    assert.match(r.err[0]!, /is one of the input's files; lithe never modifies its input/);
  }
  assertUnchanged(before);
});

test('usage errors name the flag', async () => {
  const dir = tempDir();
  const src = join(dir, 'm.onnx');
  saveModel(buildArchitecture('student'), src);
  const cases: [string[], RegExp][] = [
    [[src], /missing -o OUT/],
    [[src, '-o', join(dir, 'o.onnx'), '--external-data', 'a.data', '--internal'], /exclude each other/],
    [[src, '-o', join(dir, 'o.onnx'), '--size-threshold', '10'], /--size-threshold needs --external-data/],
    [[src, '-o', join(dir, 'o.onnx'), '--external-data', 'sub/a.data'], /must be a file name in OUT's folder/],
    [[src, '-o', join(dir, 'o.onnx'), '--external-data', 'a.data', '--size-threshold', 'big'], /--size-threshold must be an integer/],
  ];
  for (const [argv, message] of cases) {
    const r = await lithe('convert', ...argv);
    assert.equal(r.code, EXIT_CODES.E_USAGE, argv.join(' '));
    assert.match(r.err[0]!, message);
  }
  assert.deepEqual(readdirSync(dir), ['m.onnx']);
});
