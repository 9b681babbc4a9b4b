/**
 * Masks inside the graph, so that fine-tuning keeps pruned weights at exactly zero:
 *
 *   maskParameters:  W  →  W̃ = Mul(W, M_W)     M_W a constant 0/1 initializer `<W>.prune_mask`
 *   foldMasks:       W̃  →  W ← W ⊙ M_W         (Mul and mask removed: a plain dense model again)
 *
 * Every former use of W reads W̃. Done on the forward model before autodiff (buildTrainingGraph),
 * the chain rule gives ∂L/∂W = M_W ⊙ ∂L/∂W̃: exactly 0 where M_W = 0, whatever the optimizer.
 * With W zero there and its gradient zero, SGD (with L2 decay λ·W = 0), Adam's moments (m = v = 0,
 * update 0/(√0 + ε) = 0) and AdamW's decoupled decay W·(1 − lr·λ) all leave W at exactly 0; and
 * the effective weight W ⊙ M_W is 0 even if it were not. The masks must not be trained:
 * `isMaskName` excludes them (TrainerOptions.trainable).
 */
import { LitheError } from '../errors.js';
import { Node, Value, type Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { DataType } from '../onnx/proto.js';
import type { Masks } from './unstructured.js';

export const MASK_SUFFIX = '.prune_mask';
const MUL_PREFIX = 'prune.mask/';

export const isMaskName = (name: string): boolean => name.endsWith(MASK_SUFFIX);

/** Rewrites each masked weight W of `model` (in place) into Mul(W, mask). Returns the mask names. */
export function maskParameters(model: Model, masks: Masks): string[] {
  const graph = model.graph;
  const names: string[] = [];
  const first = graph.nodes[0] ?? null;
  for (const [name, mask] of masks) {
    const w = graph.initializers.get(name);
    if (!w?.initializer) throw new LitheError('E_USAGE', `mask for "${name}", which is not an initializer`);
    if (mask.length !== w.initializer.size) throw new LitheError('E_USAGE', `mask for "${name}" has ${mask.length} values, the weight ${w.initializer.size}`);
    const maskName = graph.uniqueName(name + MASK_SUFFIX);
    const m = graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...w.initializer.dims], Float32Array.from(mask)), maskName);
    const uses = [...w.uses()];
    const out = new Value(graph.uniqueName(`${name}.masked`));
    out.setTensorType(DataType.FLOAT, w.initializer.dims);
    const mul = new Node({ opType: 'Mul', name: MUL_PREFIX + name, inputs: [w, m], outputs: [out] });
    if (first) graph.insertBefore(first, mul);
    else graph.append(mul);
    for (const u of uses) u.node.setInput(u.index, out);
    names.push(maskName);
  }
  return names;
}

/** Folds every Mul(W, W.prune_mask) back into W (in place). Returns how many were folded. */
export function foldMasks(model: Model): number {
  const graph = model.graph;
  let folded = 0;
  for (const node of [...graph.nodes]) {
    if (node.opType !== 'Mul' || !node.name.startsWith(MUL_PREFIX)) continue;
    const w = node.input(0);
    const m = node.input(1);
    if (!w?.initializer || !m?.initializer || !isMaskName(m.name)) continue;
    const data = Float32Array.from(w.initializer.toArray() as Float32Array);
    const mask = m.initializer.toArray() as Float32Array;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * mask[i]!;
    graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...w.initializer.dims], data), w.name);
    const out = node.output(0);
    out.replaceAllUsesWith(w);
    const oi = graph.outputs.indexOf(out);
    if (oi >= 0) graph.outputs[oi] = w;
    graph.remove(node, { safe: true });
    if (!m.isUsed()) graph.removeInitializer(m.name);
    folded++;
  }
  return folded;
}

/** Reads the masks back from a model rewritten by maskParameters (weight name → 0/1). */
export function masksInGraph(model: Model): Masks {
  const masks: Masks = new Map();
  for (const node of model.graph.nodes) {
    if (node.opType !== 'Mul' || !node.name.startsWith(MUL_PREFIX)) continue;
    const w = node.input(0);
    const m = node.input(1);
    if (w && m?.initializer) masks.set(w.name, Uint8Array.from(m.initializer.toArray() as Float32Array, (x) => (x ? 1 : 0)));
  }
  return masks;
}
