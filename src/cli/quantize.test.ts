import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LitheError } from '../errors.js';
import { buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { Tensor } from '../graph/tensor.js';
import { runCommand } from './testing.js';
import { quantizeCommand } from './quantize.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-cli-q-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const teacher = join(dir, 'teacher.onnx');
saveModel(buildArchitecture('teacher', { seed: 5 }), teacher);

const run = (argv: string[]) => runCommand(quantizeCommand, argv).then((io) => ({ out: io.stdout, err: io.stderr }));

test('static --json: writes an int8 model and a summary with sizes, node reasons and the kernel check', async () => {
  const out = join(dir, 't.int8.onnx');
  const r = await run([teacher, '-o', out, '--mode', 'static', '--calib', 'fashion-mnist-mini', '--calib-size', '128', '--json']);
  const s = JSON.parse(r.out.join('\n'));
  assert.equal(s.mode, 'static');
  assert.equal(s.quantized + s.float, s.nodes.length);
  assert.deepEqual(s.calibration, { method: 'minmax', tensors: 8, batches: 2, samples: 128 });
  assert.ok(s.output.bytes / s.input.bytes <= 0.27 && s.output.gzipBytes < s.input.gzipBytes);
  assert.ok(s.check.sqnrDb > 15 && s.check.top1Agreement > 0.9);
  assert.ok(loadModel(out).graph.nodes.some((n) => n.opType === 'QuantizeLinear'));
});

test('text summary for dynamic and fp16', async () => {
  const d = await run([teacher, '-o', join(dir, 't.dyn.onnx'), '--mode', 'dynamic']);
  assert.match(d.out.join('\n'), /nodes: 2 quantized/);
  assert.match(d.out.join('\n'), /Conv stays float: no fast dynamic int8 Conv/);
  const f = await run([teacher, '-o', join(dir, 't.fp16.onnx'), '--mode', 'fp16']);
  assert.match(f.out.join('\n'), /ratio\s+0\.50/);
});

test('bad input is a one-line error and nothing is written', async () => {
  const out = join(dir, 'never.onnx');
  const cases: [string[], RegExp][] = [
    [['--mode', 'static', '--calib', 'fashion-mnist-mini', '--exclude', 'features.0,bogus'], /--exclude: no node named 'bogus'/],
    [['--mode', 'static'], /--mode static needs --calib DATASET/],
    [['--mode', 'int4'], /--mode must be one of static, dynamic, fp16/],
    [['--mode', 'static', '--calib', join(dir, 'missing')], /dataset .* not found/],
  ];
  for (const [flags, msg] of cases) {
    await assert.rejects(run([teacher, '-o', out, ...flags]), (e: Error) => e instanceof LitheError && msg.test(e.message) && !e.message.includes('\n'));
    assert.ok(!existsSync(out));
  }
  const rgb = join(dir, 'mnv2.onnx');
  saveModel(buildArchitecture('mobilenetv2', { inputSize: 32, widthMultiplier: 0.25 }), rgb);
  await assert.rejects(run([rgb, '-o', out, '--mode', 'static', '--calib', 'fashion-mnist-mini', '--calib-size', '8']), /--calib fashion-mnist-mini: calibration data has shape \[8,1,28,28\], model input 'input' expects \[N,3,32,32\]/);
  const int8 = buildArchitecture('student', { seed: 1 });
  for (const v of int8.graph.initializers.values()) v.initializer = Tensor.fromArray(DataType.INT8, [...v.initializer!.dims], new Int8Array(v.initializer!.size), v.name);
  const int8File = join(dir, 'int8.onnx');
  saveModel(int8, int8File);
  await assert.rejects(run([int8File, '-o', out, '--mode', 'dynamic']), /no float32 weights/);
  assert.ok(!existsSync(out));
});

/** An IDX folder whose splits hold no images. */
function emptyIdx(): string {
  const d = join(dir, 'empty');
  mkdirSync(d, { recursive: true });
  const header = (magic: number, dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((x, i) => b.writeUInt32BE(x, 4 + 4 * i));
    return b;
  };
  for (const split of ['train', 't10k']) {
    writeFileSync(join(d, `${split}-images-idx3-ubyte`), header(0x803, [0, 28, 28]));
    writeFileSync(join(d, `${split}-labels-idx1-ubyte`), header(0x801, [0]));
  }
  return d;
}

test('--report writes the sensitivity table; --eval with --max-drop reports float and int8 top-1 and the steps', async () => {
  const out = join(dir, 't.mixed.onnx');
  const report = join(dir, 'report.json');
  const r = await run([teacher, '-o', out, '--mode', 'static', '--calib', 'fashion-mnist-mini', '--calib-size', '64', '--eval', 'fashion-mnist-mini', '--max-drop', '100', '--report', report]);
  const s = JSON.parse(readFileSync(report, 'utf8'));
  const rep = s;
  assert.equal(s.mixedPrecision.met, true);
  assert.deepEqual(s.mixedPrecision.excluded, []);
  assert.equal(s.mixedPrecision.steps.length, 1);
  assert.equal(s.evaluation.samples, 2000);
  assert.ok(Math.abs(s.evaluation.dropPp - (s.evaluation.floatTop1 - s.evaluation.top1) * 100) < 1e-9);
  assert.equal(s.evaluation.top1, s.mixedPrecision.steps[0].top1);
  // 6 Conv, 3 MaxPool, Flatten, 2 Gemm; most sensitive first
  const rows = rep.sensitivity.rows as { node: string; sqnrDb: number; mse: number }[];
  assert.equal(rows.length, 12);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.sqnrDb <= rows[i]!.sqnrDb);
  assert.ok(rows.every((x) => Number.isFinite(x.sqnrDb) && x.mse > 0));
  assert.equal(rep.sensitivity.samples, 64);
  const text = r.out.join('\n');
  assert.match(text, /top-1 on fashion-mnist-mini test \(2000 samples\): float \d+\.\d\d%, quantized \d+\.\d\d% \(drop -?\d+\.\d\d pp\)/);
  assert.match(text, /--max-drop 100: met; 0 node\(s\) returned to float/);
  assert.match(text, /sensitivity \(one node int8 at a time.*\n.*SQNR dB/);
});

test('fp16 --no-keep-io-types makes the graph inputs and outputs float16', async () => {
  const out = join(dir, 't.fp16io.onnx');
  await run([teacher, '-o', out, '--mode', 'fp16', '--no-keep-io-types']);
  const m = loadModel(out);
  assert.equal(m.graph.inputs[0]!.dtype, DataType.FLOAT16);
  assert.equal(m.graph.outputs[0]!.dtype, DataType.FLOAT16);
  assert.ok(!m.graph.nodes.some((n) => n.opType === 'Cast'));
});

test('more bad input: wrong calibration dtype, empty datasets, --max-drop misuse; one line, nothing written', async () => {
  const out = join(dir, 'never2.onnx');
  const fp16io = join(dir, 't.fp16io2.onnx');
  await run([teacher, '-o', fp16io, '--mode', 'fp16', '--no-keep-io-types']);
  const empty = emptyIdx();
  const cases: [string, string[], RegExp][] = [
    [fp16io, ['--mode', 'static', '--calib', 'fashion-mnist-mini'], /^--calib fashion-mnist-mini: images are float32, model input 'input' is not$/],
    [teacher, ['--mode', 'static', '--calib', empty], /^--calib .*empty: the train split is empty; nothing to calibrate on$/],
    [teacher, ['--mode', 'static', '--calib', 'fashion-mnist-mini', '--eval', empty, '--max-drop', '1'], /^--eval .*empty: the test split is empty; nothing to evaluate on$/],
    [teacher, ['--mode', 'static', '--calib', 'fashion-mnist-mini', '--max-drop', '1'], /--max-drop needs --eval DATASET/],
    [teacher, ['--mode', 'dynamic', '--eval', 'fashion-mnist-mini', '--max-drop', '1'], /--max-drop works with --mode static/],
    [teacher, ['--mode', 'static', '--calib', 'fashion-mnist-mini', '--eval', 'fashion-mnist-mini', '--max-drop=-1'], /--max-drop must be ≥ 0/],
    [teacher, ['--mode', 'fp16', '--keep-io-types', '--no-keep-io-types'], /exclude each other/],
  ];
  for (const [model, flags, msg] of cases) {
    await assert.rejects(run([model, '-o', out, ...flags]), (e: Error) => e instanceof LitheError && msg.test(e.message) && !e.message.includes('\n'));
    assert.ok(!existsSync(out));
  }
});
