import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../graph/builder.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { buildTrainingGraph } from '../train/training-graph.js';
import { distillationLoss, fedTeacher, TEACHER_LOGITS } from './kd-loss.js';

const F = DataType.FLOAT;
const f32 = (dims: number[], v: number[]): HostTensor => ({ dtype: F, dims, data: Float32Array.from(v) });

// Two samples, three classes: student logits s, teacher logits t, labels y.
const S = [1.5, -0.5, 0.25, -1, 2, 0.5];
const T = [3, 0.5, -1, 0.5, 1, 2.5];
const Y = [0, 2];

/** The loss by its definition, in float64: α·CE + (1 − α)·T²·KL(p_t ‖ p_s), batch means. */
function reference(s: number[], alpha: number, temp: number): number {
  const softmax = (v: number[], k: number) => {
    const e = v.map((x) => Math.exp(x / k));
    const z = e.reduce((a, b) => a + b);
    return e.map((x) => x / z);
  };
  let ce = 0;
  let kl = 0;
  for (const n of [0, 1]) {
    const sn = s.slice(3 * n, 3 * n + 3);
    const tn = T.slice(3 * n, 3 * n + 3);
    ce -= Math.log(softmax(sn, 1)[Y[n]!]!);
    const ps = softmax(sn, temp);
    softmax(tn, temp).forEach((p, c) => (kl += p * Math.log(p / ps[c]!)));
  }
  return (alpha * ce) / 2 + ((1 - alpha) * temp * temp * kl) / 2;
}

/** ∂reference/∂s by central differences in float64 (independent of any derivation). */
function referenceGrad(alpha: number, temp: number): number[] {
  const h = 1e-6;
  return S.map((_, i) => {
    const up = S.slice();
    const down = S.slice();
    up[i]! += h;
    down[i]! -= h;
    return (reference(up, alpha, temp) - reference(down, alpha, temp)) / (2 * h);
  });
}

/** The training graph's loss and ∂L/∂s, where the model's logits are a trainable [2, 3] tensor. */
async function lossAndGrad(alpha: number, temp: number): Promise<{ loss: number; grad: number[] }> {
  const g = new GraphBuilder();
  const x = g.input('input', F, ['N', 3]); // ones: logits = x · s = s
  g.output(g.Mul(x, g.initializer('s', Float32Array.from(S), [2, 3])), 'logits');
  const tg = buildTrainingGraph(g.model(), { loss: distillationLoss({ alpha, temperature: temp, teacher: fedTeacher(3) }), optimizer: 'none', batch: 2 });
  const session = await createSession(tg.model);
  const out = await session.run({
    input: f32([2, 3], [1, 1, 1, 1, 1, 1]),
    labels: { dtype: DataType.INT64, dims: [2], data: BigInt64Array.from(Y, BigInt) },
    [TEACHER_LOGITS]: f32([2, 3], T),
    s: f32([2, 3], S),
  });
  await session.release();
  return { loss: (out.loss!.data as Float32Array)[0]!, grad: [...(out[tg.grads.get('s')!]!.data as Float32Array)] };
}

for (const [alpha, temp] of [
  [0.5, 1],
  [0.1, 4],
  [0, 4],
  [1, 2],
] as const) {
  test(`distillation loss α=${alpha} T=${temp}: value and ∂L/∂s match a float64 hand computation`, async () => {
    const { loss, grad } = await lossAndGrad(alpha, temp);
    const want = reference(S, alpha, temp);
    assert.ok(Math.abs(loss - want) < 1e-5 * Math.max(1, want), `loss ${loss} vs ${want}`);
    referenceGrad(alpha, temp).forEach((w, i) => assert.ok(Math.abs(grad[i]! - w) < 1e-5, `∂L/∂s[${i}] ${grad[i]} vs ${w}`));
  });
}

test('the T² factor: the soft-target loss at T=4 is 16× the plain KL of the softened distributions', async () => {
  const t4 = await lossAndGrad(0, 4);
  const kl = reference(S, 0, 4) / 16; // the reference without T² …
  assert.ok(Math.abs(t4.loss - 16 * kl) < 1e-5, `${t4.loss} vs 16·${kl}`);
  // … and its gradient is (1 − α)·T·(p_s − p_t)/N, the closed form behind the T² argument
  const soft = (v: number[]) => {
    const e = v.map((x) => Math.exp(x / 4));
    const z = e.reduce((a, b) => a + b);
    return e.map((x) => x / z);
  };
  const closed = [0, 1].flatMap((n) => {
    const ps = soft(S.slice(3 * n, 3 * n + 3));
    const pt = soft(T.slice(3 * n, 3 * n + 3));
    return ps.map((p, c) => (4 * (p - pt[c]!)) / 2);
  });
  closed.forEach((w, i) => assert.ok(Math.abs(t4.grad[i]! - w) < 1e-6, `∂L/∂s[${i}] ${t4.grad[i]} vs ${w}`));
});

test('α outside [0, 1] and T ≤ 0 are usage errors naming the flag', () => {
  assert.throws(() => distillationLoss({ alpha: 1.5, temperature: 2, teacher: fedTeacher(3) }), /--alpha .* must be in \[0, 1\], got 1.5/);
  assert.throws(() => distillationLoss({ alpha: 0.5, temperature: 0, teacher: fedTeacher(3) }), /--temperature must be a positive number, got 0/);
});
