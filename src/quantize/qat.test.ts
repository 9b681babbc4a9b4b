/**
 * QAT (qat.ts, qat-graph.ts) on real Fashion-MNIST images (the bundled subset).
 *
 *   0 epochs      the result is static's model: same nodes, same bytes, same ORT outputs
 *   freeze        a fake-quant graph with moved scales and weights, frozen into QDQ, computes
 *                 exactly what the fake-quant graph computed (ONNX's QDQ semantics, no fusion),
 *                 once its biases are on the int32 grid (float while training, int32 in the file),
 *                 including weights pushed past the restricted int8 range [−127, 127]
 *   training      a ref-cnn trained 1 epoch on the subset, quantized static with per-tensor 7-bit
 *                 weights (so that PTQ loses something), then 1 epoch of QAT on the same data:
 *                 the scales move, the result is int8 in the file, ORT fuses it into QLinearConv
 *                 and QGemm, and its test top-1 is not below PTQ's (this float model is
 *                 undertrained, so QAT also gains from the extra epoch; the fair comparison, on the
 *                 full set with a converged model, is the acceptance run in the QAT report)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batches } from '../data/batcher.js';
import { openDataset, type Dataset } from '../data/dataset.js';
import type { Model, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { buildArchitecture } from '../models/index.js';
import { serializeModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { PassManager } from '../graph/pass.js';
import { foldBatchNorm } from '../passes/fold-batchnorm.js';
import { Rng } from '../data/rng.js';
import { evaluate } from '../runtime/evaluate.js';
import { createSession } from '../runtime/session.js';
import { Trainer } from '../train/trainer.js';
import { collectRanges } from './collect.js';
import { quantRange } from './params.js';
import { planStatic } from './plan.js';
import { DEFAULT_QDQ, insertQdq } from './qdq.js';
import { fakeQuantize, freezeQat, recordFloatWeights } from './qat-graph.js';
import { quantizeQat } from './qat.js';
import { quantizeStatic, cloneModel } from './static.js';
import { fashionBatches, maxAbsDiff, ortOptimizedOps, randomizeBatchNorm, runAll } from './testing.js';

const calib = await fashionBatches(10, 50, 2);
const evalSet = await fashionBatches(20, 100, 9);
const source = () => calib.map((x) => ({ input: x }));

async function top1(model: Model, ds: Dataset): Promise<number> {
  const session = await createSession(model, { threads: 1, allowSpinning: false });
  try {
    return (await evaluate(session, batches(ds, { batchSize: 256 }), { numClasses: 10 })).top1;
  } finally {
    await session.release();
  }
}

test('0 epochs of QAT is static quantization: same nodes, same file size, same outputs (teacher, BN folded)', async () => {
  const float = buildArchitecture('teacher', { seed: 5 });
  randomizeBatchNorm(float);
  const st = await quantizeStatic(float, source);
  const qat = await quantizeQat(float, source, { train: await openDataset('fashion-mnist-mini', { split: 'train' }), epochs: 0 });
  assert.deepEqual(qat.model.graph.nodes.map((n) => `${n.opType}:${n.name}`), st.model.graph.nodes.map((n) => `${n.opType}:${n.name}`));
  assert.equal(serializeModel(qat.model).length, serializeModel(st.model).length);
  const [a, b] = [await runAll(st.model, evalSet), await runAll(qat.model, evalSet)];
  assert.deepEqual(b, a);
  assert.deepEqual(qat.report.notes, ['folded 6 BatchNormalization nodes into Conv', 'fine-tuned 0 epochs with fake quantization (learned scales)']);
  assert.ok(qat.report.scales.every((s) => s.initial === s.final));
});

test('freeze: the exported QDQ model computes what the trained fake-quant graph computed', async () => {
  const model = buildArchitecture('ref-cnn', { seed: 7 });
  new PassManager([foldBatchNorm]).run(model);
  const plan = planStatic(model);
  const ranges = await collectRanges(model, plan.calibrate.map((v) => v.name), source, { method: 'minmax' });
  const recorded = recordFloatWeights(plan);
  insertQdq(model, plan, new Map(plan.calibrate.map((v) => [v, ranges.get(v.name)!] as const)), DEFAULT_QDQ);
  const fq = fakeQuantize(model, plan, recorded, quantRange('int8', { symmetric: true }));
  assert.deepEqual(fq.trainable.filter((n) => !n.endsWith('.qat_log_scale')).sort(), ['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
  assert.equal(fq.trainable.filter((n) => n.endsWith('.qat_log_scale')).length, 4 + 4, '4 weight tensors, 4 activation range roots');
  // as training would leave it: every scale moved by up to ±10%, weights perturbed by up to 2%
  const rng = new Rng(11);
  for (const name of fq.trainable) {
    const t = model.graph.initializers.get(name)!.initializer!;
    const d = Float32Array.from(t.toArray() as Float32Array, (x) => (name.endsWith('.qat_log_scale') ? 0.2 * rng.float() - 0.1 : x * (1 + 0.04 * rng.float() - 0.02)));
    model.graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...t.dims], d), name);
  }
  // biases on the int32 grid of the final scales, so that the export has nothing left to round
  const scale = (s0: Value, u: Value, c: number) => {
    const [a, b] = [s0.initializer!.toArray() as Float32Array, u.initializer!.toArray() as Float32Array];
    return Math.fround(a[a.length > 1 ? c : 0]! * Math.fround(Math.exp(b[b.length > 1 ? c : 0]!)));
  };
  for (const w of fq.weights) {
    const x = fq.activations.find((a) => a.dq.output(0) === w.node.input(0))!;
    const b = w.bias!.initializer!;
    const grid = Float32Array.from(b.toArray() as Float32Array, (v, c) => {
      const step = Math.fround(scale(x.s0, x.logScale, 0) * scale(w.s0, w.logScale, c));
      return Math.round(v / step) * step;
    });
    model.graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...b.dims], grid), w.bias!.name);
  }
  // the moved scales push weights past −127.5·s, where QuantizeLinear alone would give −128
  let beyond = 0;
  for (const w of fq.weights) {
    const t = w.weight.initializer!;
    const d = t.toArray() as Float32Array;
    const inner = d.length / t.dims[0]!;
    for (let i = 0; i < d.length; i++) if (d[i]! / scale(w.s0, w.logScale, Math.floor(i / inner)) < -127.5) beyond++;
  }
  assert.ok(beyond > 100, `${beyond} weights beyond the restricted range`);
  const trained = await runAll(serializeModel(model), evalSet, { graphOptimizationLevel: 'disabled' });
  const frozen = freezeQat(fq, quantRange('int8', { symmetric: true }));
  assert.ok(!frozen.graph.nodes.some((n) => n.opType === 'Exp' || n.opType === 'Mul'), 'no training-time nodes left');
  for (const v of frozen.graph.initializers.values()) if (v.name.endsWith('weight_quantized')) assert.equal(v.initializer!.dtype, DataType.INT8);
  const exported = await runAll(frozen, evalSet, { graphOptimizationLevel: 'disabled' });
  // bit for bit: weights saturate at ±127 in both, biases are on the grid, scales are the same floats
  assert.equal(maxAbsDiff(trained, exported), 0);
});

test('QAT fine-tunes a trained ref-cnn: scales move, int8 in the file, ORT fuses it, top-1 ≥ static PTQ', async (t) => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const testSet = await openDataset('fashion-mnist-mini', { split: 'test' });
  const trainer = new Trainer(buildArchitecture('ref-cnn', { seed: 0 }), { epochs: 1, lr: 1e-3, seed: 0, threads: 1, evaluate: false });
  const subset = Uint32Array.from({ length: 3000 }, (_, i) => 2 * i); // half the subset keeps this test short
  await trainer.fit(train, undefined, { subset });
  const float = trainer.exportInference();
  await trainer.close();
  // per-tensor 7-bit weights: PTQ loses accuracy that QAT can win back
  const opts = { perChannel: false, reduceRange: true } as const;
  const ptq = await quantizeStatic(float, source, opts);
  const qat = await quantizeQat(float, source, { ...opts, train, subset, epochs: 1, lr: 1e-4, threads: 1 });
  const [f, p, q] = [await top1(float, testSet), await top1(ptq.model, testSet), await top1(qat.model, testSet)];
  t.diagnostic(`top-1 on the subset's 2,000 test images: float ${f}, PTQ ${p}, QAT ${q}`);
  assert.ok(q >= p, `QAT ${q} vs PTQ ${p} (float ${f})`);
  assert.ok(qat.report.training.length === 1 && Number.isFinite(qat.report.training[0]!.loss));
  assert.ok(qat.report.scales.some((s) => s.final !== s.initial), 'learned scales moved');
  const w = [...qat.model.graph.initializers.values()].filter((v) => v.name.endsWith('weight_quantized'));
  assert.equal(w.length, 4);
  for (const v of w) assert.ok(Array.from(v.initializer!.toArray() as Int8Array).every((x) => Math.abs(x) <= 64), `${v.name}: 7-bit int8`);
  assert.ok(serializeModel(qat.model).length / serializeModel(float).length <= 0.27);
  const ops = await ortOptimizedOps(qat.model);
  assert.equal(ops.get('com.microsoft:QLinearConv'), 2, [...ops].join(' '));
  assert.equal(ops.get('com.microsoft:QGemm'), 2, [...ops].join(' '));
  assert.equal((ops.get(':Conv') ?? 0) + (ops.get(':Gemm') ?? 0), 0, [...ops].join(' '));
});

test('bad input: negative epochs and a model with no float weights are one-line errors', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const m = buildArchitecture('ref-cnn', { seed: 1 });
  await assert.rejects(quantizeQat(m, source, { train, epochs: -1 }), /--epochs must be a non-negative integer, got -1/);
  const int8Only = cloneModel(m);
  for (const v of int8Only.graph.initializers.values()) v.initializer = Tensor.fromArray(DataType.INT8, [...v.initializer!.dims], new Int8Array(v.initializer!.size), v.name);
  await assert.rejects(quantizeQat(int8Only, source, { train, epochs: 1 }), /no float32 weights to quantize/);
});
