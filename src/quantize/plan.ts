/**
 * The static-quantization plan: which nodes run in int8, which tensors get a
 * QuantizeLinear→DequantizeLinear pair, and whose range each of those tensors uses. Pure on the
 * IR; qdq.ts carries it out once calibration has measured the ranges of `plan.calibrate`.
 *
 * Op families (the QDQ node groups ORT fuses into int8 kernels):
 *   weighted     Conv, Gemm, MatMul       input, weight (int8 per channel), bias (int32) and output
 *   elementwise  Add, Mul                 every input and the output, each with its own range
 *   concat       Concat                   inputs and output (QLinearConcat rescales)
 *   pool         AveragePool, GlobalAveragePool   input and output, own ranges
 *   passthrough  MaxPool, Flatten, Reshape, Transpose   output shares the input's (s, z): these
 *                ops only move or select values, so ORT drops their Q/DQ and runs them on bytes
 *   activation   Relu, Clip right after a weighted/elementwise node: absorbed. No Q/DQ between
 *                the two; the activation's output is calibrated instead, and with an asymmetric
 *                range starting at 0 the Q's zero point is the integer minimum, so its saturation
 *                *is* the ReLU and ORT removes the node. With symmetric activations that does not
 *                hold, so the activation keeps Q/DQ on both sides.
 * Everything else (Softmax, …) stays float and reads dequantized values.
 *
 * The output of Gemm/MatMul is left float when nothing int8 reads it (ORT then runs QGemm with a
 * float output or MatMulIntegerToFloat), so logits are not rounded to 8 bits.
 */
