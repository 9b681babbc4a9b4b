/**
 * Every format `lithe quantize` writes runs in onnxruntime-web (WASM) as well as in
 * onnxruntime-node, with the same predictions: the bundled (trained) teacher quantized to static
 * int8 QDQ, dynamic int8, fp16 and fp16 with float16 I/O, fed 100 real test images in both
 * runtimes. The two runtimes use different int8 kernels, so outputs are compared by SQNR (≥ 30 dB)
 * and top-1 agreement (≥ 98%), not bit for bit; fp16 models must agree to fp16 rounding (≥ 50 dB).
 * The static model is checked with 7-bit weights as well as 8-bit: on x86 without VNNI, native
 * u8s8 kernels saturate (27.8 dB against WASM on the 8-bit teacher, measured), which is the
 * deviation --reduce-range removes; against the exact QDQ arithmetic (ORT with graph optimizations
 * off) both runtimes must then stay within that same bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packageRoot } from '../data/dataset.js';
import type { Model } from '../graph/ir.js';
import { loadModel } from '../onnx/io.js';
import { quantizeDynamic } from './dynamic.js';
import { convertFloat16, float32ToHalf } from './fp16.js';
import { quantizeStatic } from './static.js';
import { fashionBatches, runAll, sqnrDb, top1Agreement } from './testing.js';
import { DataType } from '../onnx/proto.js';
import { halfToFloat32 } from '../graph/tensor.js';
import type { HostTensor } from '../runtime/tensors.js';

const teacher = loadModel(join(packageRoot(), 'data', 'teacher', 'teacher.onnx'));
const images = await fashionBatches(10, 50, 4);
const calib = await fashionBatches(5, 50, 2);

const toHalf = (x: HostTensor): HostTensor => ({ dtype: DataType.FLOAT16, dims: x.dims, data: Uint16Array.from(x.data as Float32Array, float32ToHalf) });
/** runAll copies a float16 output's bit patterns into a Float32Array: decode them. */
const fromHalfBits = (y: Float32Array) => halfToFloat32(new Uint8Array(Uint16Array.from(y).buffer));

async function sameInBothRuntimes(name: string, model: Model, feeds: HostTensor[], minSqnrDb: number): Promise<void> {
  const half = feeds[0]!.dtype === DataType.FLOAT16;
  const decode = (y: Float32Array) => (half ? fromHalfBits(y) : y);
  const native = decode(await runAll(model, feeds));
  const wasm = decode(await runAll(model, feeds, { backend: 'wasm' }));
  const [sqnr, agree] = [sqnrDb(native, wasm), top1Agreement(native, wasm, 10)];
  assert.ok(sqnr >= minSqnrDb, `${name}: onnxruntime-web vs -node SQNR ${sqnr.toFixed(1)} dB < ${minSqnrDb}`);
  assert.ok(agree >= 0.98, `${name}: top-1 agreement ${agree}`);
}

test('static int8 (QDQ) teacher: onnxruntime-web runs it like onnxruntime-node', async () => {
  const source = () => calib.map((x) => ({ input: x }));
  const reduced = (await quantizeStatic(teacher, source, { reduceRange: true })).model;
  await sameInBothRuntimes('static --reduce-range', reduced, images, 30);
  const full = (await quantizeStatic(teacher, source)).model;
  const exact = await runAll(full, images, { graphOptimizationLevel: 'disabled' });
  const wasm = await runAll(full, images, { backend: 'wasm' });
  assert.ok(sqnrDb(exact, wasm) >= 30, `8-bit static: WASM vs exact QDQ ${sqnrDb(exact, wasm).toFixed(1)} dB`);
  assert.ok(top1Agreement(exact, wasm, 10) >= 0.98);
});

test('dynamic int8 teacher (MatMulInteger): onnxruntime-web runs it like onnxruntime-node', async () => {
  await sameInBothRuntimes('dynamic', quantizeDynamic(teacher).model, images, 30);
});

test('fp16 teacher, float32 and float16 I/O: onnxruntime-web agrees with onnxruntime-node to fp16 rounding', async () => {
  await sameInBothRuntimes('fp16', convertFloat16(teacher).model, images, 50);
  const half = convertFloat16(teacher, { keepIoTypes: false }).model;
  await sameInBothRuntimes('fp16 I/O', half, images.map(toHalf), 50);
});
