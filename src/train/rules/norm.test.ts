/**
 * BatchNormalization / LayerNormalization gradients through the shared harness (gradcheck.ts):
 * ORT has double kernels for both, so the finite differences are float64. The loss weights every
 * float output, so BN's running_mean/running_var and LN's Mean/InvStdDev paths are checked too
 * when the case exposes them. Plus: ORT's training-mode BN updates running_var with the biased
 * variance (the formula at the top of norm.ts), checked numerically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../graph/builder.js';
import { DataType } from '../../onnx/proto.js';
import { Rng } from '../../data/rng.js';
import { createSession } from '../../runtime/session.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { elementwiseRules } from './elementwise.js';
import { reduceRules } from './reduce.js';
import { normRules } from './norm.js';

const F = DataType.FLOAT;
const RULES = { ...elementwiseRules, ...reduceRules, ...normRules };
const positive = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => 0.5 + rng.float());
};

/** BN with inputs x, scale, B, mean, var; `outputs` of the node exposed (1: Y only). */
function bnCase(name: string, xs: number[], opts: { training: boolean; expose: number; momentum?: number; epsilon?: number }): GradCase {
  const c = xs[1]!;
  return {
    name: `BatchNormalization/${name}`,
    maxElements: 400,
    inputs: { var: positive(c, 5) },
    build: (g) => {
      const ins = [g.input('x', F, xs), g.input('scale', F, [c]), g.input('B', F, [c]), g.input('mean', F, [c]), g.input('var', F, [c])];
      const attrs = { epsilon: opts.epsilon ?? 1e-5, momentum: opts.momentum, training_mode: opts.training ? 1 : undefined };
      const outs = [g.op('BatchNormalization', ins, attrs, { outputs: opts.training ? 3 : 1 })].flat();
      outs.slice(0, opts.expose).forEach((v, i) => g.output(v, ['y', 'running_mean', 'running_var'][i]));
    },
  };
}

function lnCase(name: string, xs: number[], axis: number, opts: { scale?: number[]; bias?: boolean; expose?: number } = {}): GradCase {
  const norm = xs.slice(axis < 0 ? axis + xs.length : axis);
  return {
    name: `LayerNormalization/${name}`,
    maxElements: 400,
    build: (g) => {
      const x = g.input('x', F, xs);
      const scale = g.input('scale', F, opts.scale ?? norm);
      const bias = opts.bias === false ? null : g.input('bias', F, opts.scale ?? norm);
      const outs = [g.op('LayerNormalization', [x, scale, bias], { axis, epsilon: 1e-5 }, { outputs: opts.expose ?? 1 })].flat();
      outs.forEach((v, i) => g.output(v, ['y', 'mean', 'inv_std'][i]));
    },
  };
}

gradcheckTests(
  [
    bnCase('training, NCHW, Y only', [4, 3, 5, 5], { training: true, expose: 1 }),
    bnCase('training, NCHW, Y + running statistics', [3, 2, 4, 3], { training: true, expose: 3, momentum: 0.8 }),
    bnCase('training, [N, C]', [8, 5], { training: true, expose: 1, epsilon: 1e-3 }),
    bnCase('training, [N, C, L]', [2, 3, 7], { training: true, expose: 3 }),
    bnCase('inference (frozen statistics), NCHW', [2, 3, 4, 4], { training: false, expose: 1 }),
    bnCase('inference, [N, C]', [6, 4], { training: false, expose: 1, epsilon: 1e-2 }),
    lnCase('last axis', [2, 3, 8], -1),
    lnCase('axis 1 over [3, 4]', [2, 3, 4], 1),
    lnCase('axis 1, scale [4] broadcast, no bias', [2, 3, 4], 1, { scale: [4], bias: false }),
    lnCase('axis 0 (everything)', [3, 5], 0),
    // ORT has no double LayerNormalization with the Mean/InvStdDev outputs: float32 differences.
    { ...lnCase('with Mean and InvStdDev outputs', [2, 4, 6], -1, { expose: 3 }), tol: 2e-3 },
  ],
  { rules: RULES },
);

test('ORT training-mode BatchNormalization: biased variance for Y and for running_var', async () => {
  const g = new GraphBuilder();
  const [n, c, hw] = [4, 2, 9];
  const ins = [g.input('x', F, [n, c, 3, 3]), g.input('scale', F, [c]), g.input('B', F, [c]), g.input('mean', F, [c]), g.input('var', F, [c])];
  const outs = g.op('BatchNormalization', ins, { epsilon: 1e-5, momentum: 0.9, training_mode: 1 }, { outputs: 3 });
  outs.forEach((v, i) => g.output(v, ['y', 'rm', 'rv'][i]));
  const rng = new Rng(11);
  const x = Float32Array.from({ length: n * c * hw }, () => rng.normal() * 2 + 1);
  const s = await createSession(g.model());
  const ones = { dtype: F, dims: [c], data: Float32Array.of(1, 1) };
  const out = await s.run({ x: { dtype: F, dims: [n, c, 3, 3], data: x }, scale: ones, B: { ...ones, data: Float32Array.of(0, 0) }, mean: { ...ones, data: Float32Array.of(0, 0) }, var: ones });
  await s.release();
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) vals.push(x[(i * c + ch) * hw + j]!);
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    const biased = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length;
    const rv = (out.rv!.data as Float32Array)[ch]!;
    assert.ok(Math.abs(rv - (0.9 + 0.1 * biased)) < 1e-5, `running_var ${rv} vs biased ${0.9 + 0.1 * biased}`);
    assert.ok(Math.abs(rv - (0.9 + (0.1 * biased * vals.length) / (vals.length - 1))) > 1e-3, 'not the unbiased update');
    assert.ok(Math.abs((out.rm!.data as Float32Array)[ch]! - 0.1 * mu) < 1e-5);
  }
});
