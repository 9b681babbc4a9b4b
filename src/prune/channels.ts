/**
 * Channel analysis for structured pruning: which channels may be removed together, and which
 * initializers must be sliced when they are.
 *
 * A *space* is a set of channels born at a source: the output channels of a Conv (group 1) with a
 * constant weight, or the output units of a Gemm / MatMul with a constant weight. Each value's
 * axis 1 has a *layout*: a list of segments {space, channels, block}, where block is the number of
 * consecutive elements per channel (1 for [N,C,H,W] and [N,F]; H·W after Flatten of [N,C,H,W]).
 * Layouts flow forward in graph order:
 *
 *   Conv g=1 / Gemm / MatMul   sink: slice the weight's input axis by the kept layout indices;
 *                              the output starts a new space (a source: weight rows, bias)
 *   depthwise Conv (g=Cin=Cout) output layout = input layout; slice W rows, bias, set group
 *   BatchNormalization          output layout = input layout; slice scale, bias, mean, var
 *   unary activations, pools, Identity, Dropout     pass through
 *   Flatten(axis 1) of [N,C,H,W]                    same segments, block × H·W
 *   Concat(axis 1)              segments concatenated (offsets follow)
 *   Add/Sub/Mul/Div/Max/Min/Sum  the inputs' segments are joined pairwise (union-find): channels
 *                              joined by a residual Add are removed together, as one group;
 *                              other operands must be scalars
 *
 * Anything else that reads a layout (Reshape, Transpose, Softmax, reductions, Split, Slice,
 * ConvTranspose, grouped convs, non-scalar constants in arithmetic, graph outputs) *fixes* the
 * spaces of that layout: they are never pruned, and the reason is recorded. A group is the set of
 * spaces joined by union-find; it is fixed when any member is.
 *
 * Kept indices of a layout along axis 1: walking the segments with a running offset, a kept
 * channel c of a segment contributes offset + c·block … offset + c·block + block − 1.
 */
import type { Dim, Model, Node, Value } from '../graph/ir.js';
import { computeShapes } from '../graph/shape-inference.js';
import { DataType } from '../onnx/proto.js';

export interface Segment {
  space: number;
  channels: number;
  block: number;
}
export type Layout = Segment[];

export interface Source {
  node: Node;
  /** Axis of the weight that holds output channels (Conv 0; Gemm transB ? 0 : 1; MatMul 1). */
  axis: number;
}
export type Edit =
  | { kind: 'source'; node: Node; space: number; axis: number }
  | { kind: 'norm'; node: Node; layout: Layout }
  | { kind: 'depthwise'; node: Node; layout: Layout }
  | { kind: 'sink'; node: Node; slot: number; axis: number; layout: Layout };

export interface ChannelGroup {
  id: number;
  channels: number;
  /** Spaces (one per source) joined in this group. */
  sources: Source[];
  fixed: string[];
}

export interface ChannelAnalysis {
  groups: ChannelGroup[];
  /** Space → group id. */
  groupOf: (space: number) => number;
  edits: Edit[];
}

const PASS_THROUGH = new Set([
  'Relu', 'Clip', 'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSwish', 'HardSigmoid', 'Elu', 'Selu', 'Softplus', 'Gelu', 'Mish',
  'Identity', 'Dropout', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool',
]);
const ARITH = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum']);

const constFloat = (v: Value | null): boolean => !!v?.initializer && v.initializer.dtype === DataType.FLOAT;
const isScalarConst = (v: Value | null): boolean => !!v?.initializer && v.initializer.size === 1;

