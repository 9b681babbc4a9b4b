/**
 * One tiny model per shape rule, with the output shapes worked out by hand. Shared by
 * shape-inference.test.ts (inferred == hand-computed) and shape-inference.ort.test.ts
 * (inferred == what onnxruntime produces, with N bound to a number). Test support only.
 */
import { DataType } from '../onnx/proto.js';
import { GraphBuilder } from './builder.js';
import type { Dim, Value } from './ir.js';
import { Tensor } from './tensor.js';

export interface ShapeCase {
  name: string;
  opset?: number;
  build(g: GraphBuilder): Value[];
  /** Expected shape of each output (symbolic dims by name). */
  expect: Dim[][];
}

const F = DataType.FLOAT;
const I64 = DataType.INT64;
/** Float initializer of the given dims filled with a small ramp (values do not matter here). */
const w = (g: GraphBuilder, name: string, dims: number[]) =>
  g.initializer(name, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => ((i % 7) - 3) / 10), dims);
const x = (g: GraphBuilder, shape: Dim[], dt = F, name = 'x') => g.input(name, dt, shape);

const unary = (op: 'Sqrt' | 'Neg' | 'Exp' | 'Log' | 'Relu' | 'Sigmoid' | 'Tanh' | 'HardSwish' | 'Erf' | 'Abs' | 'Reciprocal' | 'Identity'): ShapeCase => ({
  name: op, build: (g) => [g[op](x(g, ['N', 3, 4]))], expect: [['N', 3, 4]],
});
const binary = (op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow'): ShapeCase => ({
  name: `${op} broadcast`, build: (g) => [g[op](x(g, ['N', 3, 1, 5]), w(g, 'b', [4, 1]))], expect: [['N', 3, 4, 5]],
});

