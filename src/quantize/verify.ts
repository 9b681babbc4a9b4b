/**
 * How far a quantized model is from its float original, measured in onnxruntime:
 *
 *   SQNR = 10·log10( Σ ref² / Σ (ref − got)² )  dB         top-1 agreement = argmax equal
 *
 * `kernelSqnrDb` compares the quantized model as ORT optimizes it (int8 kernels) with the same
 * model unoptimized (DequantizeLinear → float op → QuantizeLinear, ONNX's exact semantics). On
 * VNNI and ARM CPUs the two agree to accumulation order; a low value means the u8s8 kernels
 * saturate (x86 without VNNI) and --reduce-range would help.
 */
import type { Model } from '../graph/ir.js';
import { serializeModel } from '../onnx/io.js';
import { createSession, type SessionOptions } from '../runtime/session.js';
import type { Feeds } from './collect.js';

export interface VerifyResult {
  sqnrDb: number;
  top1Agreement: number;
  kernelSqnrDb: number;
}

export function sqnrDb(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! ** 2;
    e += (ref[i]! - got[i]!) ** 2;
  }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}

/** Fraction of rows (of `classes` scores) whose argmax agrees. */
export function top1Agreement(a: ArrayLike<number>, b: ArrayLike<number>, classes: number): number {
  const argmax = (x: ArrayLike<number>, r: number) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (x[r * classes + j]! > x[r * classes + best]!) best = j;
    return best;
  };
  const rows = a.length / classes;
  let same = 0;
  for (let r = 0; r < rows; r++) if (argmax(a, r) === argmax(b, r)) same++;
  return same / rows;
}

async function firstOutput(model: Model | Uint8Array, feeds: Feeds, opts: SessionOptions = {}): Promise<{ data: Float32Array; classes: number }> {
  const session = await createSession(model, { label: 'verification', ...opts });
  try {
    const out = (await session.run(feeds, [session.outputNames[0]!]))[session.outputNames[0]!]!;
    return { data: out.data as Float32Array, classes: out.dims[out.dims.length - 1] ?? 1 };
  } finally {
    await session.release();
  }
}

export async function verifyQuantized(float: Model, quantized: Model, feeds: Feeds): Promise<VerifyResult> {
  const ref = await firstOutput(serializeModel(float), feeds);
  const bytes = serializeModel(quantized);
  const fused = await firstOutput(bytes, feeds);
  const exact = await firstOutput(bytes, feeds, { graphOptimizationLevel: 'disabled' });
  return { sqnrDb: sqnrDb(ref.data, fused.data), top1Agreement: top1Agreement(ref.data, fused.data, ref.classes), kernelSqnrDb: sqnrDb(exact.data, fused.data) };
}
