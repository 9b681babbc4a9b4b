/**
 * Structured channel pruning: removes whole output channels of Conv (units of Gemm/MatMul) and
 * rewrites every consumer (channels.ts), so the result is a smaller dense model.
 *
 *   importance of channel c of a group = Σ over the group's sources s of ‖W_s[c]‖
 *                                        (l1: Σ|w|, l2: √Σw², over the channel's slice of W_s)
 *                                      or Σ over sources of their Taylor score I_c (taylor:
 *                                        channel-taylor.ts, computed beforehand from gradients)
 *   ratio r: every prunable group of C channels keeps k = C − min(⌊r·C⌋, C − 1) channels, the k
 *            most important (ties: lower index first), with k rounded up to a multiple of m
 *            (channelMultiple, default 8, applied to groups whose C is a multiple of m): CPU
 *            kernels (ORT's NCHWc blocks, GEMM panels) work in blocks of 8/16 channels, and odd
 *            counts made a pruned MobileNetV2 slower than the dense one (torch-pruning's round_to);
 *            fixed groups keep all
 *   target F (--target-macs): the smallest uniform r (bisection, 14 steps over [0, 0.99]) whose
 *            pruned model has countMacs(total) ≤ F · original total; ⌊r·C⌋ never decreases in r,
 *            so MACs fall monotonically as r grows. Importance is computed once, and a model is
 *            built once per distinct vector of kept counts (many ratios round to the same one)
 *
 * Rewrite per edit: source → slice W along its output axis and the bias; BatchNormalization →
 * slice scale, bias, mean, var; depthwise Conv → slice W rows and bias, group = kept channels;
 * sink → slice W along its input axis at the layout's kept indices (a Gemm after Flatten loses a
 * block of H·W columns per channel). A weight shared with another node is copied, not edited.
 * Shape inference then retypes every value.
 */
import { LitheError } from '../errors.js';
import type { Model, Node } from '../graph/ir.js';
import { inferShapes } from '../graph/shape-inference.js';
import { Tensor } from '../graph/tensor.js';
import { countMacs } from '../analysis/profile.js';
import { DataType } from '../onnx/proto.js';
import { analyzeChannels, keptIndices, type ChannelAnalysis, type ChannelGroup } from './channels.js';
import { checkLayerNames, cloneModel, type Selection } from './weights.js';

export type Criterion = 'l1' | 'l2' | 'taylor';

export interface StructuredOptions extends Selection {
  /** Uniform fraction of channels to remove from every prunable group. */
  ratio?: number;
  /** Prune until total MACs ≤ targetMacs × the original's. */
  targetMacs?: number;
  criterion?: Criterion;
  /** Per-channel scores by source node name (criterion taylor: channelTaylorScores). */
  scores?: ReadonlyMap<string, Float64Array>;
  /** Kept channel counts are rounded up to a multiple of this (see the header). Default 8; 1 turns it off. */
  channelMultiple?: number;
}

export interface GroupResult {
  sources: string[];
  channels: number;
  kept: number;
  fixed?: string;
}
export interface StructuredResult {
  model: Model;
  ratio: number;
  groups: GroupResult[];
  macsBefore: number;
  macsAfter: number;
}

/** Slices `t` along `axis`, keeping `idx` (ascending). */
export function sliceAxis(t: Tensor, axis: number, idx: readonly number[]): Tensor {
  const dims = [...t.dims];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = dims[axis]!;
  const src = t.toArray() as Float32Array;
  const out = new Float32Array(outer * idx.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) for (const i of idx) out.set(src.subarray((a * n + i) * inner, (a * n + i + 1) * inner), (o++) * inner);
  dims[axis] = idx.length;
  return Tensor.fromArray(DataType.FLOAT, dims, out);
}