import type { Model, Node, Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';

export interface PlanOptions {
  /** Node names to keep float. */
  exclude?: readonly string[];
  /** Op types to keep float. */
  excludeOps?: readonly string[];
  symmetricActivations?: boolean;
}

export type Family = 'weighted' | 'elementwise' | 'concat' | 'pool' | 'passthrough' | 'activation';

const FAMILY: Record<string, Family> = {
  Conv: 'weighted', Gemm: 'weighted', MatMul: 'weighted',
  Add: 'elementwise', Mul: 'elementwise',
  Concat: 'concat',
  AveragePool: 'pool', GlobalAveragePool: 'pool',
  MaxPool: 'passthrough', Flatten: 'passthrough', Reshape: 'passthrough', Transpose: 'passthrough',
  Relu: 'activation', Clip: 'activation',
};
export const QUANTIZABLE_OPS = Object.keys(FAMILY);

export interface NodeDecision {
  node: Node;
  quantized: boolean;
  family?: Family;
  /** Why a node stays float, or how it is quantized. */
  reason: string;
}

export interface Plan {
  decisions: NodeDecision[];
  /** Activation tensors that get Q/DQ, each mapped to the tensor whose range it uses. */
  qdq: Map<Value, Value>;
  /** Tensors whose ranges calibration must measure (the roots of `qdq`). */
  calibrate: Value[];
  /** Constant inputs of elementwise/concat nodes, quantized with their own min/max. */
  constants: Set<Value>;
}

const isConstFloat = (v: Value | null): boolean => !!v?.initializer && v.initializer.dtype === DataType.FLOAT;
const isFloat = (v: Value | null): boolean => !!v && (v.dtype === undefined || v.dtype === DataType.FLOAT);
const nodeName = (n: Node) => n.name || n.output(0).name;

/** Why a weighted node cannot be quantized, or null. */
function checkWeighted(n: Node): string | null {
  const w = n.input(1);
  if (n.opType === 'MatMul') {
    if (!isConstFloat(w)) return isFloat(w) ? null : 'MatMul B is not float';
    return w!.initializer!.dims.length === 2 ? null : `MatMul weight has rank ${w!.initializer!.dims.length}, only 2-D weights are quantized`;
  }
  if (!isConstFloat(w)) return `${n.opType} has no constant float32 weight`;
  const b = n.input(2);
  if (b && !isConstFloat(b)) return `${n.opType} bias is not a constant float32 tensor`;
  if (n.opType === 'Gemm') {
    if (n.getInt('transA', 0) !== 0) return 'Gemm with transA=1';
    if (n.getFloat('alpha', 1) !== 1 || (b && n.getFloat('beta', 1) !== 1)) return 'Gemm with alpha or beta ≠ 1';
    if (w!.initializer!.dims.length !== 2) return 'Gemm weight is not 2-D';
    if (b && b.initializer!.dims.length !== 1) return 'Gemm bias is not 1-D';
  }
  return null;
}

/** The single consumer of v when it is a Relu/Clip, else undefined. */
function soleActivation(v: Value, graphOutputs: readonly Value[]): Node | undefined {
  const uses = v.uses();
  if (uses.length !== 1 || graphOutputs.includes(v)) return undefined;
  const m = uses[0]!.node;
  return FAMILY[m.opType] === 'activation' && m.domain === '' && uses[0]!.index === 0 ? m : undefined;
}

export function planStatic(model: Model, opts: PlanOptions = {}): Plan {
  const graph = model.graph;
  const exclude = new Set(opts.exclude ?? []);
  const excludeOps = new Set(opts.excludeOps ?? []);
  const decisions = new Map<Node, NodeDecision>();
  const decide = (node: Node, quantized: boolean, reason: string, family?: Family) => decisions.set(node, { node, quantized, reason, family });

  // 1. per-node eligibility, ignoring neighbours
  for (const n of graph.nodes) {
    const family = n.domain === '' ? FAMILY[n.opType] : undefined;
    if (exclude.has(n.name)) decide(n, false, 'excluded by --exclude', family);
    else if (excludeOps.has(n.opType)) decide(n, false, `op type ${n.opType} excluded by --exclude-ops`, family);
    else if (!family) decide(n, false, `${n.opType} has no int8 path here (stays float)`);
    else if (!isFloat(n.input(0))) decide(n, false, 'input is not float32', family);
    else if (family === 'weighted') {
      const why = checkWeighted(n);
      decide(n, !why, why ?? 'int8', family);
    } else decide(n, true, 'int8', family);
  }
  const q = (n: Node | null | undefined) => !!n && decisions.get(n)?.quantized === true;

  // 2. activations: absorbed after a quantized weighted/elementwise node, else float
  const absorbed = new Set<Node>();
  for (const n of graph.nodes) {
    const d = decisions.get(n)!;
    if (d.family !== 'activation' || !d.quantized) continue;
    const p = n.input(0)!.producer();
    const pf = p && decisions.get(p)?.family;
    const ok = q(p) && (pf === 'weighted' || pf === 'elementwise') && soleActivation(n.input(0)!, graph.outputs) === n;
    if (!ok) decide(n, false, `${n.opType} not directly after a quantized Conv/Gemm/MatMul/Add/Mul (stays float)`, 'activation');
    else if (opts.symmetricActivations) decide(n, true, `int8 (not absorbed: symmetric activations keep Q/DQ around ${n.opType})`, 'activation');
    else (absorbed.add(n), decide(n, true, `absorbed into ${p!.opType} '${nodeName(p!)}' (range calibrated after ${n.opType})`, 'activation'));
  }

  // 3. tensors that get Q/DQ, and whose range each uses
  const qdq = new Map<Value, Value>();
  const constants = new Set<Value>();
  const mark = (v: Value) => {
    if (qdq.has(v)) return;
    if (v.initializer) constants.add(v);
    else qdq.set(v, v);
  };
  const activationInputs = (n: Node, fam: Family): Value[] => {
    if (fam === 'weighted') return n.opType === 'MatMul' && !isConstFloat(n.input(1)) ? [n.input(0)!, n.input(1)!] : [n.input(0)!];
    if (fam === 'elementwise' || fam === 'concat') return n.inputs.filter((v): v is Value => !!v);
    return [n.input(0)!];
  };
  for (const n of graph.nodes) {
    const d = decisions.get(n)!;
    if (!d.quantized) continue;
    const fam = d.family!;
    if (fam === 'activation' && absorbed.has(n)) {
      mark(n.output(0));
      continue;
    }
    for (const v of activationInputs(n, fam)) mark(v);
    if (fam === 'passthrough') continue; // output handled below, once its input's root is known
    const out = n.output(0);
    if (soleActivation(out, graph.outputs) && absorbed.has(soleActivation(out, graph.outputs)!)) continue;
    const floatOut = n.opType === 'Gemm' || n.opType === 'MatMul';
    if (floatOut && !out.uses().some((u) => q(u.node))) continue;
    mark(out);
  }
  // passthrough outputs share the root of their input (in topological order, so chains resolve)
  for (const n of graph.nodes) {
    const d = decisions.get(n)!;
    if (!d.quantized || d.family !== 'passthrough') continue;
    const root = qdq.get(n.input(0)!);
    if (!root) {
      decide(n, false, 'input is not quantized', 'passthrough');
      continue;
    }
    qdq.set(n.output(0), root);
  }
  const calibrate = [...new Set(qdq.values())];
  return { decisions: graph.nodes.map((n) => decisions.get(n)!), qdq, calibrate, constants };
}

/** Names in `exclude` that are not nodes of the model (an error for the CLI). */
export function unknownNodeNames(model: Model, names: readonly string[]): string[] {
  const known = new Set(model.graph.nodes.map((n) => n.name));
  return names.filter((n) => !known.has(n));
}
