/**
 * Sparsity schedules: the target sparsity at each of K pruning steps (each step prunes to its
 * target, keeping what earlier steps pruned, then fine-tunes for its share of the budget).
 *
 *   oneshot      K = 1: [s_f]
 *   iterative    each step removes the same fraction p of the weights still alive:
 *                s_k = 1 − (1 − s_f)^(k/K), k = 1…K   (p = 1 − (1 − s_f)^(1/K); Han et al. 2015,
 *                the lottery-ticket recipe); s_K = s_f exactly
 *   polynomial   TF-MOT PolynomialDecay: s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(t₁ − t₀))^3 for
 *                t ∈ [t₀, t₁], s_i before, s_f after. Over K mask updates at fine-tuning steps
 *                t_k = k·T/K (k = 0…K−1) with t₀ = 0 and t₁ = t_{K−1}: the first update prunes to
 *                s_i, the last to s_f, and the last segment fine-tunes at s_f.
 */
import { LitheError } from '../errors.js';

export const SCHEDULES = ['oneshot', 'iterative', 'polynomial'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface PolynomialDecay {
  initial: number;
  final: number;
  begin: number;
  end: number;
  power?: number;
}

/** TF-MOT's PolynomialDecay at step t. */
export function polynomialSparsity(t: number, p: PolynomialDecay): number {
  const power = p.power ?? 3;
  if (p.end <= p.begin) return t < p.begin ? p.initial : p.final;
  const x = Math.min(1, Math.max(0, (t - p.begin) / (p.end - p.begin)));
  return p.final + (p.initial - p.final) * (1 - x) ** power;
}

/** Target sparsity of each of the `steps` pruning steps. */
export function sparsitySchedule(name: ScheduleName, final: number, steps = 1, initial = 0): number[] {
  if (!(final >= 0 && final <= 1)) throw new LitheError('E_USAGE', `sparsity must be in [0, 1], got ${final}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new LitheError('E_USAGE', `--steps must be a positive integer, got ${steps}`);
  if (name === 'oneshot') return [final];
  if (name === 'iterative') return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? final : 1 - (1 - final) ** ((i + 1) / steps)));
  // polynomial: t_k = k over K updates, t₀ = 0, t₁ = K − 1
  return Array.from({ length: steps }, (_, k) => (steps === 1 ? final : polynomialSparsity(k, { initial, final, begin: 0, end: steps - 1 })));
}
