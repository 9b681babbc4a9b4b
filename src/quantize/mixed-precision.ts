/**
 * Mixed precision under an accuracy budget (`lithe quantize --max-drop PP --eval DATASET`):
 *
 *   drop(m) = (top1(float) − top1(m)) · 100   percentage points on the evaluation data
 *   q ← static int8 of everything;  while drop(q) > PP and an int8 unit remains:
 *       send the most sensitive remaining unit (lowest SQNR, sensitivity.ts) back to float;
 *       q ← static int8 with it excluded; evaluate again
 *
 * Greedy by the one-at-a-time sensitivity ranking, computed once: a unit's SQNR predicts the
 * error it adds on its own, and re-ranking after each exclusion would cost a full analysis per
 * step. Every candidate model is a plain quantizeStatic run (same plan, same calibration), so
 * what is returned is exactly what `--exclude` with the reported names would give. When no
 * unit is left the last model (all float units) is returned with `met: false`.
 */
import type { Preprocess } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../graph/ir.js';
import { evaluateOnDataset } from '../runtime/dataset-eval.js';
import type { FeedSource } from './collect.js';
import { analyzeSensitivity, type SensitivityResult } from './sensitivity.js';
import { quantizeStatic, type QuantizeReport, type StaticOptions } from './static.js';

export interface MixedPrecisionStep {
  /** The unit sent back to float at this step (null: the first, fully int8 model). */
  excluded: { node: string; opType: string; sqnrDb: number; mse: number } | null;
  top1: number;
  dropPp: number;
}

export interface MixedPrecisionResult {
  model: Model;
  report: QuantizeReport;
  sensitivity: SensitivityResult;
  floatTop1: number;
  maxDropPp: number;
  steps: MixedPrecisionStep[];
  /** Nodes returned to float by the search, each with why (beyond the user's --exclude). */
  excluded: { node: string; opType: string; sqnrDb: number; mse: number; reason: string }[];
  top1: number;
  dropPp: number;
  met: boolean;
}

export interface MixedPrecisionOptions extends StaticOptions {
  maxDropPp: number;
  /** Top-1 accuracy in [0, 1] of a model on the evaluation data. */
  accuracy: (model: Model, label: string) => Promise<number>;
  /** A sensitivity analysis already run with the same options (else run here). */
  sensitivity?: SensitivityResult;
  onStep?: (step: MixedPrecisionStep) => void;
}

// accuracies are k/N; a drop equal to the budget must not fail by float rounding
const EPS_PP = 1e-9;

export async function quantizeMixedPrecision(input: Model, calibration: FeedSource, opts: MixedPrecisionOptions): Promise<MixedPrecisionResult> {
  const { accuracy, maxDropPp, onStep, ...staticOpts } = opts;
  const sensitivity = opts.sensitivity ?? (await analyzeSensitivity(input, calibration, staticOpts));
  // every step's plan reads ranges the sensitivity analysis measured: no step calibrates again
  const calibrated = staticOpts.calibration ?? sensitivity.calibration;
  const floatTop1 = await accuracy(input, 'float model');
  const exclude = [...(opts.exclude ?? [])];
  const steps: MixedPrecisionStep[] = [];
  const excluded: MixedPrecisionResult['excluded'] = [];
  const queue = sensitivity.rows.filter((r) => !exclude.includes(r.node));
  const step = async (row: (typeof queue)[number] | null) => {
    const q = await quantizeStatic(input, calibration, { ...staticOpts, exclude, onBatch: undefined, calibration: calibrated });
    const top1 = await accuracy(q.model, row ? `without ${row.node}` : 'int8 model');
    const s: MixedPrecisionStep = { excluded: row && { node: row.node, opType: row.opType, sqnrDb: row.sqnrDb, mse: row.mse }, top1, dropPp: (floatTop1 - top1) * 100 };
    steps.push(s);
    onStep?.(s);
    return q;
  };
  let q = await step(null);
  while (steps.at(-1)!.dropPp > maxDropPp + EPS_PP && queue.length) {
    const row = queue.shift()!;
    const before = steps.at(-1)!;
    excluded.push({
      node: row.node,
      opType: row.opType,
      sqnrDb: row.sqnrDb,
      mse: row.mse,
      reason: `lowest SQNR of the int8 nodes left (${row.sqnrDb.toFixed(1)} dB alone); drop was ${before.dropPp.toFixed(2)} pp > ${maxDropPp} pp`,
    });
    exclude.push(row.node);
    q = await step(row);
  }
  const last = steps.at(-1)!;
  for (const x of excluded) {
    const n = q.report.nodes.find((r) => r.name === x.node);
    if (n) n.reason = `returned to float by --max-drop: ${x.reason}`;
  }
  return { model: q.model, report: q.report, sensitivity, floatTop1, maxDropPp, steps, excluded, top1: last.top1, dropPp: last.dropPp, met: last.dropPp <= maxDropPp + EPS_PP };
}

/**
 * Top-1 of a model on a labelled dataset (runtime/dataset-eval.ts), with the preprocessing of the
 * calibration feeds (default pixel / 255, the layout the model's input says).
 */
export function datasetAccuracy(
  ds: Dataset,
  opts: { batchSize?: number; subset?: Uint32Array; threads?: number; preprocess?: Preprocess; onBatch?: (n: number) => void } = {},
): (model: Model, label: string) => Promise<number> {
  return async (model, label) => {
    const r = await evaluateOnDataset(model, `${label} on ${ds.name}`, ds, { ...opts.preprocess, batch: opts.batchSize ?? 64, subset: opts.subset, threads: opts.threads, onBatch: opts.onBatch });
    return r.top1;
  };
}
