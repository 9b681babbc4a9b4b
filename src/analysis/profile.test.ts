import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../graph/builder.js';
import { Tensor } from '../graph/tensor.js';
import { buildMobileNetV2, buildRefCnn, buildStudent, buildTeacher } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { quantizeDynamic } from '../quantize/dynamic.js';
import { countMacs, countParams, opHistogram, profileModel, renderLayerTable } from './profile.js';

const F = DataType.FLOAT;

test('MobileNetV2 1.0/224: torchvision parameter count, ~300 M MACs', () => {
  const m = buildMobileNetV2();
  assert.equal(countParams(m).total, 3_504_872);
  const macs = countMacs(m);
  assert.equal(macs.dense, 300_774_272); // Conv + Gemm: the figure the paper's "300M" rounds
  assert.ok(Math.abs(macs.dense - 300e6) / 300e6 < 0.01);
  // BN, ReLU6 and the residual Adds add 13.0 M element ops; pooling 62,720.
  assert.equal(macs.byKind.elementwise, 13_000_288);
  assert.equal(macs.byKind.pool, 62_720);
  assert.equal(macs.total, 313_837_280);
  assert.equal(macs.unknown.length, 0);
});

test('reference CNN: params and MACs by hand', () => {
  const m = buildRefCnn();
  assert.equal(countParams(m).total, 16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 128 + 128 + 128 * 10 + 10);
  const macs = countMacs(m);
  const conv = 16 * 28 * 28 * 1 * 9 + 32 * 14 * 14 * 16 * 9;
  const fc = 1568 * 128 + 128 * 10;
  assert.equal(macs.dense, conv + fc);
  assert.equal(macs.byKind.pool, 16 * 14 * 14 * 4 + 32 * 7 * 7 * 4);
  assert.equal(macs.byKind.elementwise, 2 * 28 * 28 + 16 * 28 * 28 + 32 * 14 * 14 + 128); // input_norm's Sub and Div, the three ReLUs
  assert.equal(countMacs(m, { batch: 8 }).total, 8 * macs.total);
});

test('student: params and MACs by hand', () => {
  const m = buildStudent();
  assert.equal(countParams(m).total, 27_210);
  const macs = countMacs(m);
  assert.equal(macs.dense, 16 * 26 * 26 * 9 + 2704 * 10);
  assert.equal(macs.total, 16 * 26 * 26 * 9 + 2704 * 10 + 16 * 13 * 13 * 4 + 16 * 26 * 26);
});

test('teacher: 585,066 params; BN running statistics are not parameters', () => {
  const p = countParams(buildTeacher());
  assert.equal(p.total, 585_066);
  const rm = p.initializers.find((e) => e.name === 'features.1.running_mean')!;
  assert.equal(rm.counted, false);
  assert.equal(rm.reason, 'BatchNormalization running statistics');
  assert.equal(p.initializers.find((e) => e.name === 'features.1.weight')!.counted, true);
  const macs = countMacs(buildTeacher());
  const conv = (c: number, k: number, hw: number) => c * hw * hw * k * 9;
  assert.equal(macs.dense, conv(32, 1, 28) + conv(32, 32, 28) + conv(64, 32, 14) + conv(64, 64, 14) + conv(128, 64, 7) + conv(128, 128, 7) + 1152 * 256 + 256 * 10);
});

/** One conv node on [N,cin,h,w] → MACs. */
function convMacs(cin: number, h: number, w: number, wdims: number[], attrs: Parameters<GraphBuilder['Conv']>[3]) {
  const g = new GraphBuilder();
  const x = g.input('x', F, ['N', cin, h, w]);
  g.output(g.Conv(x, g.initializer('w', new Float32Array(wdims.reduce((a, b) => a * b, 1)), wdims), null, attrs), 'y');
  return countMacs(g.model(), { batch: 2 });
}

