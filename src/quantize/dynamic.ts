/**
 * Dynamic-range quantization: int8 weights, activations quantized at run time.
 *
 * MatMul / Gemm (constant 2-D weight; Gemm with transA=0, alpha=beta=1):
 *   (x_q, s_x, z_x) = DynamicQuantizeLinear(x)          uint8, range of this very batch
 *   y = Cast(MatMulInteger(x_q, W_q, z_x, z_w), float) · (s_x · s_w)   (+ bias for Gemm)
 *   W_q int8 [K, N] (Gemm transB=1 weights are stored transposed), symmetric per output column
 *   (s_w[N], z_w = 0) or per tensor. ORT fuses the chain into MatMulIntegerToFloat and then
 *   DynamicQuantizeMatMul (one u8s8 GEMM with the scales applied in its epilogue).
 *
 * Conv stays float by default. ORT's ConvInteger has no u8s8 kernel (ORT #3130, #12558, #15888)
 * and no optimized u8u8 one (ORT #12854). Measured with onnxruntime-node 1.30 on this project's
 * machine (AMD EPYC, AVX2, no VNNI), teacher at batch 64, 1 thread, p50:
 *   fp32 Conv 82-86 ms · DynamicQuantizeLinear+ConvInteger (u8u8) 114-139 ms ·
 *   int8 weights + DequantizeLinear → float Conv ("weight-only") 151-154 ms
 * (a Conv whose weight is not a constant initializer loses ORT's NCHWc layout and weight
 * prepacking). Neither form is fast here, so dynamic mode leaves Conv float; `conv: 'weight-only'`
 * trades that speed for int8 Conv weights in the file. For int8 Conv compute use static mode
 * (QLinearConv).
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model, Node, Value } from '../graph/ir.js';
import { PassManager } from '../graph/pass.js';
import { DataType } from '../onnx/proto.js';
import { eliminateDeadCode } from '../passes/eliminate-dead-code.js';
import { foldBatchNorm } from '../passes/fold-batchnorm.js';
import { quantRange } from './params.js';
import { addQuantizedWeight } from './qdq.js';
import { checkQuantizable, cloneModel, type NodeReport, type QuantizeReport } from './static.js';

export interface DynamicOptions {
  perChannel?: boolean;
  reduceRange?: boolean;
  exclude?: readonly string[];
  excludeOps?: readonly string[];
  /** Conv: left float (default; fastest on ORT CPU) or int8 weights with float compute ('weight-only'). */
  conv?: 'weight-only' | 'float';
}

/** Why a node is not dynamically quantized, or null. */
function check(n: Node, opts: DynamicOptions): string | null {
  if (opts.exclude?.includes(n.name)) return 'excluded by --exclude';
  if (opts.excludeOps?.includes(n.opType)) return `op type ${n.opType} excluded by --exclude-ops`;
  const w = n.input(1)?.initializer;
  if (!w || w.dtype !== DataType.FLOAT) return `${n.opType} has no constant float32 weight`;
  if (n.opType === 'Conv') return opts.conv === 'weight-only' ? null : 'Conv stays float: no fast dynamic int8 Conv in ORT CPU (use --mode static)';
  if (w.dims.length !== 2) return `${n.opType} weight is not 2-D`;
  if (n.opType === 'Gemm') {
    if (n.getInt('transA', 0) !== 0 || n.getFloat('alpha', 1) !== 1 || n.getFloat('beta', 1) !== 1) return 'Gemm with transA, alpha or beta not at defaults';
    const b = n.input(2);
    if (b && (!b.initializer || b.initializer.dtype !== DataType.FLOAT)) return 'Gemm bias is not a constant float32 tensor';
  }
  return null;
}

/** W as [K, N] float: Gemm transB=1 weights [N, K] are transposed. */
function weightKN(n: Node): { data: Float32Array; dims: [number, number] } {
  const t = n.input(1)!.initializer!;
  const w = t.toArray() as Float32Array;
  const [r, c] = t.dims as [number, number];
  if (n.opType !== 'Gemm' || n.getInt('transB', 0) === 0) return { data: w, dims: [r, c] };
  const out = new Float32Array(w.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = w[i * c + j]!;
  return { data: out, dims: [c, r] };
}

export function quantizeDynamic(input: Model, opts: DynamicOptions = {}): { model: Model; report: QuantizeReport } {
  checkQuantizable(input, opts.exclude);
  const model = cloneModel(input);
  const prep = new PassManager([foldBatchNorm]).run(model);
  const graph = model.graph;
  const g = GraphBuilder.edit(model);
  const range = quantRange('int8', { symmetric: true, reduceRange: opts.reduceRange });
  const nodes: NodeReport[] = [];
  for (const n of [...graph.nodes]) {
    if (!['MatMul', 'Gemm', 'Conv'].includes(n.opType) || n.domain !== '') {
      nodes.push({ name: n.name, opType: n.opType, quantized: false, reason: `${n.opType} stays float` });
      continue;
    }
    const why = check(n, opts);
    if (why) {
      nodes.push({ name: n.name, opType: n.opType, quantized: false, reason: why });
      continue;
    }
    g.insertBefore(n);
    const w = n.input(1)!;
    if (n.opType === 'Conv') {
      const t = w.initializer!;
      const axis = opts.perChannel === false ? undefined : 0;
      const { wq, ws, wz } = addQuantizedWeight(graph, w.name, t.toArray() as Float32Array, t.dims, axis, 'int8', range);
      n.setInput(1, g.op('DequantizeLinear', [wq, ws, wz], { axis }, { name: `${n.name}.weight_DequantizeLinear` }));
      nodes.push({ name: n.name, opType: n.opType, quantized: true, reason: 'int8 weights, float compute (weight-only; ORT has no fast ConvInteger)' });
      continue;
    }
    const { data, dims } = weightKN(n);
    const { wq, ws, wz } = addQuantizedWeight(graph, w.name, data, dims, opts.perChannel === false ? undefined : 1, 'int8', range);
    const [xq, xs, xz] = g.op('DynamicQuantizeLinear', [n.input(0)], {}, { name: `${n.name}_DynamicQuantizeLinear`, outputs: 3 }) as [Value, Value, Value];
    const yi = g.op('MatMulInteger', [xq, wq, xz, wz], {}, { name: `${n.name}_MatMulInteger` });
    const scale = g.op('Mul', [xs, ws], {}, { name: `${n.name}_scale_Mul` });
    let y = g.op('Mul', [g.op('Cast', [yi], { to: DataType.FLOAT }, { name: `${n.name}_Cast` }), scale], {}, { name: `${n.name}_output_Mul` });
    const b = n.input(2);
    if (b) y = g.op('Add', [y, b], {}, { name: `${n.name}_bias_Add` });
    graph.replaceValue(n.output(0), y);
    graph.remove(n, { safe: false });
    nodes.push({ name: n.name, opType: n.opType, quantized: true, reason: 'int8 weights, uint8 activations quantized at run time' });
  }
  eliminateDeadCode.run(model);
  return { model, report: { mode: 'dynamic', nodes, notes: prep.notes ?? [] } };
}
