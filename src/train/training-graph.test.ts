import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../graph/builder.js';
import { inferShapes } from '../graph/shape-inference.js';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { Rng } from '../data/rng.js';
import { bundledFashionMnistDir, openIdxDataset } from '../data/dataset.js';
import { gradcheck, formatReport } from './gradcheck.js';
import { kdLoss } from './losses.js';
import { buildTrainingGraph, defaultTrainable } from './training-graph.js';
import { RULES } from './rules/index.js';

const F = DataType.FLOAT;
const f32 = (dims: number[], data: ArrayLike<number>): HostTensor => ({ dtype: F, dims, data: Float32Array.from(data) });

/** A linear classifier z = x·Wᵀ + b on [N, 3] inputs, 4 classes. */
function linearModel() {
  const g = new GraphBuilder();
  const x = g.input('x', F, ['N', 3]);
  g.output(g.Gemm(x, g.initializer('W', [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9, 0.15, 0.25, -0.35], [4, 3]), g.initializer('b', [0.1, 0, -0.1, 0.2], [4]), { transB: 1 }), 'logits');
  return g.model();
}
const X = [1, 2, -1, 0.5, -0.5, 2];
const Y = [2, 0];

/** −mean log softmax(z)[y] with label smoothing ε, in float64. */
function refCrossEntropy(z: number[][], y: number[], eps = 0): number {
  let total = 0;
  z.forEach((row, n) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, c) => (total -= ((c === y[n] ? 1 - eps : 0) + eps / row.length) * (v - lse)));
  });
  return total / z.length;
}
function logitsOf(W: number[], b: number[], x: number[]): number[][] {
  return [0, 1].map((n) => [0, 1, 2, 3].map((c) => b[c]! + [0, 1, 2].reduce((s, k) => s + W[c * 3 + k]! * x[n * 3 + k]!, 0)));
}

async function runStep(opts: Parameters<typeof buildTrainingGraph>[1], extra: Record<string, HostTensor> = {}) {
  const tg = buildTrainingGraph(linearModel(), opts);
  const s = await createSession(tg.model);
  const feeds: Record<string, HostTensor> = { x: f32([2, 3], X), labels: { dtype: DataType.INT64, dims: [2], data: BigInt64Array.from(Y.map(BigInt)) }, ...extra };
  for (const [k, t] of [...tg.params, ...tg.state]) feeds[k] = { dtype: t.dtype, dims: t.dims, data: t.toArray() as Float32Array };
  const out = await s.run(feeds);
  return { tg, out };
}

test('cross-entropy loss and gradients match a float64 reference (with label smoothing)', async () => {
  const W = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9, 0.15, 0.25, -0.35];
  const b = [0.1, 0, -0.1, 0.2];
  for (const eps of [0, 0.1]) {
    const { out } = await runStep({ loss: 'cross-entropy', labelSmoothing: eps, optimizer: 'none', batch: 2 });
    const want = refCrossEntropy(logitsOf(W, b, X), Y, eps);
    assert.ok(Math.abs((out.loss!.data as Float32Array)[0]! - want) < 1e-6, `ε=${eps}: ${out.loss!.data} vs ${want}`);
    // ∂L/∂b_c = mean_n (softmax(z_n)_c − t_nc), by finite differences on the reference
    const db = out['grad.b']!.data as Float32Array;
    for (let c = 0; c < 4; c++) {
      const h = 1e-6;
      const bp = b.map((v, i) => (i === c ? v + h : v));
      const bm = b.map((v, i) => (i === c ? v - h : v));
      const num = (refCrossEntropy(logitsOf(W, bp, X), Y, eps) - refCrossEntropy(logitsOf(W, bm, X), Y, eps)) / (2 * h);
      assert.ok(Math.abs(db[c]! - num) < 1e-6, `db[${c}] ${db[c]} vs ${num}`);
    }
  }
});

test('mse loss is the mean of squared differences', async () => {
  const target = [0, 1, 0, 0, 1, 0, 0, 0];
  const { out } = await runStep({ loss: 'mse', optimizer: 'none', batch: 2 }, { labels: f32([2, 4], target) });
  const z = logitsOf([0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9, 0.15, 0.25, -0.35], [0.1, 0, -0.1, 0.2], X).flat();
  const want = z.reduce((s, v, i) => s + (v - target[i]!) ** 2, 0) / 8;
  assert.ok(Math.abs((out.loss!.data as Float32Array)[0]! - want) < 1e-6);
});