test('conv MACs: depthwise, grouped, dilated, strided', () => {
  // depthwise 3×3 stride 2 pad 1, 32 channels, 16×16 → 8×8: N·C·8·8·1·9
  assert.equal(convMacs(32, 16, 16, [32, 1, 3, 3], { group: 32, strides: [2, 2], pads: [1, 1, 1, 1] }).total, 2 * 32 * 8 * 8 * 9);
  // grouped: 8 → 12 channels in 4 groups, 3×3 no pad on 10×10 → 8×8: N·12·8·8·(8/4)·9
  assert.equal(convMacs(8, 10, 10, [12, 2, 3, 3], { group: 4 }).total, 2 * 12 * 8 * 8 * 2 * 9);
  // dilation 2: effective kernel 5, 12×12 → 8×8
  assert.equal(convMacs(3, 12, 12, [4, 3, 3, 3], { dilations: [2, 2] }).total, 2 * 4 * 8 * 8 * 3 * 9);
  // stride 3, 1×1 kernel, 9×9 → 3×3
  assert.equal(convMacs(5, 9, 9, [7, 5, 1, 1], { strides: [3, 3] }).total, 2 * 7 * 3 * 3 * 5);
});

test('ConvTranspose, batched MatMul, Gemm, pools and reductions', () => {
  const g = new GraphBuilder();
  const x = g.input('x', F, ['N', 4, 5, 5]);
  const ct = g.ConvTranspose(x, g.initializer('w', new Float32Array(4 * 3 * 9), [4, 3, 3, 3]), null, { strides: [2, 2] });
  const mm = g.MatMul(g.input('a', F, [2, 1, 3, 4]), g.input('b', F, [5, 4, 6]));
  const gm = g.Gemm(g.input('c', F, [7, 6]), g.input('d', F, [5, 6]), null, { transB: 1 });
  const mp = g.MaxPool(ct, { kernel_shape: [3, 3], strides: [2, 2] });
  const gap = g.GlobalAveragePool(mp);
  const rs = g.ReduceSum(mm, [1]);
  for (const v of [gap, gm, rs]) g.output(v);
  const macs = countMacs(g.model(), { batch: 1 });
  const by = new Map(macs.nodes.map((n) => [n.op, n.macs]));
  assert.equal(by.get('ConvTranspose'), 1 * 4 * 5 * 5 * 3 * 9); // N·Cin·Hin·Win·(Cout/g)·k²
  assert.equal(by.get('MatMul'), 2 * 5 * 3 * 6 * 4); // prod(batch)·M·N·K
  assert.equal(by.get('Gemm'), 7 * 5 * 6);
  assert.deepEqual(ct.shape, ['N', 3, 11, 11]);
  assert.equal(by.get('MaxPool'), 3 * 5 * 5 * 9);
  assert.equal(by.get('GlobalAveragePool'), 3 * 5 * 5);
  assert.equal(by.get('ReduceSum'), 2 * 5 * 3 * 6);
});

test('parameter rule: ints, scalars and quantization metadata excluded; DequantizeLinear data counted', () => {
  const g = new GraphBuilder();
  const x = g.input('x', F, ['N', 4]);
  const wq = g.initializer('wq', Tensor.fromArray(DataType.INT8, [3, 4], new Array(12).fill(1)));
  const w = g.DequantizeLinear(wq, g.scalar(0.1), g.scalar(0, DataType.INT8));
  let y = g.Gemm(x, w, g.initializer('b', new Float32Array(3), [3]), { transB: 1 });
  y = g.Clip(y, 0, 6);
  y = g.Reshape(y, [-1, 3]);
  y = g.Mul(y, g.initializer('gain', new Float32Array(3), [3]));
  g.output(g.Pow(y, g.scalar(2)), 'y');
  const p = countParams(g.model());
  const counted = p.initializers.filter((e) => e.counted).map((e) => e.name).sort();
  assert.deepEqual(counted, ['b', 'gain', 'wq']);
  assert.equal(p.total, 12 + 3 + 3);
});

