/**
 * Gradient rules: ops that move elements without arithmetic. Each gradient puts dy's elements
 * back where they came from; elements that were dropped get 0.
 *
 *   Flatten/Reshape/Squeeze/Unsqueeze   dx = reshape(dy, shape(x))
 *   Transpose    dx = transpose(dy, perm⁻¹)
 *   Concat       dxᵢ = split(dy, sizes along axis)[i]
 *   Split        dx = concat(dyᵢ or zeros)
 *   Slice        step 1: dx = pad(dy) with the cut-off margins; other steps: scatter into zeros
 *   Pad          constant mode: dx = slice(dy) (negative pads, i.e. crops, are padded back first)
 *   Gather       dx = zeros(shape(x)) with dy scatter-added at the gathered rows (ScatterND,
 *                reduction add: repeated indices accumulate, as an embedding lookup needs)
 */
import { LitheError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node, Value } from '../../graph/ir.js';
import { Tensor } from '../../graph/tensor.js';
import { constantInts } from '../../graph/shape-inference.js';
import { DataType } from '../../onnx/proto.js';
import type { GradRule, GradRuleTable } from '../rule.js';

const xOf = (n: Node) => n.input(0)!;
const shapeOf = (v: Value) => v.shape as number[];
const toX: GradRule = (g, n, [dy]) => [g.Reshape(dy!, shapeOf(xOf(n)))];

/** Sets a value's type where shape inference has no rule (ScatterND). */
function typed(v: Value, like: Value, shape: number[] = shapeOf(like)): Value {
  v.setTensorType(like.dtype ?? DataType.FLOAT, shape);
  return v;
}
/** Pad and Slice in the form the opset wants (pads/starts as attributes before 11/10). */
function pad(g: GraphBuilder, x: Value, pads: number[]): Value {
  return g.opset >= 11 ? g.Pad(x, pads) : g.op('Pad', [x], { pads, mode: 'constant' });
}
function slice(g: GraphBuilder, x: Value, starts: number[], ends: number[], axes: number[]): Value {
  return g.opset >= 10 ? g.Slice(x, starts, ends, axes) : g.op('Slice', [x], { starts, ends, axes });
}

function zeros(g: GraphBuilder, like: Value, shape: number[] = shapeOf(like)): Value {
  const dt = like.dtype ?? DataType.FLOAT;
  if (g.opset < 9) return g.graph.addInitializer(Tensor.fromArray(dt, shape, new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0)), g.graph.uniqueName('zeros'));
  return g.ConstantOfShape(shape, Tensor.fromArray(dt, [1], [0]));
}

/** A constant int input or attribute that training needs to know. */
function constInput(n: Node, i: number, what: string): number[] | undefined {
  const v = n.input(i);
  if (!v) return undefined;
  const c = constantInts(v);
  if (!c) throw new LitheError('E_UNSUPPORTED_OP', `${n.describe()}: ${what} must be constant for training`);
  return c;
}

const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);

