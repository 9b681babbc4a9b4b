/**
 * The shared gradient check: every rule against central finite differences, run in ONNX Runtime.
 *
 * Usage (a rule family's test file):
 *
 *   import { gradcheckTests, type GradCase } from '../gradcheck.js';
 *   import { RULES } from './index.js';
 *   const CASES: GradCase[] = [
 *     { name: 'Relu', build: (g) => g.output(g.Relu(g.input('x', DataType.FLOAT, [2, 3])), 'y') },
 *     { name: 'Conv/stride2', build: (g) => { const x = g.input('x', F, [1, 2, 5, 5]);
 *         g.output(g.Conv(x, g.initializer('w', w, [3, 2, 3, 3]), null, { strides: [2, 2] }), 'y'); } },
 *     { name: 'MaxPool/ties', build, inputs: { x: [0, 0, 1, 1] }, expect: { x: [1, 0, 0, 0] } },
 *   ];
 *   gradcheckTests(CASES, { rules: RULES, skip: [{ reason: 'ORT has no ... yet', ops: ['Foo'] }] });
 *
 * Or call `await gradcheck(c, { rules })` and read the report. What is compared, per case:
 *
 *   loss        L = Σₖ Σᵢ yₖ[i]·rₖ[i], rₖ ~ N(0,1) fixed, over every float output yₖ, so that every
 *               output element matters; the analytic side is appendBackward(L) run in ORT, float32
 *   numeric     (L(w + ε·eᵢ) − L(w − ε·eᵢ)) / 2ε with the forward model run in ORT, in float64
 *               when ORT CPU has double kernels for every op (ε = 1e-6), else float32 (ε = 1e-2)
 *   wrt         every float graph input and named initializer (not builder constants), or `wrt`;
 *               at most `maxElements` (default 24) elements per tensor, picked at random
 *   expect      given instead of finite differences where those cannot decide (ties: at a kink the
 *               one-sided derivatives differ and the central difference is their mean); with
 *               `expect`, r = 1, so the expected gradient is that of L = Σ y
 *   error       rel = |a − n| / max(|n|, 1e-2·maxⱼ|nⱼ|, 1e-6): relative, floored at 1% of the
 *               tensor's largest gradient so that near-zero entries do not dominate
 *   tolerance   float64 numeric: 1e-3 (the analytic side is float32; its rounding, ~1e-6 relative
 *               per op, stays far below). float32 numeric: 2e-2 (rounding noise in L of
 *               ~6e-8·√n·|y·r| divided by 2ε = 2e-2 gives ~1e-4·√n relative to O(1) gradients, and the
 *               O(ε²) truncation term ~1e-4). Elements where the forward and backward one-sided
 *               differences disagree by more than 5% of max(|n|, 10% of the tensor's largest) sit on a kink
 *               (ReLU at 0, a max changing hands) within ε; they are skipped and counted as `kinks`.
 *               (A network of Conv/Gemm/ReLU/MaxPool is piecewise linear in any one weight, so away
 *               from kinks the two one-sided differences agree to rounding.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../graph/builder.js';
import type { Model, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { cloneModel as clone } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { Rng } from '../data/rng.js';
import { createSession, type Session } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { appendBackward, initializersToInputs, isFloat, staticShape } from './autodiff.js';
import type { GradRuleTable } from './rule.js';

export interface GradCase {
  name: string;
  /** Builds the float32 forward graph: inputs with g.input (static shapes), outputs with g.output. */
  build?: (g: GraphBuilder) => void;
  /** Or a whole model (static shapes), e.g. an architecture with its batch dim bound. */
  model?: () => Model;
  /** Values of graph inputs, flat; float inputs not given are drawn from N(0,1); int inputs must be given. */
  inputs?: Record<string, ArrayLike<number>>;
  /** Graph inputs or initializers to differentiate (default: all float inputs and named initializers). */
  wrt?: string[];
  /** Exact gradients of L = Σ y (r = 1) by name, all elements, used instead of finite differences. */
  expect?: Record<string, ArrayLike<number>>;
  opset?: number;
  /** Finite-difference step (default 1e-6 in float64, 1e-2 in float32). */
  eps?: number;
  tol?: number;
  maxElements?: number;
  /** Force float32 finite differences even when ORT has double kernels. */
  float32?: boolean;
  seed?: number;
}