test('dynamic int8 (MatMulInteger) keeps the float model\'s params and dense MACs; nothing unknown', () => {
  const float = buildRefCnn();
  const { model } = quantizeDynamic(float);
  assert.ok(model.graph.nodes.some((n) => n.opType === 'MatMulInteger'));
  assert.equal(countParams(model).total, countParams(float).total);
  const [a, b] = [countMacs(float, { batch: 2 }), countMacs(model, { batch: 2 })];
  assert.deepEqual(b.unknown.map((u) => u.op), []);
  assert.equal(b.dense, a.dense);
});

test('QLinearConv, QLinearMatMul, ConvInteger: W at its own slot, MACs as the float op', () => {
  const g = new GraphBuilder();
  const u8 = (v: number) => g.scalar(v, DataType.UINT8);
  const i8 = (name: string, dims: number[]) => g.initializer(name, Tensor.fromArray(DataType.INT8, dims, new Array(dims.reduce((p, d) => p * d, 1)).fill(1)));
  const x = g.input('x', DataType.UINT8, ['N', 2, 5, 5]);
  const s = g.scalar(0.1);
  const bias = g.initializer('bias', Tensor.fromArray(DataType.INT32, [3], [0, 0, 0]));
  const c = g.op('QLinearConv', [x, s, u8(0), i8('w', [3, 2, 3, 3]), s, g.scalar(0, DataType.INT8), s, u8(0), bias], { pads: [1, 1, 1, 1] });
  const ci = g.op('ConvInteger', [c, i8('w2', [4, 3, 1, 1])]);
  const flat = g.op('QLinearMatMul', [g.Reshape(c, [-1, 75]), s, u8(0), i8('w3', [75, 6]), s, g.scalar(0, DataType.INT8), s, u8(0)]);
  g.output(ci, 'ci');
  g.output(flat, 'y');
  const m = g.model();
  assert.deepEqual(countParams(m).initializers.filter((e) => e.counted).map((e) => e.name).sort(), ['bias', 'w', 'w2', 'w3']);
  const macs = countMacs(m, { batch: 2 });
  assert.deepEqual(macs.unknown.map((u) => u.op), []);
  assert.equal(macs.dense, 2 * 3 * 25 * 18 + 2 * 4 * 25 * 3 + 2 * 75 * 6);
});

test('profileModel: per-layer rows sum to the totals, shares add to 1, histogram by op', () => {
  const prof = profileModel(buildRefCnn(), { batch: 4 });
  assert.equal(prof.layers.reduce((s, r) => s + r.params, 0), prof.params.total);
  assert.equal(prof.layers.reduce((s, r) => s + (r.macs ?? 0), 0), prof.macs.total);
  assert.ok(Math.abs(prof.layers.reduce((s, r) => s + r.share, 0) - 1) < 1e-9);
  const fc1 = prof.layers.find((r) => r.name === 'fc1')!;
  assert.deepEqual(fc1.outputShape, [4, 128]);
  assert.equal(fc1.params, 1568 * 128 + 128);
  const hist = opHistogram(prof.layers);
  assert.deepEqual(hist.map((h) => [h.op, h.count]), [['Conv', 2], ['Gemm', 2], ['Relu', 3], ['MaxPool', 2], ['Sub', 1], ['Div', 1], ['Flatten', 1]]);
});

test('unknown ops are listed, not guessed', () => {
  const g = new GraphBuilder();
  const y = g.op('Mystery', [g.input('x', F, ['N', 4])], {}, { domain: 'com.example' });
  g.output(g.Relu(y), 'y');
  const macs = countMacs(g.model());
  assert.deepEqual(macs.unknown.map((u) => u.op), ['Mystery', 'Relu']);
  assert.equal(macs.total, 0);
});

test('renderLayerTable: one line per node plus totals', () => {
  const text = renderLayerTable(profileModel(buildStudent()));
  const lines = text.split('\n');
  assert.equal(lines.length, 1 + 5 + 1);
  assert.match(lines[1]!, /^conv1\s+Conv\s+\[1,16,26,26\]\s+160\s+97,344\s+66\.7%$/);
  assert.match(lines.at(-1)!, /total: 27,210 params, 146,016 MACs at batch 1/);
});
