/**
 * Unstructured pruning: a 0/1 mask per prunable weight (weights.ts); pruned weights become exact
 * zeros in an otherwise unchanged dense model.
 *
 * Scores (a low score is pruned first):
 *   l1         |w|
 *   l2         w²: for single weights the same ranking as l1 (x ↦ x² is monotonic on |w|), so it
 *              prunes the same weights; it differs only for structures (channels, structured.ts)
 *   random     u ~ U[0,1) from the seeded PRNG, one draw per weight in layer order (a baseline)
 *   taylor     Σ_b |w·∂L/∂w|_b over a few batches (first-order Taylor estimate of the loss
 *              change when w is set to 0; Molchanov et al. 2017), supplied as `saliency`
 *   threshold  no ranking: prune exactly the weights with |w| < T
 *
 * Scope: global ranks all selected weights together and prunes k = round(S·N) of them, as
 * torch.nn.utils.prune.global_unstructured (a layer may lose more or less than S); local prunes
 * k_l = round(S·n_l) in every layer.
 *
 * Exact-k selection with deterministic ties: sort a copy of the scores, v = the k-th smallest;
 * prune every score < v, then the first (k − #{s < v}) scores equal to v in flat order (layers in
 * graph order, elements in row-major order). Weights pruned by `previous` masks get score −∞, so
 * an iterative schedule never revives a weight and counts it towards k.
 */
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { Rng } from '../data/rng.js';
import { DataType } from '../onnx/proto.js';
import { selectWeights, type PrunableWeight, type Selection } from './weights.js';

export const METHODS = ['l1', 'l2', 'random', 'threshold', 'taylor'] as const;
export type Method = (typeof METHODS)[number];
export type Scope = 'global' | 'local';
/** Initializer name → mask (1 keep, 0 pruned), same element order as the weight. */
export type Masks = Map<string, Uint8Array>;

export interface UnstructuredOptions extends Selection {
  method: Method;
  /** Fraction of the selected weights to prune, in [0, 1] (all methods but threshold). */
  sparsity?: number;
  /** |w| < threshold is pruned (method threshold). */
  threshold?: number;
  scope?: Scope;
  seed?: number;
  /** Per-weight Taylor scores (taylor.ts), by initializer name. */
  saliency?: ReadonlyMap<string, Float32Array | Float64Array>;
  /** Masks from an earlier step: what they prune stays pruned. */
  previous?: Masks;
}

/** Scores of one weight; pruned-before elements get −∞. */
export function scoreWeight(w: PrunableWeight, opts: Pick<UnstructuredOptions, 'method' | 'saliency' | 'previous'>, rng?: Rng): Float64Array {
  const data = w.value.initializer!.toArray() as Float32Array;
  const s = new Float64Array(w.size);
  switch (opts.method) {
    case 'l1':
    case 'threshold':
      for (let i = 0; i < s.length; i++) s[i] = Math.abs(data[i]!);
      break;
    case 'l2':
      for (let i = 0; i < s.length; i++) s[i] = data[i]! * data[i]!;
      break;
    case 'random': {
      const r = rng ?? new Rng(0);
      for (let i = 0; i < s.length; i++) s[i] = r.float();
      break;
    }
    case 'taylor': {
      const sal = opts.saliency?.get(w.name);
      if (!sal) throw new LitheError('E_USAGE', `taylor pruning needs gradient saliency for "${w.name}" (see taylorSaliency); none was given`);
      if (sal.length !== s.length) throw new LitheError('E_USAGE', `saliency for "${w.name}" has ${sal.length} values, the weight ${s.length}`);
      s.set(sal);
      break;
    }
  }
  const prev = opts.previous?.get(w.name);
  if (prev) for (let i = 0; i < s.length; i++) if (!prev[i]) s[i] = -Infinity;
  return s;
}

/** Mask (1 keep, 0 pruned) that prunes exactly the k smallest scores, ties to the lower index. */
export function pruneSmallest(scores: Float64Array, k: number): Uint8Array {
  const n = scores.length;
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`pruneSmallest: k=${k} outside [0, ${n}]`);
  const keep = new Uint8Array(n).fill(1);
  if (k === 0) return keep;
  const sorted = Float64Array.from(scores).sort();
  const v = sorted[k - 1]!;
  let left = k;
  for (let i = 0; i < n; i++) if (scores[i]! < v) (keep[i] = 0), left--;
  for (let i = 0; i < n && left > 0; i++) if (scores[i] === v) (keep[i] = 0), left--;
  return keep;
}