test('SGD (momentum, nesterov, weight decay) and Adam/AdamW steps follow the PyTorch formulas', async () => {
  const grads = (await runStep({ loss: 'cross-entropy', optimizer: 'none', batch: 2 })).out;
  const g = Array.from(grads['grad.W']!.data as Float32Array);
  const w = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9, 0.15, 0.25, -0.35];
  const lr = 0.1;
  const scalars = (step: number) => ({ lr: f32([], [lr]), step: f32([], [step]) });
  const close = (a: ArrayLike<number>, b: number[], what: string) => b.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) < 1e-6, `${what}[${i}]: ${a[i]} vs ${v}`));
  // SGD, momentum 0.9, nesterov, wd 0.01; state starts at 0: v′ = g′, d = g′ + μ·v′
  const sgd = (await runStep({ loss: 'cross-entropy', optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 }, batch: 2 }, scalars(1))).out;
  const g1 = g.map((x, i) => x + 0.01 * w[i]!);
  close(sgd['W.momentum.new']!.data as Float32Array, g1, 'v');
  close(sgd['W.new']!.data as Float32Array, w.map((x, i) => x - lr * (g1[i]! + 0.9 * g1[i]!)), 'W');
  // Adam at step 1: m̂ = g, v̂ = g², w′ = w − lr·g/(|g| + ε)
  const adam = (await runStep({ loss: 'cross-entropy', optimizer: 'adam', batch: 2 }, scalars(1))).out;
  close(adam['W.new']!.data as Float32Array, w.map((x, i) => x - (lr * g[i]!) / (Math.abs(g[i]!) + 1e-8)), 'adam W');
  close(adam['W.m.new']!.data as Float32Array, g.map((x) => 0.1 * x), 'm');
  close(adam['W.v.new']!.data as Float32Array, g.map((x) => 0.001 * x * x), 'v');
  // AdamW: decoupled decay w·(1 − lr·λ) first
  const adamw = (await runStep({ loss: 'cross-entropy', optimizer: { name: 'adamw', weightDecay: 0.1 }, batch: 2 }, scalars(1))).out;
  close(adamw['W.new']!.data as Float32Array, w.map((x, i) => x * (1 - lr * 0.1) - (lr * g[i]!) / (Math.abs(g[i]!) + 1e-8)), 'adamw W');
});

test('training graph I/O: params as inputs, bound batch, grad outputs; frozen params get no backward work', () => {
  const tg = buildTrainingGraph(buildArchitecture('ref-cnn'), { loss: 'cross-entropy', optimizer: 'none', batch: 8, trainable: (n) => n.startsWith('fc') });
  const names = tg.model.graph.inputs.map((v) => v.name);
  assert.deepEqual(names, ['input', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'labels']);
  assert.deepEqual(tg.model.graph.inputs[0]!.shape, [8, 1, 28, 28]);
  assert.deepEqual(tg.model.graph.outputs.map((v) => v.name), ['loss', 'logits', 'grad.fc1.weight', 'grad.fc1.bias', 'grad.fc2.weight', 'grad.fc2.bias']);
  // conv layers are frozen: no ConvTranspose (input grad) nor weight-grad Conv in the backward pass
  assert.equal(tg.model.graph.nodes.filter((n) => n.opType === 'Conv').length, 2);
  assert.equal(tg.model.graph.nodes.filter((n) => n.opType === 'ConvTranspose').length, 0);
  assert.deepEqual(defaultTrainable(buildArchitecture('teacher')).filter((n) => n.includes('running')), []);
});

test('an op without a rule is named with its node and the supported ops', () => {
  const g = new GraphBuilder();
  const x = g.input('x', F, ['N', 4]);
  g.output(g.op('Softplus', [g.Gemm(x, g.initializer('w', new Float32Array(16), [4, 4]))], {}, { name: 'sp1' }), 'logits');
  assert.throws(() => buildTrainingGraph(g.model(), { loss: 'mse', optimizer: 'none', batch: 2, trainable: ['w'] }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'E_UNSUPPORTED_OP');
    assert.match(e.message, /^No gradient rule for 'Softplus' \(node "sp1", opset 17\)\. Supported: Add, .*Conv, /);
    return true;
  });
});

