/**
 * fp16 against ORT on real images. float16 has an 11-bit significand (relative rounding error
 * ≤ 2^-11 ≈ 4.9e-4 per value, ≈ 66 dB for one rounding); with rounding at every layer of the
 * teacher we require ≥ 40 dB and identical top-1 on every image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArchitecture } from '../models/index.js';
import { halfToFloat32 } from '../graph/tensor.js';
import { loadModel, serializeModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import { convertFloat16, float32ToHalf } from './fp16.js';
import { fashionBatches, randomizeBatchNorm, runAll, sqnrDb, top1Agreement } from './testing.js';

test('float32ToHalf rounds to nearest even, handles subnormals, saturates', () => {
  const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [1e6, 0x7bff], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0, 0], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Infinity, 0x7c00]];
  for (const [x, bits] of cases) assert.equal(float32ToHalf(x), bits, `half(${x})`);
  // round trip of random values: relative error ≤ 2^-11 in the normal range
  for (let i = 0; i < 1000; i++) {
    const x = Math.fround(Math.sin(i) * 10 ** ((i % 8) - 3));
    const back = halfToFloat32(new Uint8Array(new Uint16Array([float32ToHalf(x)]).buffer))[0]!;
    assert.ok(Math.abs(back - x) <= Math.abs(x) * 2 ** -11 + 2 ** -25, `x=${x} back=${back}`);
  }
});

test('teacher in fp16: float32 I/O with one Cast each, no Cast chains, half the size, outputs match', async (t) => {
  const float = buildArchitecture('teacher', { seed: 5 });
  randomizeBatchNorm(float);
  const { model } = convertFloat16(float);
  const casts = model.graph.nodes.filter((n) => n.opType === 'Cast');
  assert.equal(casts.length, 2, casts.map((c) => c.name).join(' '));
  assert.ok(casts.every((c) => c.input(0)!.producer()?.opType !== 'Cast'), 'no Cast of a Cast');
  assert.deepEqual(model.graph.inputs.map((v) => [v.name, v.dtype]), [['input', DataType.FLOAT]]);
  assert.deepEqual(model.graph.outputs.map((v) => [v.name, v.dtype]), [['logits', DataType.FLOAT]]);
  assert.ok([...model.graph.initializers.values()].every((v) => v.initializer!.dtype !== DataType.FLOAT));
  const ratio = serializeModel(model).length / serializeModel(float).length;
  assert.ok(ratio <= 0.51, `size ratio ${ratio.toFixed(4)}`);
  const feeds = await fashionBatches(20, 100, 9);
  const ref = await runAll(serializeModel(float), feeds);
  const got = await runAll(model, feeds);
  assert.ok(sqnrDb(ref, got) >= 40, `SQNR ${sqnrDb(ref, got).toFixed(1)} dB`);
  assert.equal(top1Agreement(ref, got, 10), 1);

  // what ORT's CPU provider does with it: which ops got float16 kernels, how many Casts it added
  const dir = mkdtempSync(join(tmpdir(), 'lithe-fp16-'));
  try {
    await (await createSession(model, { optimizedModelFilePath: join(dir, 'o.onnx'), threads: 1, allowSpinning: false })).release();
    const opt = loadModel(join(dir, 'o.onnx')).graph.nodes;
    const ortCasts = opt.filter((n) => n.opType === 'Cast').length;
    t.diagnostic(`ORT CPU optimized graph: ${opt.map((n) => n.opType).join(' ')}`);
    // onnxruntime-node 1.30 has float16 CPU kernels for Conv, MaxPool and Gemm: it adds no Casts
    assert.ok(ortCasts <= 2, `ORT inserted Casts: ${opt.map((n) => n.opType).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('excluded nodes stay float32 behind single shared Casts; mobilenetv2 (Clip, Add) converts', async () => {
  const float = buildArchitecture('mobilenetv2', { seed: 5, inputSize: 28, inChannels: 1, numClasses: 10, widthMultiplier: 0.5 });
  const { model, report } = convertFloat16(float, { excludeOps: ['Gemm'] });
  const gemm = model.graph.nodes.find((n) => n.opType === 'Gemm')!;
  assert.equal(gemm.input(1)!.dtype, DataType.FLOAT);
  assert.equal(gemm.input(0)!.producer()!.opType, 'Cast');
  assert.equal(report.nodes.find((n) => n.opType === 'Gemm')!.reason, 'op type Gemm excluded by --exclude-ops');
  // Gemm output is float32 already: the graph output needs no Cast; input Cast + one before Gemm
  assert.equal(model.graph.nodes.filter((n) => n.opType === 'Cast').length, 2);
  const feeds = await fashionBatches(2, 20, 9);
  const ref = await runAll(serializeModel(float), feeds);
  const got = await runAll(model, feeds);
  assert.ok(sqnrDb(ref, got) >= 40, `SQNR ${sqnrDb(ref, got).toFixed(1)} dB`);
});
