/**
 * Optimizers inside the training graph: each parameter w with gradient g gets its update as ONNX
 * nodes, so one ORT run does forward, backward and step. `lr` and `step` (t = 1, 2, …) are scalar
 * graph inputs, so schedules are a feed; state tensors are inputs and their new values outputs.
 * Formulas follow PyTorch (torch.optim), so a recipe means the same thing in both:
 *
 *   SGD    g′ = g + λ·w;  v′ = μ·v + g′;  d = nesterov ? g′ + μ·v′ : v′ (μ = 0: d = g′);  w′ = w − lr·d
 *   Adam   g′ = g + λ·w;  m′ = β₁m + (1−β₁)g′;  v′ = β₂v + (1−β₂)g′²
 *          w′ = w − (lr/(1−β₁ᵗ)) · m′ / (√v′/√(1−β₂ᵗ) + ε)
 *   AdamW  as Adam with g′ = g, and decoupled decay first: w ← w·(1 − lr·λ)
 *
 * The bias-correction scalars are computed once per step and shared by every parameter; Adam
 * folds √(1−β₂ᵗ) into them, w′ = w − α̂·m′/(√v′ + ε̂) with α̂ = lr·√(1−β₂ᵗ)/(1−β₁ᵗ) and
 * ε̂ = ε·√(1−β₂ᵗ) (the same value, one tensor-sized Mul less per parameter). With
 * `beta1Input`, β₁ is the scalar graph input `beta1` fed each step (one-cycle momentum, as
 * PyTorch's OneCycleLR sets betas[0]); bias correction then uses the current β₁, as torch.optim.Adam does.
 */
import { LitheError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';

export type OptimizerName = 'none' | 'sgd' | 'adam' | 'adamw';

export interface OptimizerConfig {
  name: OptimizerName;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam/AdamW: take β₁ from the scalar graph input `beta1` (fed per step) instead of a constant. */
  beta1Input?: boolean;
}

export interface ParamUpdate {
  param: Value;
  /** New values of the state inputs, same order as `stateNames`. */
  state: Value[];
}

export interface Optimizer {
  /** Suffixes of the state tensors per parameter (`w.m`, `w.v`), each shaped like w, zero at start. */
  stateNames: string[];
  /** Emits the per-step scalars (bias corrections); called once. */
  prepare(g: GraphBuilder, lr: Value, step: Value): void;
  update(g: GraphBuilder, w: Value, grad: Value, state: Value[]): ParamUpdate;
}

export function makeOptimizer(cfg: OptimizerConfig): Optimizer {
  const wd = cfg.weightDecay ?? 0;
  switch (cfg.name) {
    case 'sgd':
      return sgd(cfg.momentum ?? 0, cfg.nesterov ?? false, wd);
    case 'adam':
    case 'adamw':
      return adam(cfg.beta1 ?? 0.9, cfg.beta2 ?? 0.999, cfg.eps ?? 1e-8, wd, cfg.name === 'adamw', cfg.beta1Input ?? false);
    default:
      throw new LitheError('E_USAGE', `unknown optimizer '${cfg.name}'. Known: sgd, adam, adamw`);
  }
}

function decayed(g: GraphBuilder, grad: Value, w: Value, wd: number): Value {
  return wd ? g.Add(grad, g.Mul(w, g.scalar(wd))) : grad;
}

function sgd(mu: number, nesterov: boolean, wd: number): Optimizer {
  if (nesterov && mu <= 0) throw new LitheError('E_USAGE', 'Nesterov momentum needs --momentum > 0');
  let lr: Value;
  return {
    stateNames: mu ? ['momentum'] : [],
    prepare(_g, lrIn) {
      lr = lrIn;
    },
    update(g, w, grad, state) {
      const g1 = decayed(g, grad, w, wd);
      if (!mu) return { param: g.Sub(w, g.Mul(g1, lr)), state: [] };
      const v = g.Add(g.Mul(state[0]!, g.scalar(mu)), g1);
      const d = nesterov ? g.Add(g1, g.Mul(v, g.scalar(mu))) : v;
      return { param: g.Sub(w, g.Mul(d, lr)), state: [v] };
    },
  };
}

function adam(b1: number, b2: number, eps: number, wd: number, decoupled: boolean, fedBeta1: boolean): Optimizer {
  let beta1: Value; // β₁, and 1 − β₁
  let oneMinusBeta1: Value;
  let stepSize: Value; // α̂ = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
  let epsHat: Value; // ε̂ = ε·√(1 − β₂ᵗ)
  let decay: Value | null = null; // 1 − lr·λ
  return {
    stateNames: ['m', 'v'],
    prepare(g, lr, step) {
      const one = g.scalar(1);
      beta1 = fedBeta1 ? g.input('beta1', DataType.FLOAT, []) : g.scalar(b1);
      oneMinusBeta1 = fedBeta1 ? g.Sub(one, beta1, { name: 'adam.one_minus_beta1' }) : g.scalar(1 - b1);
      const sqrtBc2 = g.Sqrt(g.Sub(one, g.Pow(g.scalar(b2), step)), { name: 'adam.sqrt_bc2' });
      stepSize = g.Div(g.Mul(lr, sqrtBc2), g.Sub(one, g.Pow(beta1, step)), { name: 'adam.step_size' });
      epsHat = g.Mul(g.scalar(eps), sqrtBc2, { name: 'adam.eps' });
      if (decoupled && wd) decay = g.Sub(one, g.Mul(lr, g.scalar(wd)), { name: 'adamw.decay' });
    },
    update(g, w, grad, [m, v]) {
      const g1 = decoupled ? grad : decayed(g, grad, w, wd);
      const m1 = g.Add(g.Mul(m!, beta1), g.Mul(g1, oneMinusBeta1));
      const v1 = g.Add(g.Mul(v!, g.scalar(b2)), g.Mul(g.Mul(g1, g1), g.scalar(1 - b2)));
      const denom = g.Add(g.Sqrt(v1), epsHat);
      const w0 = decay ? g.Mul(w, decay) : w;
      return { param: g.Sub(w0, g.Mul(g.Div(m1, denom), stepSize)), state: [m1, v1] };
    },
  };
}