export interface Skip {
  reason: string;
  ops: string[];
}

export interface InputReport {
  name: string;
  elements: number;
  checked: number;
  kinks: number;
  maxAbs: number;
  maxRel: number;
}

export interface GradcheckReport {
  name: string;
  ops: string[];
  reference: 'float64' | 'float32' | 'expected';
  tol: number;
  inputs: InputReport[];
  ok: boolean;
}

export interface GradcheckOptions {
  rules: GradRuleTable;
}

const builderConstant = /^const(_\d+)?$/;

/** Runs one case: analytic gradients (float32, ORT) against finite differences or `expect`. */
export async function gradcheck(c: GradCase, opts: GradcheckOptions): Promise<GradcheckReport> {
  const fwd = buildForward(c);
  const rng = new Rng(c.seed ?? 1234);
  const graph = fwd.graph;
  const wrt = c.wrt ?? [
    ...graph.inputs.filter((v) => isFloat(v) && !v.initializer).map((v) => v.name),
    ...[...graph.initializers.values()].filter((v) => isFloat(v) && !builderConstant.test(v.name)).map((v) => v.name),
  ];
  const feeds: Record<string, HostTensor> = {};
  for (const v of graph.inputs) {
    if (v.initializer) continue;
    const dims = staticShape(v, `gradcheck ${c.name}`);
    const given = c.inputs?.[v.name];
    const n = dims.reduce((a, b) => a * b, 1);
    if (!isFloat(v) && !given) throw new Error(`gradcheck ${c.name}: integer input "${v.name}" needs values`);
    feeds[v.name] = hostOf(v.dtype!, dims, given ?? Array.from({ length: n }, () => rng.normal()));
  }
  for (const name of wrt) {
    const init = graph.initializers.get(name)?.initializer;
    if (init) feeds[name] = hostOf(init.dtype, init.dims, init.toArray() as Float32Array);
    else if (!feeds[name]) throw new Error(`gradcheck ${c.name}: "${name}" is neither a graph input nor an initializer`);
  }
  const outs = graph.outputs.filter(isFloat);
  const rs = outs.map((y) => {
    const dims = staticShape(y, `gradcheck ${c.name}`);
    return hostOf(DataType.FLOAT, dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (c.expect ? 1 : rng.normal())));
  });

  // analytic: L = Σ ReduceSum(y·r), backward, grads as outputs
  const gm = clone(fwd);
  initializersToInputs(gm.graph, wrt.filter((n) => gm.graph.initializers.has(n)));
  const gb = GraphBuilder.edit(gm);
  const terms = gm.graph.outputs.filter(isFloat).map((y, k) => {
    const r = gb.input(`gradcheck.r${k}`, DataType.FLOAT, rs[k]!.dims);
    return gb.ReduceSum(gb.Mul(y, r), undefined, { keepdims: 0 });
  });
  const loss = terms.length === 1 ? terms[0]! : gb.Sum(terms);
  const wrtValues = wrt.map((n) => gm.graph.findValue(n)!);
  const grads = appendBackward(gb, loss, wrtValues, { rules: opts.rules });
  gm.graph.outputs.splice(0);
  grads.forEach((d, i) => gb.output(gb.Identity(d), `grad.${wrt[i]}`));
  const rFeeds = Object.fromEntries(rs.map((r, k) => [`gradcheck.r${k}`, r]));
  const gs = await createSession(gm, { label: `gradcheck ${c.name} (backward)` });
  const analytic = await gs.run({ ...feeds, ...rFeeds });
  await gs.release();

  const ops = [...new Set(graph.nodes.map((n) => n.opType))];
  const inputs: InputReport[] = [];
  if (c.expect) {
    const tol = c.tol ?? 1e-5;
    for (const name of wrt) {
      const want = c.expect[name];
      if (!want) continue;
      const a = analytic[`grad.${name}`]!.data as Float32Array;
      inputs.push(compare(name, a, [...a.keys()], (i) => want[i]!, 0));
    }
    return { name: c.name, ops, reference: 'expected', tol, inputs, ok: inputs.every((r) => r.maxRel <= tol) };
  }

  // numeric: the forward model with the checked initializers as inputs, float64 when ORT can
  const fm = clone(fwd);
  initializersToInputs(fm.graph, wrt.filter((n) => fm.graph.initializers.has(n)));
  let session: Session | undefined;
  let reference: 'float64' | 'float32' = 'float32';
  if (!c.float32) {
    try {
      session = await createSession(toFloat64(clone(fm)), { label: `gradcheck ${c.name} (float64)` });
      reference = 'float64';
    } catch {
      session = undefined; // some op has no double kernel in ORT CPU: fall back to float32
    }
  }
  session ??= await createSession(fm, { label: `gradcheck ${c.name} (float32)` });
  const eps = c.eps ?? (reference === 'float64' ? 1e-6 : 1e-2);
  const tol = c.tol ?? (reference === 'float64' ? 1e-3 : 2e-2);
  const base = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, reference === 'float64' && t.dtype === DataType.FLOAT ? toF64(t) : t]));
  const outNames = outs.map((y) => y.name);
  const lossAt = async (f: Record<string, HostTensor>): Promise<number> => {
    const y = await session!.run(f, outNames);
    let L = 0;
    outNames.forEach((n, k) => {
      const yd = y[n]!.data as Float32Array | Float64Array;
      const rd = rs[k]!.data as Float32Array;
      for (let i = 0; i < yd.length; i++) L += yd[i]! * rd[i]!;
    });
    return L;
  };
  const L0 = await lossAt(base);
  for (const name of wrt) {
    const t = base[name]!;
    const data = t.data as Float32Array | Float64Array;
    const idx = pick(data.length, c.maxElements ?? 24, rng);
    const numeric = new Map<number, number>();
    const kinkGap = new Map<number, number>();
    for (const i of idx) {
      const x0 = data[i]!;
      const at = async (x: number): Promise<[number, number]> => {
        const d = data.slice() as Float32Array;
        d[i] = x;
        return [await lossAt({ ...base, [name]: { ...t, data: d } }), d[i]!]; // d[i]: x as stored (float32 rounds it)
      };
      const [lp, xp] = await at(x0 + eps);
      const [lm, xm] = await at(x0 - eps);
      numeric.set(i, (lp - lm) / (xp - xm));
      kinkGap.set(i, Math.abs((lp - L0) / (xp - x0) - (L0 - lm) / (x0 - xm)));
    }
    const a = analytic[`grad.${name}`]!.data as Float32Array;
    const scale = Math.max(...[...numeric.values()].map(Math.abs), 1e-6);
    const smooth = idx.filter((i) => kinkGap.get(i)! <= 0.05 * Math.max(Math.abs(numeric.get(i)!), 0.1 * scale));
    const r = compare(name, a, smooth, (i) => numeric.get(i)!, idx.length - smooth.length, scale);
    r.elements = data.length;
    inputs.push(r);
  }
  await session.release();
  return { name: c.name, ops, reference, tol, inputs, ok: inputs.every((r) => r.maxRel <= tol && r.checked > 0) };
}

