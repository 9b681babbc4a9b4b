/**
 * The Pareto frontier of accuracy against a cost (size, latency):
 *
 *   point i is on the frontier  ⇔  no j ≠ i has  acc_j ≥ acc_i  and  cost_j ≤ cost_i
 *                                                with at least one of the two strict
 *
 * i.e. no other point is both at least as accurate and at most as costly, and better in one.
 * (Two identical points are both on it: neither is better in anything.) The frontier is what a
 * user can buy: every point off it is beaten by one on it.
 *
 * O(n²) on purpose: a pipeline has a handful of steps.
 */

export interface TradeoffPoint {
  accuracy: number;
  cost: number;
}

export function dominates(a: TradeoffPoint, b: TradeoffPoint): boolean {
  return a.accuracy >= b.accuracy && a.cost <= b.cost && (a.accuracy > b.accuracy || a.cost < b.cost);
}

/** One flag per point, in the input's order: true when the point is on the frontier. */
export function paretoFrontier(points: readonly TradeoffPoint[]): boolean[] {
  return points.map((p, i) => !points.some((q, j) => j !== i && dominates(q, p)));
}
