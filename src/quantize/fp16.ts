/**
 * float32 → float16 conversion of a whole model.
 *
 *   float16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; normal range 2^-14 … 65504,
 *   subnormals down to 2^-24. Conversion rounds to nearest, ties to even; magnitudes beyond
 *   65504 saturate to ±65504 (a weight that large would be a model bug; inf would poison it).
 *
 * Every float tensor (initializers, Constant/ConstantOfShape values, node outputs, Cast targets)
 * becomes float16, except around nodes that must stay float32:
 *   - ops that cannot take float16 (ML-domain ops, and the ones in FLOAT32_OPS: their spec or
 *     ORT lacks float16 there), nodes named in `exclude`, op types in `excludeOps`;
 *   - inputs the spec types as float only (Resize's scales).
 * Boundaries get exactly one Cast per (value, target type), shared by all readers; a Cast is
 * never applied to the output of another Cast (the reader connects to the original value when it
 * already has the wanted type), so no Cast chains appear. With keepIoTypes (default) graph inputs
 * and outputs stay float32 with one Cast each.
 *
 * ORT's CPU provider inserts Casts itself (InsertCastTransformer) around ops it has no float16
 * kernel for. Measured with onnxruntime-node 1.30 on x86: the teacher's optimized graph is
 * Conv, MaxPool, Flatten, FusedGemm (Gemm+Relu), Gemm in float16 and no Cast beyond lithe's two
 * (fp16.test.ts records it), so those ops run in float16 here; ops outside that set get ORT's
 * Casts and run float32, which is correct but not faster.
 */
import { GraphBuilder } from '../graph/builder.js';
import { AttributeType, DataType } from '../onnx/proto.js';
import type { Model, Node, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { checkQuantizable, cloneModel, type NodeReport, type QuantizeReport } from './static.js';

/** Ops kept float32 (no float16 in their type constraints, or none in ORT CPU worth the casts). */
export const FLOAT32_OPS = new Set(['NonMaxSuppression', 'RoiAlign', 'TopK', 'Range', 'CumSum', 'Upsample', 'RandomUniform', 'RandomNormal', 'RandomUniformLike', 'RandomNormalLike', 'Multinomial']);
/** Inputs the spec types as float only: op → input indices. */
const FLOAT32_INPUTS: Record<string, number[]> = { Resize: [2] };

export interface Fp16Options {
  keepIoTypes?: boolean;
  exclude?: readonly string[];
  excludeOps?: readonly string[];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half bits, round to nearest even, saturating at ±65504. */
export function float32ToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | (man ? 0x7e00 : 0x7c00); // NaN stays NaN, inf stays inf
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7bff; // saturate to 65504
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = man | 0x800000; // implicit 1
    const shift = 14 - e; // 24-bit mantissa → subnormal 10-bit field
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  let h = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent, which is right
  if (h >= 0x7c00) h = 0x7bff;
  return sign | h;
}

function toHalfTensor(t: Tensor): Tensor {
  const src = t.toArray() as Float32Array;
  const bits = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = float32ToHalf(src[i]!);
  return Tensor.fromArray(DataType.FLOAT16, [...t.dims], bits, t.name);
}

export function convertFloat16(input: Model, opts: Fp16Options = {}): { model: Model; report: QuantizeReport } {
  checkQuantizable(input, opts.exclude);
  const model = cloneModel(input);
  const graph = model.graph;
  const g = GraphBuilder.edit(model);
  const keepIo = opts.keepIoTypes ?? true;
  const reasonFloat32 = (n: Node): string | null =>
    opts.exclude?.includes(n.name) ? 'excluded by --exclude'
    : opts.excludeOps?.includes(n.opType) ? `op type ${n.opType} excluded by --exclude-ops`
    : n.domain !== '' && n.domain !== 'ai.onnx' ? `${n.domain} ops stay float32`
    : FLOAT32_OPS.has(n.opType) ? `${n.opType} stays float32 (no float16 kernel)`
    : null;
  const nodes: NodeReport[] = graph.nodes.map((n) => {
    const why = reasonFloat32(n);
    return { name: n.name, opType: n.opType, quantized: !why, reason: why ?? 'float16' };
  });
  const half = new Set(graph.nodes.filter((_, i) => nodes[i]!.quantized));

  // 1. constants: float initializers read by float16 nodes become float16 (float32 readers get a Cast below)
  for (const v of graph.initializers.values()) {
    if (v.initializer!.dtype !== DataType.FLOAT || graph.inputs.includes(v)) continue;
    if (v.uses().some((u) => half.has(u.node) && !FLOAT32_INPUTS[u.node.opType]?.includes(u.index))) v.initializer = toHalfTensor(v.initializer!);
  }
  // 2. node outputs and attributes of float16 nodes
  for (const n of half) {
    for (const v of n.outputs) if (v.dtype === DataType.FLOAT) v.setTensorType(DataType.FLOAT16, v.shape);
    if (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT) n.setAttr('to', DataType.FLOAT16);
    if (n.opType === 'ConstantOfShape' && !n.attr('value')) n.setAttr('value', Tensor.fromArray(DataType.FLOAT, [1], [0]));
    for (const a of n.attributes.values()) if (a.type === AttributeType.TENSOR && a.t?.dtype === DataType.FLOAT) a.t = toHalfTensor(a.t);
    // these ops' output type comes from an attribute, not from their (possibly integer) inputs
    const declared = n.opType === 'Cast' ? n.getInt('to') : n.opType === 'Constant' || n.opType === 'ConstantOfShape' ? n.getTensor('value')?.dtype : undefined;
    if (declared !== undefined) n.output(0).setTensorType(declared, n.output(0).shape);
  }
  // graph inputs stay float32 when keepIoTypes; otherwise they become float16 too
  if (!keepIo) for (const v of graph.inputs) if (v.dtype === DataType.FLOAT && !v.initializer) v.setTensorType(DataType.FLOAT16, v.shape);

  // 3. one Cast per (value, target) where a reader wants the other float type
  const casts = new Map<string, Value>();
  const castTo = (v: Value, to: DataType): Value => {
    const p = v.producer();
    if (p?.opType === 'Cast' && p.input(0)?.dtype === to) return p.input(0)!; // no Cast chains
    const key = `${v.name}->${to}`;
    let c = casts.get(key);
    if (!c) {
      g.insertBefore(null); // placed by the topological sort at the end
      c = g.op('Cast', [v], { to }, { name: `${v.name}_to_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}` });
      casts.set(key, c);
    }
    return c;
  };
  for (const n of [...graph.nodes]) {
    n.inputs.forEach((v, i) => {
      if (!v || (v.dtype !== DataType.FLOAT && v.dtype !== DataType.FLOAT16)) return;
      const want = half.has(n) && !FLOAT32_INPUTS[n.opType]?.includes(i) ? DataType.FLOAT16 : DataType.FLOAT;
      if (v.dtype !== want) n.setInput(i, castTo(v, want));
    });
  }
  // 4. graph outputs back to float32 under their own names
  if (keepIo) {
    graph.outputs.forEach((v, i) => {
      if (v.dtype !== DataType.FLOAT16) return;
      const name = v.name;
      v.name = graph.uniqueName(`${name}_fp16`);
      const c = castTo(v, DataType.FLOAT);
      c.name = name;
      graph.outputs[i] = c;
    });
  }
  graph.sortTopologically();
  return { model, report: { mode: 'fp16', nodes, notes: [] } };
}