function compare(name: string, a: Float32Array, idx: number[], want: (i: number) => number, kinks: number, scale?: number): InputReport {
  const s = scale ?? Math.max(...idx.map((i) => Math.abs(want(i))), 1e-6);
  let maxAbs = 0;
  let maxRel = 0;
  for (const i of idx) {
    const n = want(i);
    const err = Math.abs(a[i]! - n);
    maxAbs = Math.max(maxAbs, err);
    maxRel = Math.max(maxRel, err / Math.max(Math.abs(n), 1e-2 * s, 1e-6));
  }
  return { name, elements: a.length, checked: idx.length, kinks, maxAbs, maxRel };
}

/** One line per input: `Conv/stride2 [float64] x: 24/50 max abs 1.2e-7 rel 3.4e-6`. */
export function formatReport(r: GradcheckReport): string {
  return r.inputs
    .map((i) => `${r.name} [${r.reference}] ${i.name}: ${i.checked}/${i.elements}${i.kinks ? ` (${i.kinks} at kinks)` : ''} max abs ${i.maxAbs.toExponential(1)} rel ${i.maxRel.toExponential(1)} (tol ${r.tol})`)
    .join('\n');
}

/** The skip entry that applies to a case (it uses one of the entry's ops), if any. */
export function skipFor(c: GradCase, skip: readonly Skip[] = []): Skip | undefined {
  const ops = new Set(buildForward(c).graph.nodes.map((n) => n.opType));
  return skip.find((s) => s.ops.some((op) => ops.has(op)));
}

