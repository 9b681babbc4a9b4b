/**
 * Folds an inference-mode BatchNormalization into the Conv that feeds it.
 *
 *   BN(y) = γ·(y − μ)/√(σ² + ε) + β,   y = W∗x + b
 *   with k = γ/√(σ² + ε) per output channel c:
 *     W'[c] = W[c]·k[c]               (axis 0 of W is the output channel, also for grouped Conv)
 *     b'[c] = (b[c] − μ[c])·k[c] + β[c]   (b = 0 when the Conv has no bias)
 *
 * The arithmetic is done in float64 and rounded once to float32. Pattern → check → rewrite:
 * `checkFoldBatchNorm` returns the reason a BatchNormalization is left alone, or null.
 * New weights get fresh initializers (the old ones may be shared); dead-code elimination removes
 * whatever is no longer used. The BN's output value keeps its name when it is a graph output.
 */
import type { Graph, Model, Node, Value } from '../graph/ir.js';
import type { Pass, PassResult } from '../graph/pass.js';
import { Tensor } from '../graph/tensor.js';
import { DataType } from '../onnx/proto.js';
import { eliminateDeadCode } from './eliminate-dead-code.js';

const quote = (n: Node) => `'${n.name || n.output(0).name}'`;

function constFloat(v: Value | null): Float32Array | undefined {
  const t = v?.initializer;
  return t && t.dtype === DataType.FLOAT ? (t.toArray() as Float32Array) : undefined;
}

/** Why `bn` cannot be folded into its producer, or null when it can. */
export function checkFoldBatchNorm(bn: Node): string | null {
  const name = `BatchNormalization ${quote(bn)}`;
  if (bn.opType !== 'BatchNormalization' || bn.domain !== '') return `${bn.describe()} is not a BatchNormalization`;
  if (bn.getInt('training_mode', 0) !== 0) return `${name} is in training mode`;
  if (bn.outputs.slice(1).some((v) => v.isUsed())) return `${name} has its running statistics outputs in use`;
  const x = bn.input(0);
  const conv = x?.producer();
  if (!x || !conv || conv.opType !== 'Conv' || conv.domain !== '') return `${name} input is not produced by a Conv`;
  if (x.uses().length !== 1) return `${name} input is used by ${x.uses().length} nodes`;
  if (conv.graph?.outputs.includes(x)) return `${name} input is a graph output`;
  for (let i = 1; i <= 4; i++) if (!constFloat(bn.input(i))) return `${name} input ${i} is not a constant float32 tensor`;
  const w = conv.input(1);
  if (!constFloat(w)) return `Conv ${quote(conv)} has no constant float32 weight`;
  if (conv.input(2) && !constFloat(conv.input(2))) return `Conv ${quote(conv)} has a bias that is not a constant float32 tensor`;
  const channels = w!.initializer!.dims[0]!;
  for (let i = 1; i <= 4; i++) {
    const n = bn.input(i)!.initializer!.size;
    if (n !== channels) return `${name} has ${n} values in input ${i}, Conv ${quote(conv)} has ${channels} output channels`;
  }
  return null;
}

/** Rewrites one BN whose check passed; returns the folded Conv. */
function fold(graph: Graph, bn: Node): Node {
  const conv = bn.input(0)!.producer()!;
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constFloat(bn.input(i))!) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const eps = bn.getFloat('epsilon', 1e-5);
  const wT = conv.input(1)!.initializer!;
  const w = wT.toArray() as Float32Array;
  const bias = constFloat(conv.input(2));
  const channels = wT.dims[0]!;
  const per = w.length / channels;
  const w2 = new Float32Array(w.length);
  const b2 = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const k = gamma[c]! / Math.sqrt(variance[c]! + eps);
    for (let j = c * per; j < (c + 1) * per; j++) w2[j] = w[j]! * k;
    b2[c] = ((bias?.[c] ?? 0) - mean[c]!) * k + beta[c]!;
  }
  const base = conv.name || conv.output(0).name;
  const wv = graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...wT.dims], w2), graph.uniqueName(`${base}.weight_bn`));
  const bv = graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [channels], b2), graph.uniqueName(`${base}.bias_bn`));
  conv.setInput(1, wv);
  if (conv.inputs.length > 2) conv.setInput(2, bv);
  else conv.appendInput(bv);

  graph.replaceValue(bn.output(0), conv.output(0));
  graph.remove(bn, { safe: false }); // its running-stat outputs (training mode) may be unused leftovers
  return conv;
}

export const foldBatchNorm: Pass = {
  name: 'foldBatchNorm',
  run(model: Model): PassResult {
    const graph = model.graph;
    const notes: string[] = [];
    let folded = 0;
    for (const node of [...graph.nodes]) {
      if (node.opType !== 'BatchNormalization' || node.domain !== '') continue;
      const reason = checkFoldBatchNorm(node);
      if (reason) notes.push(reason);
      else (fold(graph, node), folded++);
    }
    if (folded) {
      eliminateDeadCode.run(model);
      notes.unshift(`folded ${folded} BatchNormalization node${folded === 1 ? '' : 's'} into Conv`);
    }
    return { model, modified: folded > 0, notes };
  },
};
