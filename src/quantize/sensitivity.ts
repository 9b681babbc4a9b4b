/**
 * Per-node sensitivity to static int8 quantization: quantize one unit at a time, everything else
 * float, and measure how far the model's output moves from the float model's on the calibration
 * batches, all run by onnxruntime (graph optimization on, so ORT's int8 kernels are what is
 * measured, saturation included):
 *
 *   SQNR = 10·log10( Σ y² / Σ (y − ŷ)² ) dB      MSE = Σ (y − ŷ)² / |y|
 *
 * y the float model's first output, ŷ the output with one unit quantized. A unit is a node the
 * full static plan quantizes (Conv, Gemm, Add, MaxPool, …) together with the Relu/Clip that the
 * plan absorbs into it; it is quantized exactly as the full run would (plan.ts with every other
 * node excluded, then qdq.ts through static.ts's applyPlan). Ranges are calibrated once, for the
 * union of the tensors any unit's plan needs, so a unit's scales equal the full run's.
 *
 * Rows are sorted by SQNR ascending: the most sensitive unit first. Units whose node has no name
 * cannot be named in --exclude and are skipped (listed in `notes`).
 */
import type { Model } from '../graph/ir.js';
import { cloneModel, serializeModel } from '../onnx/io.js';
import { createSession } from '../runtime/session.js';
import type { CalibrationMethod } from './calibrate.js';
import type { FeedSource } from './collect.js';
import { planStatic, type Plan } from './plan.js';
import { applyPlan, calibrate, prepareStatic, type Calibration, type StaticOptions } from './static.js';
import { sqnrDb, top1Agreement } from './verify.js';

export interface OutputError {
  sqnrDb: number;
  mse: number;
  /** Fraction of samples whose argmax over the last axis is the float model's. */
  top1Agreement: number;
}

export interface SensitivityRow extends OutputError {
  /** The unit's node (the name --exclude takes). */
  node: string;
  opType: string;
  /** Nodes quantized with it (the node and an absorbed Relu/Clip). */
  members: string[];
}

export interface SensitivityResult {
  /** Most sensitive first (lowest SQNR). */
  rows: SensitivityRow[];
  /** Every unit quantized at once (the full static model). */
  all: OutputError;
  method: CalibrationMethod;
  batches: number;
  samples: number;
  notes: string[];
  /**
   * The ranges measured for every tensor any unit's plan or the full plan needs: pass them as
   * `calibration` to quantizeStatic (or mixed precision) on the same data to skip calibrating again.
   * Not part of the report.
   */
  calibration: Calibration;
}

export interface SensitivityOptions extends StaticOptions {
  /** Called after each unit is measured. */
  onUnit?: (done: number, total: number, row: SensitivityRow) => void;
}

interface Unit {
  node: string;
  opType: string;
  members: string[];
}

/** Units of a full plan: each quantized non-activation node with the activations attached to it. */
export function quantizableUnits(plan: Plan): { units: Unit[]; unnamed: string[] } {
  const units = new Map<string, Unit>();
  const unnamed: string[] = [];
  for (const d of plan.decisions) {
    if (!d.quantized || d.family === 'activation') continue;
    if (!d.node.name) unnamed.push(`${d.node.opType} → ${d.node.output(0).name}`);
    else units.set(d.node.name, { node: d.node.name, opType: d.node.opType, members: [d.node.name] });
  }
  for (const d of plan.decisions) {
    if (!d.quantized || d.family !== 'activation') continue;
    const p = d.node.input(0)?.producer();
    const u = p?.name ? units.get(p.name) : undefined;
    if (u && d.node.name) u.members.push(d.node.name);
  }
  return { units: [...units.values()], unnamed };
}

async function firstOutputs(model: Model, feeds: FeedSource, threads: number | undefined): Promise<{ data: Float32Array[]; classes: number }> {
  const session = await createSession(serializeModel(model), { label: `model "${model.graph.name}"`, threads });
  try {
    const name = session.outputNames[0]!;
    const data: Float32Array[] = [];
    let classes = 1;
    for await (const f of feeds()) {
      const t = (await session.run(f, [name]))[name]!;
      data.push(Float32Array.from(t.data as Float32Array));
      classes = t.dims[t.dims.length - 1] ?? 1;
    }
    return { data, classes };
  } finally {
    await session.release();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (all.set(p, at), (at += p.length));
  return all;
}

export function outputError(ref: Float32Array, got: Float32Array, classes: number): OutputError {
  let e = 0;
  for (let i = 0; i < ref.length; i++) e += (ref[i]! - got[i]!) ** 2;
  return { sqnrDb: sqnrDb(ref, got), mse: e / ref.length, top1Agreement: top1Agreement(ref, got, classes) };
}

export async function analyzeSensitivity(input: Model, calibration: FeedSource, opts: SensitivityOptions = {}): Promise<SensitivityResult> {
  const prep = prepareStatic(input, opts);
  const planOpts = { ...opts, symmetricActivations: prep.qdq.symmetricActivations };
  const full = planStatic(prep.model, planOpts);
  const { units, unnamed } = quantizableUnits(full);
  const allNames = prep.model.graph.nodes.map((n) => n.name);
  const planFor = (model: Model, unit: Unit | null) =>
    planStatic(model, unit ? { ...planOpts, exclude: [...(opts.exclude ?? []), ...allNames.filter((n) => !unit.members.includes(n))] } : planOpts);

  // one calibration for every tensor any unit's plan (or the full plan) reads a range of
  const tensors = new Set(full.calibrate.map((v) => v.name));
  for (const u of units) for (const v of planFor(prep.model, u).calibrate) tensors.add(v.name);
  const calibrated = await calibrate(prep.model, [...tensors], calibration, opts);
  const { ranges, stats } = calibrated;

  const ref = await firstOutputs(input, calibration, opts.threads);
  const y = concat(ref.data);
  const measure = async (unit: Unit | null): Promise<OutputError> => {
    const model = cloneModel(prep.model);
    const plan = planFor(model, unit);
    applyPlan(model, plan, new Map(plan.calibrate.map((v) => [v, ranges.get(v.name)!] as const)), prep.qdq);
    return outputError(y, concat((await firstOutputs(model, calibration, opts.threads)).data), ref.classes);
  };

  const rows: SensitivityRow[] = [];
  for (const u of units) {
    rows.push({ node: u.node, opType: u.opType, members: u.members, ...(await measure(u)) });
    opts.onUnit?.(rows.length, units.length, rows.at(-1)!);
  }
  rows.sort((a, b) => a.sqnrDb - b.sqnrDb || b.mse - a.mse);
  const notes = unnamed.length ? [`${unnamed.length} quantizable node(s) without a name were not analysed (--exclude cannot name them): ${unnamed.join(', ')}`] : [];
  return { rows, all: await measure(null), method: stats.method, batches: stats.batches, samples: stats.samples, notes, calibration: calibrated };
}