/**
 * Registers one node:test test per case. With GRADCHECK_LOG=path set, every report is appended to
 * that file as a JSON line (for coverage tables).
 */
export function gradcheckTests(cases: readonly GradCase[], opts: GradcheckOptions & { skip?: readonly Skip[] }): void {
  for (const c of cases) {
    test(`gradcheck ${c.name}`, async (t) => {
      const s = skipFor(c, opts.skip);
      if (s) return void t.skip(`${s.reason} (${s.ops.join(', ')})`);
      const r = await gradcheck(c, opts);
      const log = process.env.GRADCHECK_LOG;
      if (log) (await import('node:fs')).appendFileSync(log, JSON.stringify(r) + '\n');
      t.diagnostic(formatReport(r));
      assert.ok(r.ok, formatReport(r));
    });
  }
}

function buildForward(c: GradCase): Model {
  if (c.model) return clone(c.model());
  const g = new GraphBuilder({ opset: c.opset ?? 17 });
  c.build!(g);
  return g.model();
}

/** The same model computing in float64: float tensors, types, Constant values and Cast targets. */
export function toFloat64(m: Model): Model {
  const F = DataType.FLOAT;
  const D = DataType.DOUBLE;
  const widen = (t: Tensor): Tensor => (t.dtype === F ? Tensor.fromArray(D, t.dims, Float64Array.from(t.toArray() as Float32Array), t.name) : t);
  const retype = (v: Value) => {
    const tt = v.type?.tensorType;
    if (tt?.elemType === F) tt.elemType = D;
  };
  const g = m.graph;
  for (const [name, v] of g.initializers) if (v.initializer?.dtype === F) g.addInitializer(widen(v.initializer), name);
  for (const v of [...g.values(), ...g.outputs]) retype(v);
  for (const n of g.nodes) {
    for (const a of n.attributes.values()) {
      if (a.t) a.t = widen(a.t);
      if (a.name === 'to' && a.i === F) a.i = D;
    }
  }
  return m;
}

function hostOf(dtype: DataType, dims: number[], values: ArrayLike<number>): HostTensor {
  if (dtype === DataType.INT64) return { dtype, dims, data: BigInt64Array.from(Array.from(values, (x) => BigInt(x))) };
  if (dtype === DataType.INT32) return { dtype, dims, data: Int32Array.from(values) };
  if (dtype === DataType.DOUBLE) return { dtype, dims, data: Float64Array.from(values) };
  return { dtype: DataType.FLOAT, dims, data: Float32Array.from(values) };
}

function toF64(t: HostTensor): HostTensor {
  return { dtype: DataType.DOUBLE, dims: t.dims, data: Float64Array.from(t.data as Float32Array) };
}

function pick(n: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  return rng.shuffle(all).slice(0, max).sort((a, b) => a - b);
}