/** Replaces input `slot` of `node` with a sliced copy (in place when no other node uses it). */
function sliceInput(node: Node, slot: number, axis: number, idx: readonly number[]): void {
  const v = node.input(slot);
  if (!v?.initializer) return;
  const t = sliceAxis(v.initializer, axis, idx);
  const graph = node.graph!;
  if (v.uses().length === 1 && !graph.outputs.includes(v)) graph.addInitializer(t, v.name);
  else node.setInput(slot, graph.addInitializer(t, graph.uniqueName(`${v.name}.pruned`)));
}

/** Importance of every channel of every group (see the header). */
export function channelImportance(a: ChannelAnalysis, criterion: Criterion = 'l1', scores?: ReadonlyMap<string, Float64Array>): Map<number, Float64Array> {
  const out = new Map<number, Float64Array>();
  for (const g of a.groups) {
    const score = new Float64Array(g.channels);
    for (const s of g.sources) {
      if (criterion === 'taylor') {
        const t = scores?.get(s.node.name);
        if (!t || t.length !== g.channels) throw new LitheError('E_USAGE', `taylor channel importance: no scores for the ${g.channels} channels of ${s.node.describe()}`);
        t.forEach((v, c) => (score[c]! += v));
        continue;
      }
      const t = s.node.input(1)!.initializer!;
      const w = t.toArray() as Float32Array;
      const inner = t.dims.slice(s.axis + 1).reduce((x, y) => x * y, 1);
      const n = t.dims[s.axis]!;
      const acc = new Float64Array(n);
      for (let i = 0; i < w.length; i++) {
        const c = Math.floor(i / inner) % n;
        acc[c]! += criterion === 'l1' ? Math.abs(w[i]!) : w[i]! * w[i]!;
      }
      for (let c = 0; c < n; c++) score[c]! += criterion === 'l1' ? acc[c]! : Math.sqrt(acc[c]!);
    }
    out.set(g.id, score);
  }
  return out;
}

function groupFixedBy(g: ChannelGroup, sel: Selection): string | undefined {
  if (g.fixed.length) return g.fixed[0];
  const names = g.sources.map((s) => s.node.name);
  if (sel.include?.length && !names.some((n) => sel.include!.includes(n))) return 'not in --include';
  const ex = names.find((n) => sel.exclude?.includes(n));
  return ex ? `--exclude ${ex}` : undefined;
}

/** Channels a group of C keeps at ratio r, rounded up to a multiple of m (see the header). */
export function keptCount(channels: number, ratio: number, multiple = 8): number {
  const k = channels - Math.min(Math.floor(ratio * channels), channels - 1);
  return multiple > 1 && channels % multiple === 0 ? Math.min(channels, Math.ceil(k / multiple) * multiple) : k;
}

/**
 * Prunes a copy of `model` by a uniform ratio. `importance` (channelImportance of the model, by
 * group id) saves recomputing it for every ratio of a search; group ids are the same in a clone.
 */
export function pruneChannelsAtRatio(model: Model, ratio: number, opts: Omit<StructuredOptions, 'ratio' | 'targetMacs'> = {}, importance?: Map<number, Float64Array>): { model: Model; groups: GroupResult[] } {
  if (!(ratio >= 0 && ratio < 1)) throw new LitheError('E_USAGE', `channel ratio must be in [0, 1), got ${ratio}`);
  const m = cloneModel(model);
  const a = analyzeChannels(m);
  const scores = importance ?? channelImportance(a, opts.criterion, opts.scores);
  const kept = new Map<number, number[]>();
  const groups: GroupResult[] = [];
  for (const g of a.groups) {
    const fixed = groupFixedBy(g, opts);
    const sources = g.sources.map((s) => s.node.name);
    if (fixed) {
      groups.push({ sources, channels: g.channels, kept: g.channels, fixed });
      continue;
    }
    const n = g.channels - keptCount(g.channels, ratio, opts.channelMultiple ?? 8);
    const s = scores.get(g.id)!;
    const order = Array.from({ length: g.channels }, (_, i) => i).sort((x, y) => s[x]! - s[y]! || x - y);
    const keep = order.slice(n).sort((x, y) => x - y);
    kept.set(g.id, keep);
    groups.push({ sources, channels: g.channels, kept: keep.length });
  }
  applyChannelPlan(a, kept);
  inferShapes(m);
  return { model: m, groups };
}

