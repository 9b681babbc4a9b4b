/**
 * Gradient rules for BatchNormalization and LayerNormalization.
 *
 * BatchNormalization, x [N, C, …], statistics per channel over R = {0, 2, …}, M = N·∏spatial.
 *   training_mode = 1 (opset ≥ 14; outputs Y, running_mean, running_var), as the ONNX spec and
 *   ORT's CPU kernel (providers/cpu/nn/batch_norm.h) compute it:
 *     μ = mean_R(x),  σ² = mean_R((x − μ)²)   ← the biased (population) variance, used both to
 *     σ = √(σ² + ε),  x̂ = (x − μ)/σ,  Y = γ·x̂ + β   normalise AND to update the running variance:
 *     running_mean = m·input_mean + (1 − m)·μ
 *     running_var  = m·input_var  + (1 − m)·σ²       (PyTorch uses M/(M−1)·σ² here; ONNX/ORT do not)
 *   gradients (dy from Y; drm, drv from the running outputs, usually absent):
 *     dβ = Σ_R dy,   dγ = Σ_R dy·x̂
 *     dx = (γ/σ)·(dy − mean_R(dy) − x̂·mean_R(dy·x̂)) + (1 − m)·drm/M + (1 − m)·drv·2(x − μ)/M
 *        = k·dy + a·(x − μ) + b  with per-channel k = γ/σ, a = −k·dγ/(M·σ) + 2(1 − m)·drv/M,
 *                                   b = −k·dβ/M + (1 − m)·drm/M  (three full-size passes, no x̂)
 *     d input_mean = m·drm,   d input_var = m·drv
 *   inference mode (frozen statistics, fine-tuning with frozen BN): σ = √(var + ε)
 *     dx = dy·γ/σ,   dγ = Σ_R dy·x̂,   dβ = Σ_R dy,
 *     d mean = −Σ_R dy·γ/σ,   d var = −½·γ·Σ_R dy·x̂ / σ²
 *
 * LayerNormalization, normalising over the axes A = axis…rank−1, M = ∏ x.shape[A]:
 *   μ = mean_A(x), σ⁻¹ = 1/√(mean_A((x − μ)²) + ε), x̂ = (x − μ)·σ⁻¹, Y = γ·x̂ + β
 *   (optional outputs Mean = μ and InvStdDev = σ⁻¹)
 *     ĝ = dy·γ
 *     dx = σ⁻¹·(ĝ − mean_A(ĝ) − x̂·mean_A(ĝ·x̂)) + dMean/M − dInvStdDev·σ⁻³·(x − μ)/M
 *     dγ = Σ_lead dy·x̂,   dβ = Σ_lead dy   (returned with kept dims; the driver fits them to γ, β)
 */
import { LitheError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node, Value } from '../../graph/ir.js';
import type { GradRuleTable } from '../rule.js';
import { staticShape } from './conv.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Per-channel [C] → [1, C, 1, …] so that it broadcasts against x. */
const perChannel = (g: GraphBuilder, v: Value, rank: number, c: number) => g.Reshape(v, [1, c, ...Array<number>(rank - 2).fill(1)]);

function rejectStatGradients(node: Node, dys: readonly (Value | null)[], from: number, what: string): void {
  if (dys.slice(from).some(Boolean)) {
    throw new LitheError('E_UNSUPPORTED_OP', `${node.describe()}: no gradient through its ${what} outputs (only Y and the running statistics)`);
  }
}

function batchNormTraining(g: GraphBuilder, node: Node, dys: readonly (Value | null)[], needs: readonly boolean[]): (Value | null)[] {
  const [x, gamma] = [node.input(0)!, node.input(1)!];
  const xs = staticShape(x, node);
  const [rank, c] = [xs.length, xs[1]!];
  const axes = [0, ...range(2, rank)];
  const m = xs.reduce((a, b) => a * b, 1) / c;
  const eps = node.getFloat('epsilon', 1e-5);
  const momentum = node.getFloat('momentum', 0.9);
  const [dy, drm, drv] = [dys[0] ?? null, dys[1] ?? null, dys[2] ?? null];
  rejectStatGradients(node, dys, 3, 'saved_mean/saved_var');
  const s = (v: number) => g.scalar(v);

  const mean = g.ReduceMean(x, axes, { keepdims: 1 });
  const xc = g.Sub(x, mean);
  const sumSquares = g.opset >= 18 ? g.op('ReduceSumSquare', [xc, g.ints(axes)], { keepdims: 1 }) : g.op('ReduceSumSquare', [xc], { axes, keepdims: 1 });
  const variance = g.Div(sumSquares, s(m));
  const sigma = g.Sqrt(g.Add(variance, s(eps)));
  const dBeta = dy ? g.ReduceSum(dy, axes, { keepdims: 1 }) : null;
  const dGamma = dy ? g.Div(g.ReduceSum(g.Mul(dy, xc), axes, { keepdims: 1 }), sigma) : null;

  let dx: Value | null = null;
  if (needs[0]) {
    const terms: Value[] = [];
    let a: Value | null = null;
    let b: Value | null = null;
    if (dy) {
      const k = g.Div(perChannel(g, gamma, rank, c), sigma);
      terms.push(g.Mul(dy, k));
      a = g.Neg(g.Div(g.Mul(k, dGamma!), g.Mul(sigma, s(m))));
      b = g.Neg(g.Div(g.Mul(k, dBeta!), s(m)));
    }
    if (drv) {
      const fromVar = g.Mul(perChannel(g, drv, rank, c), s((2 * (1 - momentum)) / m));
      a = a ? g.Add(a, fromVar) : fromVar;
    }
    if (drm) {
      const fromMean = g.Mul(perChannel(g, drm, rank, c), s((1 - momentum) / m));
      b = b ? g.Add(b, fromMean) : fromMean;
    }
    if (a) terms.push(g.Mul(xc, a));
    if (b) terms.push(b);
    dx = terms.length === 1 ? terms[0]! : g.Sum(terms);
  }
  const flat = (v: Value | null) => (v ? g.Reshape(v, [c]) : null);
  return [
    dx,
    needs[1] ? flat(dGamma) : null,
    needs[2] ? flat(dBeta) : null,
    needs[3] && drm ? g.Mul(drm, s(momentum)) : null,
    needs[4] && drv ? g.Mul(drv, s(momentum)) : null,
  ];
}

