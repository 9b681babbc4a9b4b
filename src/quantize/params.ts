/**
 * Linear quantization as ONNX QuantizeLinear / DequantizeLinear define it:
 *
 *   q = saturate(roundHalfEven(x / s) + z)        x̂ = (q − z)·s
 *
 * saturate clamps to the integer type's range, so |x − x̂| ≤ s/2 for every x inside the range
 * the parameters were chosen for.
 *
 * Choosing (s, z) for a real range [a, b] (always widened to contain 0, so that 0 is exact —
 * zero padding and ReLU's floor must survive quantization):
 *   asymmetric   s = (b − a)/(qmax − qmin),  z = clamp(roundHalfEven(qmin − a/s))
 *   symmetric    m = max(|a|, |b|),  s = 2m/(qmax − qmin),  z = (qmin + qmax + 1)/2
 *                (0 for int8 [−127, 127]; 128 for uint8)
 * A range of width 0 gets s = 1 (any s represents it; the spec forbids s = 0).
 *
 * Integer ranges:
 *   uint8 activations [0, 255];  int8 activations [−128, 127]
 *   int8 weights, symmetric: [−127, 127] — the restricted range that keeps −128 out, so that
 *     negating a weight never overflows and the grid is symmetric about 0
 *   reduce-range weights: int8 [−64, 64], uint8 [0, 127]. On x86 CPUs without VNNI, u8×s8 dot
 *     products go through vpmaddubsw, which sums two u8·s8 products into a saturating int16:
 *     255·127·2 = 64770 > 32767 overflows, 255·64·2 = 32640 does not (ORT #5849, #14642).
 */
import { DataType } from '../onnx/proto.js';

export type QuantType = 'uint8' | 'int8';

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

export interface QuantRange {
  qmin: number;
  qmax: number;
}

export function dataTypeOf(t: QuantType): DataType {
  return t === 'uint8' ? DataType.UINT8 : DataType.INT8;
}

/** Integer range for activations (full) or weights (symmetric-restricted / reduced). */
export function quantRange(type: QuantType, opts: { symmetric?: boolean; reduceRange?: boolean } = {}): QuantRange {
  if (type === 'uint8') return opts.reduceRange ? { qmin: 0, qmax: 127 } : { qmin: 0, qmax: 255 };
  if (opts.reduceRange) return { qmin: -64, qmax: 64 };
  return opts.symmetric ? { qmin: -127, qmax: 127 } : { qmin: -128, qmax: 127 };
}

/** Round half to even, as QuantizeLinear does (2.5 → 2, 3.5 → 4, −2.5 → −2). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; on an exact tie with an odd result, step back to the even neighbour.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** (s, z) for the real range [min, max]; see the file header. */
export function computeParams(min: number, max: number, range: QuantRange, symmetric: boolean): QuantParams {
  const a = Math.min(min, 0);
  const b = Math.max(max, 0);
  const { qmin, qmax } = range;
  if (symmetric) {
    const m = Math.max(-a, b);
    const scale = m > 0 ? (2 * m) / (qmax - qmin) : 1;
    return { scale: Math.fround(scale), zeroPoint: Math.floor((qmin + qmax + 1) / 2) };
  }
  if (b - a <= 0) return { scale: 1, zeroPoint: clamp(0, qmin, qmax) };
  const scale = Math.fround((b - a) / (qmax - qmin));
  return { scale, zeroPoint: clamp(roundHalfEven(qmin - a / scale), qmin, qmax) };
}

/** QuantizeLinear of one value, with the range of the integer type it is stored in. */
export function quantizeValue(x: number, p: QuantParams, range: QuantRange): number {
  return clamp(roundHalfEven(x / p.scale) + p.zeroPoint, range.qmin, range.qmax);
}

export function dequantizeValue(q: number, p: QuantParams): number {
  return (q - p.zeroPoint) * p.scale;
}

/**
 * Quantizes a weight tensor per channel along `axis` (or per tensor with axis undefined):
 * returns the integers and one (s, z) per channel.
 */
export function quantizeWeights(
  w: Float32Array,
  dims: readonly number[],
  axis: number | undefined,
  range: QuantRange,
  symmetric: boolean,
): { q: Int32Array; params: QuantParams[] } {
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? w.length : dims.slice(axis + 1).reduce((p, d) => p * d, 1);
  const channelOf = (i: number) => (axis === undefined ? 0 : Math.floor(i / inner) % channels);
  const lo = new Float64Array(channels).fill(Infinity);
  const hi = new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < w.length; i++) {
    const c = channelOf(i);
    if (w[i]! < lo[c]!) lo[c] = w[i]!;
    if (w[i]! > hi[c]!) hi[c] = w[i]!;
  }
  const params = Array.from({ length: channels }, (_, c) => computeParams(lo[c]!, hi[c]!, range, symmetric));
  const q = new Int32Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = quantizeValue(w[i]!, params[channelOf(i)]!, range);
  return { q, params };
}

const INT32_MAX = 2 ** 31 - 1;

/** Bias as int32 with scale s_x·s_w[c] and zero point 0 (what QLinearConv/QGemm expect). */
export function quantizeBias(b: Float32Array, inputScale: number, weightScales: readonly number[]): { q: Int32Array; scales: Float32Array } {
  const scales = Float32Array.from(b, (_, c) => inputScale * weightScales[weightScales.length === 1 ? 0 : c]!);
  const q = Int32Array.from(b, (x, c) => clamp(roundHalfEven(x / scales[c]!), -INT32_MAX, INT32_MAX));
  return { q, scales };
}
