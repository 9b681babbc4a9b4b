import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LitheError } from '../errors.js';
import { buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { Tensor } from '../graph/tensor.js';
import { parse, type CommandIO } from './command.js';
import { quantizeCommand } from './quantize.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-cli-q-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const teacher = join(dir, 'teacher.onnx');
saveModel(buildArchitecture('teacher', { seed: 5 }), teacher);

async function run(argv: string[]): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false };
  await quantizeCommand.run(parse(quantizeCommand, argv), io);
  return { out, err };
}

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