function batchNormInference(g: GraphBuilder, node: Node, dy: Value, needs: readonly boolean[]): (Value | null)[] {
  const [x, gamma, , mean, variance] = [node.input(0)!, node.input(1)!, node.input(2), node.input(3)!, node.input(4)!];
  const xs = staticShape(x, node);
  const [rank, c] = [xs.length, xs[1]!];
  const axes = [0, ...range(2, rank)];
  const eps = node.getFloat('epsilon', 1e-5);
  const sigma = g.Sqrt(g.Add(variance, g.scalar(eps)));
  const k = g.Div(gamma, sigma); // [C]
  const sumDy = needs[2] || needs[3] ? g.ReduceSum(dy, axes, { keepdims: 0 }) : null;
  const sumDyXhat = needs[1] || needs[4] ? g.Div(g.ReduceSum(g.Mul(dy, g.Sub(x, perChannel(g, mean, rank, c))), axes, { keepdims: 0 }), sigma) : null;
  return [
    needs[0] ? g.Mul(dy, perChannel(g, k, rank, c)) : null,
    needs[1] ? sumDyXhat : null,
    needs[2] ? sumDy : null,
    needs[3] ? g.Neg(g.Mul(sumDy!, k)) : null,
    needs[4] ? g.Div(g.Mul(sumDyXhat!, gamma), g.Mul(g.Add(variance, g.scalar(eps)), g.scalar(-2))) : null,
  ];
}

export const normRules: GradRuleTable = {
  BatchNormalization: (g, node, dys, needs) => {
    const training = node.getInt('training_mode', 0) === 1 || node.outputs.length > 1;
    if (training) return batchNormTraining(g, node, dys, needs);
    return batchNormInference(g, node, dys[0]!, needs);
  },

  LayerNormalization: (g, node, dys, needs) => {
    const [x, gamma, beta] = [node.input(0)!, node.input(1)!, node.input(2)];
    const xs = staticShape(x, node);
    const rank = xs.length;
    const axis = node.getInt('axis', -1) < 0 ? node.getInt('axis', -1) + rank : node.getInt('axis', -1);
    const axes = range(axis, rank);
    const lead = range(0, axis);
    const m = xs.slice(axis).reduce((a, b) => a * b, 1);
    const eps = node.getFloat('epsilon', 1e-5);
    const [dy, dMean, dInv] = [dys[0] ?? null, dys[1] ?? null, dys[2] ?? null];

    const mean = g.ReduceMean(x, axes, { keepdims: 1 });
    const xc = g.Sub(x, mean);
    const inv = g.Reciprocal(g.Sqrt(g.Add(g.ReduceMean(g.Mul(xc, xc), axes, { keepdims: 1 }), g.scalar(eps))));
    const xhat = g.Mul(xc, inv);
    const sumLead = (v: Value) => (lead.length ? g.ReduceSum(v, lead, { keepdims: 1 }) : v);

    let dx: Value | null = null;
    if (needs[0]) {
      const terms: Value[] = [];
      if (dy) {
        const gh = g.Mul(dy, gamma);
        const centred = g.Sub(g.Sub(gh, g.ReduceMean(gh, axes, { keepdims: 1 })), g.Mul(xhat, g.ReduceMean(g.Mul(gh, xhat), axes, { keepdims: 1 })));
        terms.push(g.Mul(centred, inv));
      }
      if (dMean) terms.push(g.Div(dMean, g.scalar(m)));
      if (dInv) terms.push(g.Mul(xc, g.Mul(g.Mul(dInv, g.Mul(inv, g.Mul(inv, inv))), g.scalar(-1 / m))));
      dx = terms.length === 1 ? terms[0]! : g.Sum(terms);
      // A Mean gradient alone has the statistics' shape: spread it over the normalised axes.
      if (!dy && !dInv) dx = g.Expand(dx, xs);
    }
    return [
      dx,
      needs[1] && dy ? sumLead(g.Mul(dy, xhat)) : null,
      beta && needs[2] && dy ? sumLead(dy) : null,
    ];
  },
};
