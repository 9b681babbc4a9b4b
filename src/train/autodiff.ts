/**
 * Reverse-mode autodiff over the IR: appends to a graph the nodes that compute ∂L/∂w for a scalar
 * loss L and chosen values w (trainable parameters, or any float value).
 *
 *   1. order      nodes topologically; `active` = values that depend on some w, `live` = values
 *                 from which L is reachable. Only nodes with an output that is both get backward
 *                 work, so a frozen branch (a teacher inside the same graph) costs nothing.
 *   2. seed       dL/dL = 1.
 *   3. sweep      nodes in reverse order: dyⱼ = Σ contributions to output j (fan-out summed here,
 *                 once, with one Sum node); the op's rule (rule.ts) returns dxᵢ per input;
 *   4. fit        each dxᵢ is unbroadcast to its input's shape — ReduceSum over the axes that
 *                 broadcasting added or stretched from 1, then Reshape — and its static shape is
 *                 checked against the input's, with an error naming the op and node.
 *
 * Shapes must be static (the training graph binds the batch size first).
 */
import { LitheError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import { isStatic } from '../graph/dims.js';
import type { Graph, Node, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { DataType } from '../onnx/proto.js';
import type { GradRuleTable } from './rule.js';

export interface BackwardOptions {
  /** Rules by op type (rules/index.ts has the full table). */
  rules: GradRuleTable;
  /** Called once per node that gets backward work (tests count them). */
  onNode?: (node: Node) => void;
}

const FLOAT_TYPES = new Set<DataType | undefined>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);
export const isFloat = (v: Value): boolean => FLOAT_TYPES.has(v.dtype);
/** Ops whose integer outputs still carry a (float) gradient: quantization's straight-through estimator (rules/quant.ts). */
const STRAIGHT_THROUGH = new Set(['QuantizeLinear']);

/**
 * Appends the backward pass of `loss` (a scalar or one-element value) to `g`'s graph and returns
 * the gradient of every value in `wrt`, in order. A w the loss does not depend on gets zeros.
 */
export function appendBackward(g: GraphBuilder, loss: Value, wrt: readonly Value[], opts: BackwardOptions): Value[] {
  const graph = g.graph;
  const opset = g.opset;
  graph.sortTopologically();
  const forward = [...graph.nodes];
  const lossShape = staticShape(loss, 'the loss');
  if (lossShape.reduce((a, b) => a * b, 1) !== 1) throw new LitheError('E_USAGE', `loss "${loss.name}" must be a scalar, has shape [${lossShape.join(',')}]`);

  const active = new Set<Value>(wrt.filter(isFloat));
  for (const n of forward) if (n.inputs.some((v) => v && active.has(v))) for (const o of n.outputs) if (isFloat(o) || STRAIGHT_THROUGH.has(n.opType)) active.add(o);
  const live = new Set<Value>([loss]);
  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k]!;
    if (n.outputs.some((o) => live.has(o))) for (const v of n.inputs) if (v) live.add(v);
  }
  const needs = (v: Value | null): boolean => !!v && active.has(v) && live.has(v);

  const contributions = new Map<Value, Value[]>([[loss, [filled(g, loss, lossShape, 1)]]]);
  const total = (v: Value): Value | null => {
    const parts = contributions.get(v);
    if (!parts?.length) return null;
    const sum = parts.length === 1 ? parts[0]! : g.Sum(parts, { name: `grad.sum.${v.name}` });
    contributions.set(v, [sum]);
    return sum;
  };

  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k]!;
    const needIn = node.inputs.map(needs);
    if (!needIn.some(Boolean)) continue;
    const dys = node.outputs.map(total);
    if (!dys.some(Boolean)) continue;
    const rule = node.domain === '' || node.domain === 'ai.onnx' ? opts.rules[node.opType] : undefined;
    if (!rule) {
      const supported = Object.keys(opts.rules).sort().join(', ');
      throw new LitheError('E_UNSUPPORTED_OP', `No gradient rule for '${node.opType}' (node "${node.name || node.outputs[0]?.name}", opset ${opset}). Supported: ${supported}`);
    }
    for (const v of [...node.inputs, ...node.outputs]) if (v && (needs(v) || node.outputs.includes(v))) staticShape(v, `${node.describe()}`);
    opts.onNode?.(node);
    const dxs = g.scope(`grad.${node.name || node.opType}`, () => rule(g, node, dys, needIn));
    node.inputs.forEach((x, i) => {
      const dx = dxs[i];
      if (!x || !needIn[i] || !dx) return;
      const fitted = fitToShape(g, dx, x, node);
      const list = contributions.get(x);
      if (list) list.push(fitted);
      else contributions.set(x, [fitted]);
    });
  }

  return wrt.map((w) => total(w) ?? filled(g, w, staticShape(w, `"${w.name}"`), 0));
}

