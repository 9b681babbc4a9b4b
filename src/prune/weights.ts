/**
 * Which weights pruning may touch: the constant float32 weight initializer of every Conv,
 * ConvTranspose (input 1), Gemm (B, input 1) and MatMul (the constant operand, input 1, else
 * input 0). Biases, normalization parameters and activations are never selected. A weight shared
 * by several nodes is listed once, under the first node (graph order) that uses it.
 *
 * `--include` / `--exclude` name nodes; a name that is no node, or a node with no prunable weight,
 * is an error that names it and lists the prunable layers.
 */
import { LitheError } from '../errors.js';
import type { Model, Node, Value } from '../graph/ir.js';
import { cloneModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';

export const PRUNABLE_OPS = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'] as const;

export interface PrunableWeight {
  /** The node (layer) that owns the weight; its name is the layer name. */
  node: Node;
  layer: string;
  op: string;
  /** The initializer holding the weight. */
  value: Value;
  name: string;
  dims: number[];
  size: number;
}

export interface Selection {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** The constant weight operand of a prunable node, or undefined. */
export function weightOf(node: Node): Value | undefined {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return undefined;
  if (!(PRUNABLE_OPS as readonly string[]).includes(node.opType)) return undefined;
  const slots = node.opType === 'MatMul' ? [1, 0] : [1];
  for (const i of slots) {
    const v = node.input(i);
    if (v?.initializer && v.initializer.dtype === DataType.FLOAT && v.initializer.dims.length >= 2) return v;
  }
  return undefined;
}

/** Every prunable weight of the main graph, in node order. */
export function prunableWeights(model: Model): PrunableWeight[] {
  const seen = new Set<Value>();
  const out: PrunableWeight[] = [];
  for (const node of model.graph.nodes) {
    const w = weightOf(node);
    if (!w || seen.has(w)) continue;
    seen.add(w);
    const t = w.initializer!;
    out.push({ node, layer: node.name || w.name, op: node.opType, value: w, name: w.name, dims: [...t.dims], size: t.size });
  }
  return out;
}

/** Applies --include / --exclude (node names) to the prunable weights. */
export function selectWeights(model: Model, sel: Selection = {}): PrunableWeight[] {
  const all = prunableWeights(model);
  if (sel.include?.length && sel.exclude?.length) throw new LitheError('E_USAGE', '--include and --exclude exclude each other');
  const names = sel.include?.length ? sel.include : sel.exclude;
  if (!names?.length) return all;
  checkLayerNames(model, names, all.map((w) => w.layer), sel.include?.length ? '--include' : '--exclude');
  const set = new Set(names);
  return all.filter((w) => (sel.include?.length ? set.has(w.layer) : !set.has(w.layer)));
}

/** Throws naming every unknown or unprunable node among `names`. */
export function checkLayerNames(model: Model, names: readonly string[], prunable: readonly string[], flagName: string): void {
  const nodes = new Set(model.graph.nodes.map((n) => n.name));
  const ok = new Set(prunable);
  const unknown = names.filter((n) => !nodes.has(n));
  const unprunable = names.filter((n) => nodes.has(n) && !ok.has(n));
  const listed = prunable.length > 12 ? `${prunable.slice(0, 12).join(', ')}, … (${prunable.length})` : prunable.join(', ');
  if (unknown.length) throw new LitheError('E_USAGE', `${flagName}: no node named ${unknown.map((n) => `'${n}'`).join(', ')}. Prunable layers: ${listed}`);
  if (unprunable.length) throw new LitheError('E_USAGE', `${flagName}: ${unprunable.map((n) => `'${n}'`).join(', ')} has no prunable weight. Prunable layers: ${listed}`);
}

export { cloneModel };
