/**
 * The contract between the autodiff driver (autodiff.ts) and the gradient rules (rules/*.ts).
 *
 * Reverse mode: for a node y = f(x₀…xₙ) and the gradients of the loss L w.r.t. its outputs
 * (dyⱼ = ∂L/∂yⱼ), a rule emits ONNX nodes computing the vector-Jacobian products
 *
 *   dxᵢ = Σⱼ dyⱼ · ∂yⱼ/∂xᵢ
 *
 * and returns one Value per input (null where no gradient flows: integer inputs, shapes, inputs
 * the driver says it does not need).
 *
 * What the rule may assume, because the driver guarantees it:
 *   - shapes are static: the training graph is built for one batch size, so every value the rule
 *     sees (node inputs, outputs, dys) has a fully known shape (`v.shape` is number[]);
 *   - `dys[j]` is null when output j does not reach the loss; at least one is non-null;
 *   - `needs[i]` tells whether input i wants a gradient: a rule should skip work for the others
 *     (a frozen teacher costs nothing) and may return null for them.
 *
 * What the driver does once, so rules never do it:
 *   - unbroadcasting: a rule may return a gradient in the broadcast (output) shape; the driver
 *     sums it down to the input's shape (numpy broadcasting rules);
 *   - fan-out: gradients reaching one value from several uses are summed by the driver;
 *   - checking: every returned gradient's shape is checked against its input's shape, with an
 *     error naming the op and the node.
 *
 * Rules build nodes with `g` (a GraphBuilder on the training graph, at the model's opset); its
 * shape inference types every value it emits. Only standard ONNX ops (domain ''), so the result
 * runs in stock onnxruntime-node and onnxruntime-web.
 */
import type { GraphBuilder } from '../graph/builder.js';
import type { Node, Value } from '../graph/ir.js';

export type GradRule = (g: GraphBuilder, node: Node, dys: readonly (Value | null)[], needs: readonly boolean[]) => (Value | null)[];

/** Rules by op type, one table per op family (rules/elementwise.ts, rules/conv.ts, …). */
export type GradRuleTable = Readonly<Record<string, GradRule>>;