export const SHAPE_CASES: ShapeCase[] = [
  // ---- convolution
  { name: 'Conv pad 1', build: (g) => [g.Conv(x(g, ['N', 3, 8, 8]), w(g, 'w', [4, 3, 3, 3]), w(g, 'b', [4]), { pads: [1, 1, 1, 1] })], expect: [['N', 4, 8, 8]] },
  { name: 'Conv stride+dilation+asymmetric pads', build: (g) => [g.Conv(x(g, ['N', 2, 11, 9]), w(g, 'w', [6, 2, 3, 3]), null, { strides: [2, 2], dilations: [2, 1], pads: [1, 0, 2, 1] })], expect: [['N', 6, 5, 4]] },
  { name: 'Conv grouped', build: (g) => [g.Conv(x(g, ['N', 4, 7, 7]), w(g, 'w', [8, 2, 3, 3]), null, { group: 2 })], expect: [['N', 8, 5, 5]] },
  { name: 'Conv depthwise stride 2', build: (g) => [g.Conv(x(g, ['N', 6, 9, 9]), w(g, 'w', [6, 1, 3, 3]), null, { group: 6, strides: [2, 2], pads: [1, 1, 1, 1] })], expect: [['N', 6, 5, 5]] },
  { name: 'Conv SAME_UPPER stride 2', build: (g) => [g.Conv(x(g, ['N', 1, 9, 10]), w(g, 'w', [2, 1, 3, 3]), null, { auto_pad: 'SAME_UPPER', strides: [2, 2] })], expect: [['N', 2, 5, 5]] },
  { name: 'Conv SAME_LOWER', build: (g) => [g.Conv(x(g, ['N', 1, 6, 7]), w(g, 'w', [2, 1, 4, 4]), null, { auto_pad: 'SAME_LOWER' })], expect: [['N', 2, 6, 7]] },
  { name: 'Conv VALID stride 3', build: (g) => [g.Conv(x(g, ['N', 1, 10, 11]), w(g, 'w', [2, 1, 3, 2]), null, { auto_pad: 'VALID', strides: [3, 3] })], expect: [['N', 2, 3, 4]] },
  { name: 'Conv 1-D', build: (g) => [g.Conv(x(g, ['N', 2, 10]), w(g, 'w', [3, 2, 4]))], expect: [['N', 3, 7]] },
  { name: 'ConvTranspose stride 2 output_padding', build: (g) => [g.ConvTranspose(x(g, ['N', 4, 5, 5]), w(g, 'w', [4, 2, 3, 3]), null, { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })], expect: [['N', 2, 10, 10]] },
  { name: 'ConvTranspose grouped', build: (g) => [g.ConvTranspose(x(g, ['N', 4, 5, 6]), w(g, 'w', [4, 3, 3, 2]), w(g, 'b', [6]), { group: 2 })], expect: [['N', 6, 7, 7]] },
  { name: 'ConvTranspose SAME_UPPER', build: (g) => [g.ConvTranspose(x(g, ['N', 2, 5, 4]), w(g, 'w', [2, 3, 3, 3]), null, { auto_pad: 'SAME_UPPER', strides: [2, 2] })], expect: [['N', 3, 10, 8]] },
  // ---- linear algebra
  { name: 'Gemm transB', build: (g) => [g.Gemm(x(g, ['N', 5]), w(g, 'w', [3, 5]), w(g, 'b', [3]), { transB: 1 })], expect: [['N', 3]] },
  { name: 'Gemm transA', build: (g) => [g.Gemm(x(g, [5, 4]), w(g, 'w', [5, 3]), null, { transA: 1, alpha: 2, beta: 1 })], expect: [[4, 3]] },
  { name: 'MatMul 2-D', build: (g) => [g.MatMul(x(g, ['N', 4]), w(g, 'w', [4, 3]))], expect: [['N', 3]] },
  { name: 'MatMul batched broadcast', build: (g) => [g.MatMul(x(g, [2, 1, 3, 4]), w(g, 'w', [5, 4, 6]))], expect: [[2, 5, 3, 6]] },
  { name: 'MatMul vector·matrix', build: (g) => [g.MatMul(x(g, [4]), w(g, 'w', [2, 4, 3]))], expect: [[2, 3]] },
  { name: 'MatMul matrix·vector', build: (g) => [g.MatMul(x(g, ['N', 3, 4]), w(g, 'w', [4]))], expect: [['N', 3]] },
  // ---- elementwise
  ...(['Add', 'Sub', 'Mul', 'Div', 'Pow'] as const).map(binary),
  ...(['Sqrt', 'Neg', 'Exp', 'Log', 'Relu', 'Sigmoid', 'Tanh', 'HardSwish', 'Erf', 'Abs', 'Reciprocal', 'Identity'] as const).map(unary),
  { name: 'LeakyRelu', build: (g) => [g.LeakyRelu(x(g, ['N', 3]), { alpha: 0.2 })], expect: [['N', 3]] },
  { name: 'HardSigmoid', build: (g) => [g.HardSigmoid(x(g, ['N', 3]), { alpha: 0.2, beta: 0.5 })], expect: [['N', 3]] },
  { name: 'Clip', build: (g) => [g.Clip(x(g, ['N', 3, 2]), 0, 6)], expect: [['N', 3, 2]] },
  { name: 'Clip max only', build: (g) => [g.Clip(x(g, ['N', 3]), null, 1)], expect: [['N', 3]] },
  { name: 'Softmax', build: (g) => [g.Softmax(x(g, ['N', 10]), { axis: 1 })], expect: [['N', 10]] },
  { name: 'LogSoftmax', build: (g) => [g.LogSoftmax(x(g, ['N', 10]))], expect: [['N', 10]] },
  { name: 'Max/Min/Sum variadic', build: (g) => { const a = x(g, ['N', 1, 3]); const b = w(g, 'b', [2, 1]); return [g.Max([a, b]), g.Min([a, b]), g.Sum([a, b, a])]; }, expect: [['N', 2, 3], ['N', 2, 3], ['N', 2, 3]] },
  { name: 'Where', build: (g) => [g.Where(x(g, ['N', 3], DataType.BOOL, 'c'), x(g, [3]), w(g, 'y', [1]))], expect: [['N', 3]] },
  { name: 'Equal/Greater/Less → bool', build: (g) => { const a = x(g, ['N', 4], I64); const b = g.ints([0, 1, 2, 3]); return [g.Equal(a, b), g.Greater(a, b), g.Less(a, b)]; }, expect: [['N', 4], ['N', 4], ['N', 4]] },
  { name: 'Not', build: (g) => [g.Not(x(g, ['N', 2], DataType.BOOL))], expect: [['N', 2]] },
  // ---- pooling and normalisation
  { name: 'MaxPool 3/2 pad 1', build: (g) => [g.MaxPool(x(g, ['N', 2, 9, 8]), { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })], expect: [['N', 2, 5, 4]] },
  { name: 'MaxPool ceil_mode', build: (g) => [g.MaxPool(x(g, ['N', 2, 10, 10]), { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 })], expect: [['N', 2, 5, 5]] },
  { name: 'MaxPool ceil_mode, window in end pad dropped', build: (g) => [g.MaxPool(x(g, ['N', 1, 5, 5]), { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 })], expect: [['N', 1, 3, 3]] },
  { name: 'MaxPool dilations', build: (g) => [g.MaxPool(x(g, ['N', 1, 10, 10]), { kernel_shape: [2, 2], dilations: [2, 3] })], expect: [['N', 1, 8, 7]] },
  { name: 'MaxPool with Indices', build: (g) => g.op('MaxPool', [x(g, ['N', 3, 6, 6])], { kernel_shape: [2, 2], strides: [2, 2] }, { outputs: 2 }), expect: [['N', 3, 3, 3], ['N', 3, 3, 3]] },
  { name: 'AveragePool SAME_UPPER', build: (g) => [g.AveragePool(x(g, ['N', 2, 7, 7]), { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' })], expect: [['N', 2, 4, 4]] },
  { name: 'AveragePool count_include_pad', build: (g) => [g.AveragePool(x(g, ['N', 2, 7, 6]), { kernel_shape: [2, 3], pads: [1, 1, 1, 1], count_include_pad: 1 })], expect: [['N', 2, 8, 6]] },
  { name: 'SpaceToDepth', build: (g) => [g.op('SpaceToDepth', [x(g, ['N', 3, 6, 4])], { blocksize: 2 })], expect: [['N', 12, 3, 2]] },
  { name: 'DepthToSpace CRD', build: (g) => [g.op('DepthToSpace', [x(g, ['N', 12, 3, 2])], { blocksize: 2, mode: 'CRD' })], expect: [['N', 3, 6, 4]] },
  { name: 'MaxUnpool with output_shape', build: (g) => [g.op('MaxUnpool', [x(g, [2, 3, 2, 2]), g.initializer('i', Tensor.fromArray(I64, [2, 3, 2, 2], Array.from({ length: 24 }, (_, i) => i * 2))), g.ints([2, 3, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2] })], expect: [[2, 3, 5, 5]] },
  { name: 'MaxUnpool inferred', build: (g) => [g.op('MaxUnpool', [x(g, [2, 3, 2, 3]), g.initializer('i', Tensor.fromArray(I64, [2, 3, 2, 3], Array.from({ length: 36 }, (_, i) => i)))], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 0] })], expect: [[2, 3, 3, 6]] },
  { name: 'GlobalAveragePool', build: (g) => [g.GlobalAveragePool(x(g, ['N', 3, 5, 7]))], expect: [['N', 3, 1, 1]] },
  { name: 'BatchNormalization', build: (g) => [g.BatchNormalization(x(g, ['N', 3, 4, 4]), w(g, 's', [3]), w(g, 'b', [3]), w(g, 'm', [3]), g.initializer('v', [1, 2, 3], [3]), { epsilon: 1e-5 })], expect: [['N', 3, 4, 4]] },
  { name: 'LayerNormalization with stats', build: (g) => g.op('LayerNormalization', [x(g, ['N', 3, 8]), w(g, 's', [8]), w(g, 'b', [8])], { axis: -1, epsilon: 1e-5 }, { outputs: 3 }), expect: [['N', 3, 8], ['N', 3, 1], ['N', 3, 1]] },
  { name: 'LayerNormalization axis 1', build: (g) => [g.LayerNormalization(x(g, ['N', 3, 8]), w(g, 's', [3, 8]), null, { axis: 1 })], expect: [['N', 3, 8]] },
  { name: 'Dropout with ratio', build: (g) => [g.Dropout(x(g, ['N', 6]), { ratio: 0.3 })], expect: [['N', 6]] },
  // ---- shape manipulation
  { name: 'Flatten axis 1', build: (g) => [g.Flatten(x(g, ['N', 2, 3, 4]))], expect: [['N', 24]] },
  { name: 'Flatten axis 2', build: (g) => [g.Flatten(x(g, [2, 3, 4, 5]), { axis: 2 })], expect: [[6, 20]] },
  { name: 'Flatten axis 0', build: (g) => [g.Flatten(x(g, [2, 3, 4]), { axis: 0 })], expect: [[1, 24]] },
  { name: 'Reshape -1 recovers N', build: (g) => [g.Reshape(x(g, ['N', 32, 7, 7]), [-1, 1568])], expect: [['N', 1568]] },
  { name: 'Reshape 0 copies', build: (g) => [g.Reshape(x(g, ['N', 6, 4]), [0, 3, -1])], expect: [['N', 3, 8]] },
  { name: 'Reshape via Shape→Gather→Concat', build: (g) => { const a = x(g, [2, 3, 4]); const n = g.Unsqueeze(g.Gather(g.Shape(a), 0), [0]); return [g.Reshape(a, g.Concat([n, g.ints([-1])], 0))]; }, expect: [[2, 12]] },
  { name: 'Transpose perm', build: (g) => [g.Transpose(x(g, ['N', 3, 4, 5]), [0, 2, 3, 1])], expect: [['N', 4, 5, 3]] },
  { name: 'Transpose default', build: (g) => [g.Transpose(x(g, [2, 3, 4]))], expect: [[4, 3, 2]] },
  { name: 'Squeeze axes', build: (g) => [g.Squeeze(x(g, ['N', 1, 5, 1]), [1, -1])], expect: [['N', 5]] },
  { name: 'Squeeze all ones', build: (g) => [g.Squeeze(x(g, [2, 1, 3, 1]))], expect: [[2, 3]] },
  { name: 'Squeeze opset 11 attr', opset: 11, build: (g) => [g.Squeeze(x(g, ['N', 1, 5]), [1])], expect: [['N', 5]] },
  { name: 'Unsqueeze', build: (g) => [g.Unsqueeze(x(g, ['N', 3]), [0, -1])], expect: [[1, 'N', 3, 1]] },
  { name: 'Unsqueeze opset 11 attr', opset: 11, build: (g) => [g.Unsqueeze(x(g, ['N', 3]), [1])], expect: [['N', 1, 3]] },
  { name: 'Concat', build: (g) => [g.Concat([x(g, ['N', 2, 3]), x(g, ['N', 5, 3], F, 'y')], 1)], expect: [['N', 7, 3]] },
  { name: 'Split sizes', build: (g) => g.Split(x(g, ['N', 5, 4]), { axis: 1, sizes: [2, 3] }), expect: [['N', 2, 4], ['N', 3, 4]] },
  { name: 'Split equal parts', build: (g) => g.Split(x(g, ['N', 6]), { axis: 1, parts: 3 }), expect: [['N', 2], ['N', 2], ['N', 2]] },
  { name: 'Split opset 18 num_outputs uneven', opset: 18, build: (g) => g.Split(x(g, ['N', 7]), { axis: 1, parts: 3 }), expect: [['N', 3], ['N', 3], ['N', 1]] },
  { name: 'Split opset 11 attr', opset: 11, build: (g) => g.Split(x(g, ['N', 5]), { axis: 1, sizes: [1, 4] }), expect: [['N', 1], ['N', 4]] },
  { name: 'Slice with negative and clamped bounds', build: (g) => [g.Slice(x(g, ['N', 10, 8]), [1, -3], [8, 100], [1, 2])], expect: [['N', 7, 3]] },
  { name: 'Slice negative step', build: (g) => [g.Slice(x(g, ['N', 10]), [-1], [-100], [1], [-2])], expect: [['N', 5]] },
  { name: 'Slice full range keeps N', build: (g) => [g.Slice(x(g, ['N', 10]), [0, 2], [Number.MAX_SAFE_INTEGER, 10], [0, 1], [1, 3])], expect: [['N', 3]] },
  { name: 'Pad constant', build: (g) => [g.Pad(x(g, ['N', 2, 5, 5]), [0, 0, 1, 2, 0, 0, 3, 4], { value: 1 })], expect: [['N', 2, 9, 11]] },
  { name: 'Pad reflect', build: (g) => [g.Pad(x(g, ['N', 2, 5, 5]), [0, 0, 1, 1, 0, 0, 2, 2], { mode: 'reflect' })], expect: [['N', 2, 8, 8]] },
  { name: 'Gather axis 0 with 2-D indices', build: (g) => [g.Gather(x(g, [5, 4]), x(g, [2, 3], I64, 'i'))], expect: [[2, 3, 4]] },
  { name: 'Gather axis 1 scalar index', build: (g) => [g.Gather(x(g, ['N', 5, 4]), 2, { axis: 1 })], expect: [['N', 4]] },
  // ---- reductions
  { name: 'ReduceMean keepdims', build: (g) => [g.ReduceMean(x(g, ['N', 3, 4, 5]), [2, 3])], expect: [['N', 3, 1, 1]] },
  { name: 'ReduceMean opset 18 axes input', opset: 18, build: (g) => [g.ReduceMean(x(g, ['N', 3, 4]), [-1], { keepdims: 0 })], expect: [['N', 3]] },
  { name: 'ReduceSum axes input', build: (g) => [g.ReduceSum(x(g, ['N', 3, 4]), [1], { keepdims: 0 })], expect: [['N', 4]] },
  { name: 'ReduceSum all axes', build: (g) => [g.ReduceSum(x(g, ['N', 3, 4]))], expect: [[1, 1, 1]] },
  { name: 'ReduceSum opset 11 attr', opset: 11, build: (g) => [g.ReduceSum(x(g, ['N', 3, 4]), [2])], expect: [['N', 3, 1]] },
  { name: 'ReduceMax', build: (g) => [g.ReduceMax(x(g, ['N', 3, 4]), [0], { keepdims: 0 })], expect: [[3, 4]] },
  { name: 'ArgMax', build: (g) => [g.ArgMax(x(g, ['N', 10, 4]), { axis: 1, keepdims: 0 })], expect: [['N', 4]] },
  // ---- types and constants
  { name: 'Cast', build: (g) => [g.Cast(x(g, ['N', 3]), DataType.INT32)], expect: [['N', 3]] },
  { name: 'Shape', build: (g) => [g.Shape(x(g, ['N', 3, 4])), g.Shape(x(g, ['N', 3, 4], F, 'y'), { start: 1 })], expect: [[3], [2]] },
  { name: 'Constant', build: (g) => [g.Constant(Tensor.fromArray(I64, [2, 3], [1, 2, 3, 4, 5, 6])), g.Constant(1.5)], expect: [[2, 3], []] },
  { name: 'ConstantOfShape', build: (g) => [g.ConstantOfShape([2, 3], Tensor.fromArray(F, [1], [1]))], expect: [[2, 3]] },
  { name: 'Expand', build: (g) => [g.Expand(x(g, [3, 1]), [2, 3, 4])], expect: [[2, 3, 4]] },
  { name: 'Tile', build: (g) => [g.Tile(x(g, [2, 3]), [2, 2])], expect: [[4, 6]] },
  { name: 'QuantizeLinear uint8', build: (g) => [g.QuantizeLinear(x(g, ['N', 4]), g.scalar(0.1), g.scalar(128, DataType.UINT8))], expect: [['N', 4]] },
  { name: 'QuantizeLinear int8 per-axis', build: (g) => [g.QuantizeLinear(x(g, ['N', 2]), w(g, 's', [2]), g.initializer('zp', Tensor.fromArray(DataType.INT8, [2], [0, 1])), { axis: 1 })], expect: [['N', 2]] },
  { name: 'DequantizeLinear', build: (g) => [g.DequantizeLinear(x(g, ['N', 4], DataType.INT8), g.scalar(0.5), g.scalar(0, DataType.INT8))], expect: [['N', 4]] },
  { name: 'GlobalMaxPool 1-D', build: (g) => [g.GlobalMaxPool(x(g, ['N', 3, 9]))], expect: [['N', 3, 1]] },
  { name: 'ArgMin keepdims', build: (g) => [g.op('ArgMin', [x(g, ['N', 5])], { axis: -1 })], expect: [['N', 1]] },
  { name: 'Range from constants', build: (g) => [g.op('Range', [g.scalar(0, I64), g.scalar(10, I64), g.scalar(3, I64)])], expect: [[4]] },
  { name: 'Elu / Softplus / Mod', build: (g) => { const a = x(g, ['N', 3]); return [g.op('Elu', [a], { alpha: 1 }), g.op('Softplus', [a]), g.op('Mod', [a, w(g, 'm', [3])], { fmod: 1 })]; }, expect: [['N', 3], ['N', 3], ['N', 3]] },
];