/** A tensor of `like`'s dtype filled with x: ConstantOfShape (opset ≥ 9) or an initializer. */
function filled(g: GraphBuilder, like: Value, shape: number[], x: number): Value {
  const dtype = like.dtype ?? DataType.FLOAT;
  if (g.opset >= 9) return g.op('ConstantOfShape', [g.ints(shape)], { value: Tensor.fromArray(dtype, [1], [x]) }, { name: x ? 'grad.seed' : 'grad.zero' });
  const n = shape.reduce((a, b) => a * b, 1);
  return g.graph.addInitializer(Tensor.fromArray(dtype, shape, new Array<number>(n).fill(x)), g.graph.uniqueName(x ? 'grad.seed' : 'grad.zero'));
}

export function staticShape(v: Value, what: string): number[] {
  const s = v.shape;
  if (!isStatic(s)) {
    throw new LitheError('E_UNSUPPORTED_OP', `${what}: value "${v.name}" has shape ${s ? `[${s.join(',')}]` : 'unknown'}; training needs static shapes (bind the batch size)`);
  }
  return s;
}

/** Sums a broadcast-shaped gradient down to `x`'s shape (numpy rules), or throws naming the node. */
export function fitToShape(g: GraphBuilder, dx: Value, x: Value, node: Node): Value {
  const want = staticShape(x, node.describe());
  const have = staticShape(dx, `gradient of ${node.describe()}`);
  const mismatch = () =>
    new LitheError('E_BAD_MODEL', `gradient rule for ${node.describe()} returned shape [${have.join(',')}] for input "${x.name}" of shape [${want.join(',')}]`);
  if (have.length === want.length && have.every((d, i) => d === want[i])) return dx;
  if (have.length < want.length) throw mismatch();
  const lead = have.length - want.length;
  const axes: number[] = [];
  for (let i = 0; i < have.length; i++) {
    const w = i < lead ? 1 : want[i - lead]!;
    if (i < lead ? have[i] !== 1 : w === 1 && have[i] !== 1) axes.push(i);
    else if (i >= lead && have[i] !== w) throw mismatch();
  }
  const summed = axes.length ? g.ReduceSum(dx, axes, { keepdims: 1, name: 'unbroadcast' }) : dx;
  return g.Reshape(summed, want, { name: 'unbroadcast_shape' });
}

/** Turns initializers into graph inputs (a trainable weight is fed, not baked in); returns their values. */
export function initializersToInputs(graph: Graph, names: readonly string[]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const name of names) {
    const v = graph.initializers.get(name);
    if (!v?.initializer) throw new LitheError('E_USAGE', `"${name}" is not an initializer of graph "${graph.name}"`);
    const t = v.initializer;
    graph.initializers.delete(name);
    v.initializer = undefined;
    v.setTensorType(t.dtype, t.dims);
    if (!graph.inputs.includes(v)) graph.addInput(v);
    out.set(name, t);
  }
  return out;
}