test('KD loss: T²·KL(softmax(t/T) ‖ softmax(s/T)) matches a float64 reference', async () => {
  const g = new GraphBuilder();
  const s = g.input('s', F, [2, 3]);
  const t = g.input('t', F, [2, 3]);
  g.output(kdLoss(g, s, t, 4), 'kd');
  const S = [1, 2, 0.5, -1, 0, 3];
  const T = [2, 1, 0, 0.5, 0.5, 1];
  const out = await (await createSession(g.model())).run({ s: f32([2, 3], S), t: f32([2, 3], T) });
  const soft = (v: number[]) => { const e = v.map((x) => Math.exp(x / 4)); const z = e.reduce((a, b) => a + b); return e.map((x) => x / z); };
  let kl = 0;
  for (const n of [0, 1]) {
    const ps = soft(S.slice(n * 3, n * 3 + 3));
    const pt = soft(T.slice(n * 3, n * 3 + 3));
    pt.forEach((p, c) => (kl += p * Math.log(p / ps[c]!)));
  }
  assert.ok(Math.abs((out.kd!.data as Float32Array)[0]! - (16 * kl) / 2) < 1e-6);
});

test('whole-model gradient of ref-cnn (batch 2) against finite differences on sampled parameters', async () => {
  const rng = new Rng(7);
  const r = await gradcheck(
    {
      name: 'ref-cnn',
      model: () => {
        const m = buildArchitecture('ref-cnn');
        m.graph.inputs[0]!.setTensorType(F, [2, 1, 28, 28]);
        inferShapes(m);
        return m;
      },
      inputs: { input: Array.from({ length: 2 * 784 }, () => rng.float()) },
      wrt: ['conv1.weight', 'conv1.bias', 'conv2.weight', 'fc1.bias', 'fc2.weight'],
      maxElements: 8,
      eps: 3e-4, // small enough that few ReLU/max flips fall within ε, large enough for float32 rounding
      // float32 finite differences of a 1,290-term loss: rounding noise ≈ 6e-8·√n·|L|/2ε ≈ 5e-4 absolute,
      // which is up to 5% of the smaller conv2 weight gradients (a wrong rule is off by O(1))
      tol: 5e-2,
    },
    { rules: RULES },
  );
  assert.ok(r.ok, formatReport(r));
});

test('Relu → MaxPool runs as MaxPool → Relu with the same loss and gradients (ref-cnn, real Fashion-MNIST ties)', async () => {
  const ds = await openIdxDataset(bundledFashionMnistDir(), { split: 'test' });
  const n = 16;
  const feeds: Record<string, HostTensor> = {
    input: f32([n, 1, 28, 28], Float32Array.from(ds.images.subarray(0, n * 784), (v) => v / 255)),
    labels: { dtype: DataType.INT64, dims: [n], data: BigInt64Array.from(ds.labels.subarray(0, n), (l) => BigInt(l)) },
  };
  const run = async (keepOrder: boolean) => {
    const m = buildArchitecture('ref-cnn', { seed: 4 });
    // A second use of the ReLU outputs keeps Relu → MaxPool as it is: the reference.
    if (keepOrder) for (const r of ['relu1', 'relu2']) m.graph.outputs.push(m.graph.findValue(r)!);
    const tg = buildTrainingGraph(m, { loss: 'cross-entropy', optimizer: 'none', batch: n });
    const order = tg.model.graph.nodes.filter((x) => x.opType === 'Relu' || x.opType === 'MaxPool').map((x) => x.opType);
    const s = await createSession(tg.model);
    const f = { ...feeds };
    for (const [k, t] of tg.params) f[k] = { dtype: t.dtype, dims: [...t.dims], data: t.toArray() as Float32Array };
    const out = await s.run(f);
    await s.release();
    return { order, out };
  };
  const swapped = await run(false);
  const ref = await run(true);
  assert.deepEqual(swapped.order.slice(0, 4), ['MaxPool', 'Relu', 'MaxPool', 'Relu']);
  assert.deepEqual(ref.order.slice(0, 4), ['Relu', 'MaxPool', 'Relu', 'MaxPool']);
  for (const name of ['loss', 'grad.conv1.weight', 'grad.conv1.bias', 'grad.conv2.weight', 'grad.conv2.bias', 'grad.fc1.weight']) {
    const a = swapped.out[name]!.data as Float32Array;
    const b = ref.out[name]!.data as Float32Array;
    let [scale, worst] = [0, 0];
    b.forEach((v, i) => ([scale, worst] = [Math.max(scale, Math.abs(v)), Math.max(worst, Math.abs(a[i]! - v))]));
    assert.ok(worst <= 1e-5 * scale, `${name}: max |Δ| ${worst} (scale ${scale})`);
  }
});