export function analyzeChannels(model: Model): ChannelAnalysis {
  const parent: number[] = [];
  const spaceInfo: { channels: number; source: Source; fixed: string[] }[] = [];
  const find = (a: number): number => (parent[a] === a ? a : (parent[a] = find(parent[a]!)));
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const layouts = new Map<Value, Layout>();
  const edits: Edit[] = [];
  const fix = (l: Layout | undefined, why: string) => l?.forEach((s) => spaceInfo[s.space]!.fixed.push(why));
  const newSpace = (node: Node, channels: number, axis: number): Layout => {
    const id = spaceInfo.length;
    parent.push(id);
    spaceInfo.push({ channels, source: { node, axis }, fixed: [] });
    edits.push({ kind: 'source', node, space: id, axis });
    return [{ space: id, channels, block: 1 }];
  };
  const types = computeShapes(model);
  const shapeOf = (v: Value | null | undefined): Dim[] | undefined => (v ? (types.get(v)?.shape ?? v.shape) : undefined);
  const sameShape = (a: Layout, b: Layout) => a.length === b.length && a.every((s, i) => s.channels === b[i]!.channels && s.block === b[i]!.block);

  for (const node of model.graph.nodes) {
    const L = node.input(0) ? layouts.get(node.input(0)!) : undefined;
    const out = node.outputs[0];
    const std = node.domain === '' || node.domain === 'ai.onnx';
    const set = (l: Layout | undefined) => out && l && layouts.set(out, l);
    const fixAll = (why: string) => node.inputs.forEach((v) => v && fix(layouts.get(v), why));
    const op = std ? node.opType : `${node.domain}.${node.opType}`;
    if (op === 'Conv' && constFloat(node.input(1)) && node.input(1)!.initializer!.dims.length >= 3) {
      const w = node.input(1)!.initializer!;
      const group = node.getInt('group', 1);
      const cout = w.dims[0]!;
      const cin = w.dims[1]! * group;
      const biasOk = !node.input(2) || constFloat(node.input(2));
      if (group === 1 && biasOk) {
        if (L) edits.push({ kind: 'sink', node, slot: 1, axis: 1, layout: L });
        set(newSpace(node, cout, 0));
      } else if (group === cin && cout === cin && biasOk && L) {
        edits.push({ kind: 'depthwise', node, layout: L });
        set(L);
      } else fixAll(`${node.describe()}: grouped conv (group ${group})`);
    } else if (op === 'Gemm' && constFloat(node.input(1)) && node.getInt('transA', 0) === 0 && gemmBiasOk(node)) {
      const transB = node.getInt('transB', 0);
      const b = node.input(1)!.initializer!;
      if (L) edits.push({ kind: 'sink', node, slot: 1, axis: transB ? 1 : 0, layout: L });
      set(newSpace(node, b.dims[transB ? 0 : 1]!, transB ? 0 : 1));
    } else if (op === 'MatMul' && constFloat(node.input(1)) && node.input(1)!.initializer!.dims.length === 2 && shapeOf(node.input(0))?.length === 2) {
      if (L) edits.push({ kind: 'sink', node, slot: 1, axis: 0, layout: L });
      set(newSpace(node, node.input(1)!.initializer!.dims[1]!, 1));
    } else if (op === 'BatchNormalization' && L && [1, 2, 3, 4].every((i) => constFloat(node.input(i)))) {
      edits.push({ kind: 'norm', node, layout: L });
      set(L);
    } else if (PASS_THROUGH.has(op) && L && node.inputs.slice(1).every((v) => !v || isScalarConst(v))) {
      set(L);
    } else if (op === 'Flatten' && L && node.getInt('axis', 1) === 1 && shapeOf(node.input(0))?.length === 4) {
      const [, , h, w] = shapeOf(node.input(0))!;
      if (typeof h === 'number' && typeof w === 'number') set(L.map((s) => ({ ...s, block: s.block * h * w })));
      else fixAll(`${node.describe()}: spatial dims unknown`);
    } else if (op === 'Concat' && (node.getInt('axis', 0) === 1 || node.getInt('axis', 0) === 1 - (shapeOf(out)?.length ?? 0))) {
      const ls = node.inputs.map((v) => (v ? layouts.get(v) : undefined));
      if (ls.every((l) => l)) set(ls.flatMap((l) => l!));
      else fixAll(`${node.describe()}: an input has no channel layout`);
    } else if (ARITH.has(op)) {
      const ls = node.inputs.map((v) => (v ? layouts.get(v) : undefined));
      const withLayout = ls.filter((l): l is Layout => !!l);
      const othersScalar = node.inputs.every((v, i) => ls[i] || isScalarConst(v));
      const ranks = new Set(node.inputs.filter((v, i) => ls[i]).map((v) => shapeOf(v)?.length));
      if (withLayout.length && othersScalar && ranks.size === 1 && withLayout.every((l) => sameShape(l, withLayout[0]!))) {
        for (const l of withLayout.slice(1)) l.forEach((s, i) => union(s.space, withLayout[0]![i]!.space));
        set(withLayout[0]);
      } else fixAll(`${node.describe()}: operands with different channel layouts`);
    } else {
      fixAll(`${node.describe()}: ${op} reads the channel axis`);
    }
  }
  for (const v of model.graph.outputs) fix(layouts.get(v), `graph output "${v.name}"`);

  const groups = new Map<number, ChannelGroup>();
  spaceInfo.forEach((s, id) => {
    const root = find(id);
    const g = groups.get(root) ?? groups.set(root, { id: root, channels: s.channels, sources: [], fixed: [] }).get(root)!;
    g.sources.push(s.source);
    g.fixed.push(...s.fixed);
  });
  return { groups: [...groups.values()], groupOf: find, edits };
}

function gemmBiasOk(node: Node): boolean {
  const c = node.input(2);
  return !c || constFloat(c);
}

/** Indices along axis 1 that survive, given kept channels per group (absent: all kept). */
export function keptIndices(layout: Layout, kept: ReadonlyMap<number, readonly number[]>, groupOf: (space: number) => number): number[] {
  const out: number[] = [];
  let offset = 0;
  for (const s of layout) {
    const keep = kept.get(groupOf(s.space)) ?? Array.from({ length: s.channels }, (_, i) => i);
    for (const c of keep) for (let j = 0; j < s.block; j++) out.push(offset + c * s.block + j);
    offset += s.channels * s.block;
  }
  return out;
}