/** Applies kept channels per group to the analysed model (in place). */
export function applyChannelPlan(a: ChannelAnalysis, kept: ReadonlyMap<number, readonly number[]>): void {
  for (const e of a.edits) {
    if (e.kind === 'source') {
      const keep = kept.get(a.groupOf(e.space));
      if (!keep) continue;
      sliceInput(e.node, 1, e.axis, keep);
      const b = e.node.input(2)?.initializer;
      if (b && b.size > 1) sliceInput(e.node, 2, b.dims.length - 1, keep);
    } else if (e.kind === 'norm') {
      const idx = keptIndices(e.layout, kept, a.groupOf);
      for (const i of [1, 2, 3, 4]) sliceInput(e.node, i, 0, idx);
    } else if (e.kind === 'depthwise') {
      const idx = keptIndices(e.layout, kept, a.groupOf);
      sliceInput(e.node, 1, 0, idx);
      if (e.node.input(2)) sliceInput(e.node, 2, 0, idx);
      e.node.setAttr('group', idx.length);
    } else {
      sliceInput(e.node, e.slot, e.axis, keptIndices(e.layout, kept, a.groupOf));
    }
  }
}

/** Structured pruning by ratio or to a MAC target; returns a new model. */
export function pruneChannels(model: Model, opts: StructuredOptions): StructuredResult {
  const prunable = analyzeChannels(model).groups.flatMap((g) => g.sources.map((s) => s.node.name));
  for (const [flagName, names] of [['--include', opts.include], ['--exclude', opts.exclude]] as const)
    if (names?.length) checkLayerNames(model, names, prunable, flagName);
  const macsBefore = countMacs(model).total;
  const macsOf = (m: Model) => countMacs(m).total;
  if (opts.targetMacs === undefined) {
    const r = pruneChannelsAtRatio(model, opts.ratio ?? 0.5, opts);
    return { ...r, ratio: opts.ratio ?? 0.5, macsBefore, macsAfter: macsOf(r.model) };
  }
  const f = opts.targetMacs;
  if (!(f > 0 && f <= 1)) throw new LitheError('E_USAGE', `--target-macs must be a fraction in (0, 1], got ${f}`);
  const goal = f * macsBefore;
  // Importance is computed once; ratios that give the same kept count in every group give the
  // same model (the kept channels are the top k of a fixed ranking), so each is built once.
  const a0 = analyzeChannels(model);
  const importance = channelImportance(a0, opts.criterion, opts.scores);
  const built = new Map<string, { model: Model; groups: GroupResult[]; macs: number }>();
  const at = (r: number) => {
    const key = a0.groups.map((g) => (groupFixedBy(g, opts) ? g.channels : keptCount(g.channels, r, opts.channelMultiple ?? 8))).join(',');
    let e = built.get(key);
    if (!e) {
      const p = pruneChannelsAtRatio(model, r, opts, importance);
      built.set(key, (e = { ...p, macs: macsOf(p.model) }));
    }
    return e;
  };
  let lo = 0;
  let hi = 0.99;
  let best = at(hi);
  let bestMacs = best.macs;
  if (bestMacs > goal) throw new LitheError('E_USAGE', `cannot reach ${(100 * f).toFixed(1)}% of the MACs: pruning 99% of every prunable group leaves ${(100 * bestMacs / macsBefore).toFixed(1)}% (fixed channels: graph outputs, unsupported consumers)`);
  let bestRatio = hi;
  for (let i = 0; i < 14; i++) {
    const mid = (lo + hi) / 2;
    const r = at(mid);
    if (r.macs <= goal) (hi = mid), (best = r), (bestMacs = r.macs), (bestRatio = mid);
    else lo = mid;
  }
  return { model: best.model, groups: best.groups, ratio: bestRatio, macsBefore, macsAfter: bestMacs };
}
