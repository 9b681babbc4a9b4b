/**
 * Static (calibrated) int8 quantization in QDQ format:
 *
 *   copy → fold BatchNorm into Conv → plan (plan.ts) → calibrate the planned tensors on the
 *   folded float model (collect.ts) → insert Q/DQ, int8 weights, int32 biases (qdq.ts) → DCE
 *
 * The input model is never modified. The report lists every node with the reason it is int8
 * or float, for the CLI summary and for `--exclude` decisions.
 */
import { LitheError } from '../errors.js';
import type { Model, Value } from '../graph/ir.js';
import { PassManager } from '../graph/pass.js';
import { cloneModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { eliminateDeadCode } from '../passes/eliminate-dead-code.js';
import { foldBatchNorm } from '../passes/fold-batchnorm.js';
import type { CalibrationMethod, Range } from './calibrate.js';
import { collectRanges, type CalibrationProgress, type FeedSource } from './collect.js';
import { DEFAULT_QDQ, insertQdq, shieldFloatNodes, type QdqOptions } from './qdq.js';
import { planStatic, unknownNodeNames, type Plan, type PlanOptions } from './plan.js';

export interface NodeReport {
  name: string;
  opType: string;
  quantized: boolean;
  reason: string;
}

export interface CalibrationStats {
  method: CalibrationMethod;
  tensors: number;
  batches: number;
  samples: number;
}

export interface QuantizeReport {
  mode: 'static' | 'dynamic' | 'fp16';
  nodes: NodeReport[];
  /** What the preparation passes did or why they left things alone. */
  notes: string[];
  calibration?: CalibrationStats;
}

/** Ranges measured on some calibration data, by tensor name, and what that calibration saw. */
export interface Calibration {
  ranges: ReadonlyMap<string, Range>;
  stats: CalibrationStats;
}

export interface StaticOptions extends Partial<QdqOptions>, PlanOptions {
  method?: CalibrationMethod;
  percentile?: number;
  onBatch?: (p: CalibrationProgress) => void;
  threads?: number;
  /**
   * Ranges already measured with the same method on the same calibration data (sensitivity
   * analysis measures a superset): tensors found there are not measured again. Each tensor's range
   * depends on its own values only, so a reused range is the one a fresh run would measure.
   */
  calibration?: Calibration;
}

/** A deep copy through the serializer, so that the caller's model is never touched. */
export { cloneModel };

/** Input checks shared by every mode: float weights present, --exclude names known. */
export function checkQuantizable(model: Model, exclude: readonly string[] = []): void {
  const unknown = unknownNodeNames(model, exclude);
  if (unknown.length) throw new LitheError('E_USAGE', `--exclude: no node named ${unknown.map((n) => `'${n}'`).join(', ')} in the model`);
  const hasFloatWeights = [...model.graph.initializers.values()].some((v) => v.initializer!.dtype === DataType.FLOAT && v.initializer!.size > 1);
  if (!hasFloatWeights) throw new LitheError('E_BAD_MODEL', 'the model has no float32 weights to quantize (already quantized or fp16?)');
}

/** The float model every static plan works on (static, sensitivity, QAT): checked, copied, BatchNorm folded into Conv. */
export function prepareStatic(input: Model, opts: StaticOptions = {}, what = 'static quantization'): { model: Model; notes: string[]; qdq: QdqOptions } {
  checkQuantizable(input, opts.exclude);
  const opset = input.opset('') ?? 0;
  if (opset < 13) throw new LitheError('E_UNSUPPORTED_OP', `${what} needs opset ≥ 13 (per-channel QuantizeLinear/DequantizeLinear); the model has opset ${opset}`);
  const model = cloneModel(input);
  const prep = new PassManager([foldBatchNorm]).run(model);
  return { model, notes: prep.notes ?? [], qdq: { ...DEFAULT_QDQ, ...stripUndefined(opts) } };
}

/**
 * Calibrates the tensors `names` of the prepared model (collect.ts): ranges by name, and what the
 * calibration saw. Ranges in `opts.calibration` are reused; the data is run only for the rest.
 */
export async function calibrate(model: Model, names: readonly string[], calibration: FeedSource, opts: StaticOptions): Promise<Calibration> {
  const method = opts.method ?? 'minmax';
  const known = opts.calibration;
  if (known && known.stats.method !== method) throw new Error(`calibration: ranges measured with ${known.stats.method} reused for ${method}`);
  const missing = names.filter((n) => !known?.ranges.has(n));
  if (known && missing.length === 0) return { ranges: known.ranges, stats: { ...known.stats, tensors: names.length } };
  const stats: CalibrationStats = { method, tensors: names.length, batches: 0, samples: 0 };
  const measured = await collectRanges(model, missing, calibration, {
    method: stats.method,
    percentile: opts.percentile,
    threads: opts.threads,
    onBatch: (p) => {
      if (p.pass === 1) (stats.batches = p.batch), (stats.samples = p.samples);
      opts.onBatch?.(p);
    },
  });
  return { ranges: new Map([...(known?.ranges ?? []), ...measured]), stats };
}

/** Carries out `plan` on its (prepared) model in place: Q/DQ, int8 weights, shields, DCE. */
export function applyPlan(model: Model, plan: Plan, ranges: ReadonlyMap<Value, Range>, qdq: QdqOptions): void {
  insertQdq(model, plan, ranges, qdq);
  shieldFloatNodes(model, plan);
  eliminateDeadCode.run(model);
}

export async function quantizeStatic(input: Model, calibration: FeedSource, opts: StaticOptions = {}): Promise<{ model: Model; report: QuantizeReport }> {
  const { model, notes, qdq: qdqOpts } = prepareStatic(input, opts);
  const plan = planStatic(model, { ...opts, symmetricActivations: qdqOpts.symmetricActivations });
  const { ranges: byName, stats } = await calibrate(model, plan.calibrate.map((v) => v.name), calibration, opts);
  const ranges = new Map(plan.calibrate.map((v) => [v, byName.get(v.name)!] as const));
  applyPlan(model, plan, ranges, qdqOpts);
  const nodes = plan.decisions.map((d) => ({ name: d.node.name, opType: d.node.opType, quantized: d.quantized, reason: d.reason }));
  return { model, report: { mode: 'static', nodes, notes, calibration: stats } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
