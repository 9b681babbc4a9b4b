/**
 * Round trip over Debian's libonnx-testdata (~1070 models exported by onnx's own backend tests,
 * PyTorch and real networks): every model must load and save, decode(serialize(load(bytes)))
 * must equal decode(bytes) up to value_info order, and wherever onnxruntime can run the original
 * with its test_data_set_0 inputs, the saved model must give the same outputs bit for bit.
 *
 * Sessions dominate the cost, so optimizations are off (both sides see the same graph, so the
 * comparison is unaffected) and each session runs on one thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, type Session } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { decodeModel } from './decode.js';
import { loadModel, saveModel, serializeModel } from './io.js';
import { outputDifference, readTensorFile, sortValueInfo } from './testing.js';

const ROOT = '/usr/share/libonnx-testdata/data';

function corpus(): string[] {
  const dirs: string[] = [];
  for (const group of readdirSync(ROOT).sort())
    for (const name of readdirSync(join(ROOT, group)).sort())
      if (existsSync(join(ROOT, group, name, 'model.onnx'))) dirs.push(join(ROOT, group, name));
  return dirs;
}

/** test_data_set_0's inputs, named by the .pb's own name or else by position. */
function feeds(dir: string, session: Session): Record<string, HostTensor> {
  const set = join(dir, 'test_data_set_0');
  const files = readdirSync(set).filter((f) => /^input_\d+\.pb$/.test(f));
  files.sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)));
  const out: Record<string, HostTensor> = {};
  files.forEach((f, i) => {
    let input: ReturnType<typeof readTensorFile>;
    try {
      input = readTensorFile(join(set, f));
    } catch {
      // Sequence, map and optional inputs are stored as SequenceProto/MapProto/OptionalProto.
      throw new Error('test input is not a TensorProto (a sequence, map or optional value)');
    }
    const { name, tensor } = input;
    out[name && session.inputNames.includes(name) ? name : session.inputNames[i]!] = tensor;
  });
  return out;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
/** Groups ORT's refusals by their gist: the message without names, numbers and the model's label. */
const gist = (msg: string) =>
  msg
    .replace(/^.*?: onnxruntime (\(node\) )?/, '')
    .replace(/\[ONNXRuntimeError\] : \d+ : /, '')
    .replace(/\/onnxruntime_src\/\S+ (\S+::)*/, '')
    .replace(/'[^']*'|"[^"]*"|\b\d+\b/g, '…')
    .slice(0, 110);

test('libonnx-testdata: load → save → identical protos and identical ORT outputs', { timeout: 600_000 }, async (t) => {
  if (!existsSync(ROOT)) return t.skip(`${ROOT} absent (apt install libonnx-testdata)`);
  const started = performance.now();
  const dirs = corpus();
  const tmp = mkdtempSync(join(tmpdir(), 'lithe-corpus-'));
  const failures: string[] = [];
  const cannotRun = new Map<string, string[]>();
  let ran = 0;
  const opts = { graphOptimizationLevel: 'disabled', threads: 1, allowSpinning: false } as const;
  try {
    for (const [i, dir] of dirs.entries()) {
      const file = join(dir, 'model.onnx');
      const label = dir.slice(ROOT.length + 1);
      const bytes = readFileSync(file);
      const model = loadModel(file);
      const saved = serializeModel(model);
      // The file path too, for a sample: saveModel must write exactly what serializeModel gives.
      if (i % 50 === 0) {
        const out = join(tmp, 'm.onnx');
        saveModel(model, out);
        assert.deepEqual(readFileSync(out), Buffer.from(saved), `${label}: saveModel bytes`);
      }
      try {
        assert.deepStrictEqual(sortValueInfo(decodeModel(saved)), sortValueInfo(decodeModel(bytes)));
      } catch (e) {
        failures.push(`${label}: proto differs after round trip: ${firstLine(e)}`);
        continue;
      }
      let expected: Record<string, HostTensor>;
      let inputs: Record<string, HostTensor>;
      try {
        const original = await createSession(bytes, { ...opts, label });
        inputs = feeds(dir, original);
        expected = await original.run(inputs);
        await original.release();
      } catch (e) {
        const why = gist(firstLine(e));
        (cannotRun.get(why) ?? cannotRun.set(why, []).get(why)!).push(label);
        continue;
      }
      try {
        const copy = await createSession(saved, { ...opts, label: `${label} (saved)` });
        const got = await copy.run(inputs);
        await copy.release();
        const diff = outputDifference(expected, got);
        if (diff) failures.push(`${label}: outputs differ: ${diff}`);
        else ran++;
      } catch (e) {
        failures.push(`${label}: the saved model fails where the original runs: ${firstLine(e)}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const refused = [...cannotRun.values()].reduce((s, l) => s + l.length, 0);
  const report = [
    `libonnx-testdata: ${dirs.length} models loaded and saved, ${dirs.length - failures.length} round-tripped;`,
    `  ${ran} run by onnxruntime with identical outputs, ${refused} ORT could not run, ${failures.length} failures;`,
    `  ${((performance.now() - started) / 1000).toFixed(1)} s`,
    ...[...cannotRun].sort((a, b) => b[1].length - a[1].length).map(([why, l]) => `  ORT: ${l.length} × ${why} (e.g. ${l[0]})`),
    ...failures.map((f) => `  FAIL ${f}`),
  ];
  console.log(report.join('\n'));
  assert.deepEqual(failures, []);
});