function checkFraction(s: number | undefined, what: string): number {
  if (s === undefined || !(s >= 0 && s <= 1)) throw new LitheError('E_USAGE', `${what} must be a fraction in [0, 1], got ${s}`);
  return s;
}

/** Masks for the selected weights of `model` (the model is not changed). */
export function computeMasks(model: Model, opts: UnstructuredOptions): Masks {
  const weights = selectWeights(model, opts);
  const masks: Masks = new Map();
  if (weights.length === 0) return masks;
  if (opts.method === 'threshold') {
    const t = opts.threshold;
    if (t === undefined || !(t >= 0)) throw new LitheError('E_USAGE', `method threshold needs a threshold ≥ 0, got ${t}`);
    for (const w of weights) masks.set(w.name, Uint8Array.from(scoreWeight(w, opts), (x) => (x >= t ? 1 : 0)));
    return masks;
  }
  const sparsity = checkFraction(opts.sparsity, 'sparsity');
  const rng = new Rng(opts.seed ?? 0);
  const scores = weights.map((w) => scoreWeight(w, opts, rng));
  if ((opts.scope ?? 'global') === 'local') {
    weights.forEach((w, i) => masks.set(w.name, pruneSmallest(scores[i]!, Math.round(sparsity * w.size))));
    return masks;
  }
  const total = weights.reduce((a, w) => a + w.size, 0);
  const flat = new Float64Array(total);
  let off = 0;
  for (const s of scores) flat.set(s, off), (off += s.length);
  const keep = pruneSmallest(flat, Math.round(sparsity * total));
  off = 0;
  for (const w of weights) masks.set(w.name, keep.slice(off, (off += w.size)));
  return masks;
}

/** Zeroes the masked weights in place (new tensors; the old bytes are not written). */
export function applyMasks(model: Model, masks: Masks): void {
  for (const [name, mask] of masks) {
    const v = model.graph.initializers.get(name);
    if (!v?.initializer) throw new LitheError('E_USAGE', `mask for "${name}", which is not an initializer`);
    const t = v.initializer;
    if (t.dtype !== DataType.FLOAT) throw new LitheError('E_UNSUPPORTED_OP', `"${name}" is not float32; lithe prunes float32 weights`);
    const data = Float32Array.from(t.toArray() as Float32Array);
    if (data.length !== mask.length) throw new LitheError('E_USAGE', `mask for "${name}" has ${mask.length} values, the weight ${data.length}`);
    for (let i = 0; i < data.length; i++) if (!mask[i]) data[i] = 0;
    model.graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...t.dims], data), name);
  }
}

export interface LayerSparsity {
  layer: string;
  op: string;
  weight: string;
  dims: number[];
  params: number;
  zeros: number;
  sparsity: number;
}
export interface SparsityReport {
  layers: LayerSparsity[];
  /** Over the prunable weights. */
  params: number;
  zeros: number;
  sparsity: number;
}

/** Exact zeros in every prunable weight (pre-existing zeros count). */
export function sparsityOf(model: Model, sel: Selection = {}): SparsityReport {
  const layers = selectWeights(model, sel).map((w): LayerSparsity => {
    const d = w.value.initializer!.toArray() as Float32Array;
    let zeros = 0;
    for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
    return { layer: w.layer, op: w.op, weight: w.name, dims: w.dims, params: w.size, zeros, sparsity: zeros / w.size };
  });
  const params = layers.reduce((a, l) => a + l.params, 0);
  const zeros = layers.reduce((a, l) => a + l.zeros, 0);
  return { layers, params, zeros, sparsity: params ? zeros / params : 0 };
}

/** Computes masks and applies them; returns the masks (for fine-tuning with masks in the graph). */
export function pruneUnstructured(model: Model, opts: UnstructuredOptions): Masks {
  const masks = computeMasks(model, opts);
  applyMasks(model, masks);
  return masks;
}
