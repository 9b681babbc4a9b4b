/**
 * Gradient rules: reductions.
 *
 *   ReduceSum   dx = expand(dy′, shape(x))           dy′ = dy with the reduced axes kept as 1
 *   ReduceMean  dx = expand(dy′, shape(x)) / count   count = ∏ of the reduced dims
 *
 * Axes come from the attribute (ReduceSum < 13, ReduceMean < 18) or the constant input; no axes
 * means all axes unless noop_with_empty_axes, which makes the op an identity.
 */
import { LitheError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node, Value } from '../../graph/ir.js';
import { constantInts } from '../../graph/shape-inference.js';
import type { GradRule, GradRuleTable } from '../rule.js';

/** The reduced axes (non-negative, sorted), or null when the op is an identity. */
export function reducedAxes(node: Node, opset: number, inputFrom: number): number[] | null {
  const rank = node.input(0)!.shape!.length;
  let axes: number[] | undefined;
  if (opset >= inputFrom) {
    const v = node.input(1);
    axes = v ? constantInts(v) : undefined;
    if (v && !axes) throw new LitheError('E_UNSUPPORTED_OP', `${node.describe()}: axes must be constant for training`);
  } else axes = node.getInts('axes');
  if (!axes || axes.length === 0) {
    if (node.getInt('noop_with_empty_axes', 0)) return null;
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** dy with the reduced axes restored as size 1, broadcast back to x's shape. */
export function expandBack(g: GraphBuilder, dy: Value, x: Value, axes: number[]): Value {
  const xs = x.shape as number[];
  const kept = xs.map((d, i) => (axes.includes(i) ? 1 : d));
  return g.Expand(g.Reshape(dy, kept), xs);
}

const reduction = (inputFrom: number, mean: boolean): GradRule => (g, n, [dy]) => {
  const x = n.input(0)!;
  const axes = reducedAxes(n, g.opset, inputFrom);
  if (!axes) return [dy!];
  const back = expandBack(g, dy!, x, axes);
  if (!mean) return [back];
  const count = axes.reduce((p, a) => p * (x.shape as number[])[a]!, 1);
  return [g.Mul(back, g.scalar(1 / count, x.dtype))];
};

export const reduceRules: GradRuleTable = {
  ReduceSum: reduction(13, false),
  ReduceMean: reduction(18, true),
};