const layout: GradRuleTable = {
  Flatten: toX,
  Reshape: toX,
  Squeeze: toX,
  Unsqueeze: toX,
  Transpose: (g, n, [dy]) => {
    const rank = shapeOf(xOf(n)).length;
    const perm = n.getInts('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inv = new Array<number>(rank);
    perm.forEach((p, i) => (inv[p] = i));
    return [g.Transpose(dy!, inv)];
  },
};

const joins: GradRuleTable = {
  Concat: (g, n, [dy], needs) => {
    const rank = shapeOf(xOf(n)).length;
    const axis = norm(n.getInt('axis', 0), rank);
    const sizes = n.inputs.map((v) => shapeOf(v!)[axis]!);
    if (n.inputs.length === 1) return [dy!];
    const parts = g.Split(dy!, { axis, sizes });
    return parts.map((p, i) => (needs[i] ? p : null));
  },
  Split: (g, n, dys) => {
    const rank = shapeOf(xOf(n)).length;
    const axis = norm(n.getInt('axis', 0), rank);
    const parts = n.outputs.map((y, i) => dys[i] ?? zeros(g, y));
    return [parts.length === 1 ? parts[0]! : g.Concat(parts, axis)];
  },
};

/** Slice's starts/ends/axes/steps resolved against x's shape: the first index and count per axis. */
function sliceWindows(n: Node, opset: number): { axis: number; start: number; step: number; count: number }[] {
  const xs = shapeOf(xOf(n));
  const rank = xs.length;
  const starts = opset >= 10 ? constInput(n, 1, 'starts')! : n.getInts('starts')!;
  const ends = opset >= 10 ? constInput(n, 2, 'ends')! : n.getInts('ends')!;
  const axes = (opset >= 10 ? constInput(n, 3, 'axes') : n.getInts('axes')) ?? starts.map((_, i) => i);
  const steps = (opset >= 10 ? constInput(n, 4, 'steps') : undefined) ?? starts.map(() => 1);
  const ys = shapeOf(n.output(0));
  return axes.map((a, i) => {
    const axis = norm(a, rank);
    const dim = xs[axis]!;
    const step = steps[i]!;
    let s = starts[i]!;
    s = s < 0 ? s + dim : s;
    s = step > 0 ? Math.min(Math.max(s, 0), dim) : Math.min(Math.max(s, -1), dim - 1);
    return { axis, start: s, step, count: ys[axis]! };
  });
}

const cuts: GradRuleTable = {
  Slice: (g, n, [dy]) => {
    const x = xOf(n);
    const xs = shapeOf(x);
    const wins = sliceWindows(n, g.opset);
    if (wins.every((w) => w.step === 1)) {
      const pads = new Array<number>(2 * xs.length).fill(0);
      for (const w of wins) {
        pads[w.axis] = w.start;
        pads[w.axis + xs.length] = xs[w.axis]! - w.start - w.count;
      }
      return [pad(g, dy!, pads)];
    }
    // strided or reversed: scatter each dy element to its source index, computed here (static shapes)
    const ys = shapeOf(dy!);
    const map = xs.map((_, a) => {
      const w = wins.find((v) => v.axis === a);
      return (j: number) => (w ? w.start + j * w.step : j);
    });
    const count = ys.reduce((p, d) => p * d, 1);
    const idx = new Array<number>(count * xs.length);
    for (let e = 0; e < count; e++) {
      let rest = e;
      for (let a = xs.length - 1; a >= 0; a--) {
        idx[e * xs.length + a] = map[a]!(rest % ys[a]!);
        rest = Math.floor(rest / ys[a]!);
      }
    }
    const indices = g.graph.addInitializer(Tensor.fromArray(DataType.INT64, [...ys, xs.length], idx), g.graph.uniqueName(`${n.name}.grad_indices`));
    return [typed(g.op('ScatterND', [zeros(g, x), indices, dy!]), x)];
  },
  Pad: (g, n, [dy]) => {
    const x = xOf(n);
    const xs = shapeOf(x);
    const rank = xs.length;
    const mode = n.getString('mode', 'constant');
    if (mode !== 'constant') throw new LitheError('E_UNSUPPORTED_OP', `${n.describe()}: no gradient for Pad mode '${mode}' (only 'constant')`);
    const raw = g.opset >= 11 ? constInput(n, 1, 'pads')! : n.getInts('pads')!;
    const axes = (g.opset >= 18 ? constInput(n, 3, 'axes') : undefined)?.map((a) => norm(a, rank)) ?? xs.map((_, i) => i);
    const begin = new Array<number>(rank).fill(0);
    const end = new Array<number>(rank).fill(0);
    axes.forEach((a, i) => {
      begin[a] = raw[i]!;
      end[a] = raw[i + axes.length]!;
    });
    let d = dy!;
    if ([...begin, ...end].some((p) => p < 0)) d = pad(g, d, [...begin.map((p) => Math.max(0, -p)), ...end.map((p) => Math.max(0, -p))]);
    const starts = begin.map((p) => Math.max(0, p));
    return [slice(g, d, starts, starts.map((s, a) => s + xs[a]!), xs.map((_, a) => a)), null, null, null];
  },
};

const lookups: GradRuleTable = {
  Gather: (g, n, [dy], needs) => {
    if (!needs[0]) return [null, null];
    const x = xOf(n);
    const xs = shapeOf(x);
    const idx = n.input(1)!;
    const is = shapeOf(idx);
    const axis = norm(n.getInt('axis', 0), xs.length);
    if (g.opset < 16) throw new LitheError('E_UNSUPPORTED_OP', `${n.describe()}: the Gather gradient needs ScatterND with reduction (opset ≥ 16), model has opset ${g.opset}`);
    // Move the gathered axis to the front: x′ = [x_axis, x_<axis, x_>axis], dy′ = [idx…, x_<axis, x_>axis].
    const front = (r: number, k: number, width: number) => [...Array.from({ length: width }, (_, i) => k + i), ...Array.from({ length: k }, (_, i) => i), ...Array.from({ length: r - k - width }, (_, i) => k + width + i)];
    const ys = shapeOf(dy!);
    const dyT = axis === 0 ? dy! : g.Transpose(dy!, front(ys.length, axis, is.length));
    const xT = axis === 0 ? xs : [xs[axis]!, ...xs.slice(0, axis), ...xs.slice(axis + 1)];
    const i64 = idx.dtype === DataType.INT64 ? idx : g.Cast(idx, DataType.INT64);
    const dxT = typed(g.op('ScatterND', [zeros(g, x, xT), g.Unsqueeze(i64, [is.length]), dyT], { reduction: 'add' }), x, xT);
    if (axis === 0) return [dxT, null];
    const inv = new Array<number>(xs.length);
    front(xs.length, axis, 1).forEach((p, i) => (inv[p] = i));
    return [g.Transpose(dxT, inv), null];
  },
};

export const shapeRules: GradRuleTable = { ...layout, ...joins, ...cuts, ...lookups };
