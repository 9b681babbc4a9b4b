/** lithe quantize --mode qat: one real fine-tuning run on the bundled Fashion-MNIST subset, and the usage errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { runCommand } from './testing.js';
import { quantizeCommand } from './quantize.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-cli-qat-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'ref-cnn.onnx');
saveModel(buildArchitecture('ref-cnn', { seed: 3 }), model);

const run = (argv: string[]) => runCommand(quantizeCommand, argv).then((io) => ({ out: io.stdout, err: io.stderr }));

test('qat --json: calibrates, fine-tunes one epoch, writes an int8 QDQ model and reports training and scales', async () => {
  const out = join(dir, 'ref-cnn.qat.onnx');
  const r = await run([model, '-o', out, '--mode', 'qat', '--calib', 'fashion-mnist-mini', '--calib-size', '128', '--data', 'fashion-mnist-mini', '--epochs', '1', '--lr', '3e-4', '--json']);
  const s = JSON.parse(r.out.join('\n'));
  assert.equal(s.mode, 'qat');
  assert.deepEqual(s.calibration, { method: 'minmax', tensors: 4, batches: 2, samples: 128 });
  assert.equal(s.quantized, 10);
  assert.equal(s.qat.training.length, 1);
  const epoch = s.qat.training[0];
  // an untrained net learns in one epoch on 6,000 real images, through the fake quantizers (50% measured; chance is 10%)
  assert.ok(epoch.trainAccuracy > 0.3 && Number.isFinite(epoch.loss), JSON.stringify(epoch));
  // conv1 reads input_norm's output (the normalised pixels), the first quantized activation
  assert.deepEqual(s.qat.scales.map((x: { tensor: string }) => x.tensor), ['input_norm', 'relu1', 'relu2', 'relu3']);
  assert.ok(s.qat.scales.some((x: { initial: number; final: number }) => x.initial !== x.final));
  assert.ok(s.output.bytes / s.input.bytes <= 0.27, `size ratio ${s.output.bytes / s.input.bytes}`);
  // vs float: meaningless here (the float net is untrained); int8 kernels vs exact QDQ: 19-20 dB measured on this barely trained net
  assert.ok(Number.isFinite(s.check.sqnrDb) && s.check.kernelSqnrDb > 15, JSON.stringify(s.check));
  const q = loadModel(out);
  const weights = [...q.graph.initializers.values()].filter((v) => v.name.endsWith('weight_quantized'));
  assert.deepEqual(weights.map((v) => v.initializer!.dtype), [DataType.INT8, DataType.INT8, DataType.INT8, DataType.INT8]);
  assert.ok(!q.graph.nodes.some((n) => n.opType === 'Exp'), 'no training-time nodes in the file');
});

test('qat usage errors: no --calib, bad --epochs, bad --lr; nothing written', async () => {
  const out = join(dir, 'never.onnx');
  await assert.rejects(run([model, '-o', out, '--mode', 'qat', '--data', 'fashion-mnist-mini']), /--mode qat needs --calib DATASET/);
  await assert.rejects(run([model, '-o', out, '--mode', 'qat', '--calib', 'fashion-mnist-mini', '--epochs=-1']), /--epochs must be an integer ≥ 0, got '-1'/);
  await assert.rejects(run([model, '-o', out, '--mode', 'qat', '--calib', 'fashion-mnist-mini', '--calib-size', '64', '--lr', '0']), /--lr must be a positive number, got 0/);
  assert.ok(!existsSync(out));
});
