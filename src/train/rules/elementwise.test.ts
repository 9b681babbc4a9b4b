/** Every elementwise rule against finite differences (gradcheck.ts), over shapes, broadcasts, attributes and ties. */
import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/ir.js';
import { DataType } from '../../onnx/proto.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { RULES } from './index.js';

const F = DataType.FLOAT;
type B = GraphBuilder;
/** y = f(inputs), inputs declared with the given shapes as a, b, c, … */
const fn = (name: string, shapes: number[][], f: (g: B, ...xs: Value[]) => Value, extra: Partial<GradCase> = {}): GradCase => ({
  name,
  build: (g) => g.output(f(g, ...shapes.map((s, i) => g.input('abcdef'[i]!, F, s))), 'y'),
  ...extra,
});
const positive = (n: number, lo = 0.5) => Array.from({ length: n }, (_, i) => lo + ((i * 7) % 11) / 5);

const binary: GradCase[] = (['Add', 'Sub', 'Mul', 'Div'] as const).flatMap((op) => [
  fn(`${op}/same`, [[2, 3], [2, 3]], (g, a, b) => g.op(op, [a!, b!]), op === 'Div' ? { inputs: { b: positive(6) } } : {}),
  fn(`${op}/bcast-row`, [[2, 3, 4], [4]], (g, a, b) => g.op(op, [a!, b!]), op === 'Div' ? { inputs: { b: positive(4) } } : {}),
  fn(`${op}/bcast-both`, [[2, 1, 4], [3, 1]], (g, a, b) => g.op(op, [a!, b!]), op === 'Div' ? { inputs: { b: positive(3) } } : {}),
  fn(`${op}/scalar`, [[2, 3], []], (g, a, b) => g.op(op, [a!, b!]), op === 'Div' ? { inputs: { b: [1.7] } } : {}),
]);

const CASES: GradCase[] = [
  ...binary,
  fn('Mul/same-input', [[3, 2]], (g, a) => g.Mul(a!, a!)),
  fn('Pow/both', [[2, 3], [3]], (g, a, b) => g.Pow(a!, b!), { inputs: { a: positive(6) } }),
  fn('Pow/square', [[4]], (g, a) => g.Pow(a!, g.scalar(2))),
  fn('Sqrt', [[2, 5]], (g, a) => g.Sqrt(a!), { inputs: { a: positive(10) } }),
  fn('Neg', [[3]], (g, a) => g.Neg(a!)),
  fn('Exp', [[2, 3]], (g, a) => g.Exp(a!)),
  fn('Log', [[2, 3]], (g, a) => g.Log(a!), { inputs: { a: positive(6) } }),
  fn('Erf', [[3, 4]], (g, a) => g.Erf(a!)),
  fn('Relu', [[4, 5]], (g, a) => g.Relu(a!)),
  fn('Relu/ties', [[6]], (g, a) => g.Relu(a!), { inputs: { a: [0, 0, -1, 1, 0, 2] }, expect: { a: [0, 0, 0, 1, 0, 1] } }),
  fn('LeakyRelu/0.1', [[4, 5]], (g, a) => g.LeakyRelu(a!, { alpha: 0.1 })),
  fn('LeakyRelu/ties', [[3]], (g, a) => g.LeakyRelu(a!, { alpha: 0.2 }), { inputs: { a: [0, -1, 1] }, expect: { a: [0.2, 0.2, 1] } }),
  fn('Clip/relu6', [[4, 5]], (g, a) => g.Clip(a!, 0, 6), { inputs: { a: Array.from({ length: 20 }, (_, i) => -2.05 + i * 0.51) } }),
  fn('Clip/relu6-ties', [[4]], (g, a) => g.Clip(a!, 0, 6), { inputs: { a: [0, 6, 3, 7] }, expect: { a: [0, 0, 1, 0] } }),
  fn('Clip/min-only', [[5]], (g, a) => g.Clip(a!, -0.5, null)),
  fn('Clip/opset10-attrs', [[5]], (g, a) => g.Clip(a!, -0.5, 0.5), { opset: 10 }),
  fn('Sigmoid', [[3, 4]], (g, a) => g.Sigmoid(a!)),
  fn('Tanh', [[3, 4]], (g, a) => g.Tanh(a!)),
  fn('HardSigmoid', [[4, 5]], (g, a) => g.HardSigmoid(a!), { inputs: { a: Array.from({ length: 20 }, (_, i) => -4.05 + i * 0.43) } }),
  fn('HardSigmoid/alpha', [[5]], (g, a) => g.HardSigmoid(a!, { alpha: 0.5, beta: 0.1 })),
  fn('HardSwish', [[4, 6]], (g, a) => g.HardSwish(a!), { inputs: { a: Array.from({ length: 24 }, (_, i) => -5.05 + i * 0.43) } }),
  fn('Softmax/last', [[3, 5]], (g, a) => g.Softmax(a!)),
  fn('Softmax/axis1-of-3', [[2, 3, 4]], (g, a) => g.Softmax(a!, { axis: 1 })),
  fn('Softmax/opset11-coerced', [[2, 3, 4]], (g, a) => g.Softmax(a!, { axis: 1 }), { opset: 11 }),
  fn('LogSoftmax/last', [[3, 5]], (g, a) => g.LogSoftmax(a!)),
  fn('LogSoftmax/axis0', [[4, 3]], (g, a) => g.LogSoftmax(a!, { axis: 0 })),
  fn('Gemm/plain', [[3, 4], [4, 5], [5]], (g, a, b, c) => g.Gemm(a!, b!, c)),
  fn('Gemm/transB-linear', [[3, 4], [5, 4], [5]], (g, a, b, c) => g.Gemm(a!, b!, c, { transB: 1 })),
  fn('Gemm/transA', [[4, 3], [4, 5]], (g, a, b) => g.Gemm(a!, b!, null, { transA: 1 })),
  fn('Gemm/both-alpha-beta', [[4, 3], [5, 4], [3, 1]], (g, a, b, c) => g.Gemm(a!, b!, c, { transA: 1, transB: 1, alpha: 0.7, beta: 1.3 })),
  fn('Gemm/C-scalar', [[2, 3], [3, 2], []], (g, a, b, c) => g.Gemm(a!, b!, c, { beta: 2 })),
  fn('MatMul/2d', [[3, 4], [4, 5]], (g, a, b) => g.MatMul(a!, b!)),
  fn('MatMul/batched', [[2, 3, 4], [2, 4, 5]], (g, a, b) => g.MatMul(a!, b!)),
  fn('MatMul/bcast-weight', [[2, 3, 4], [4, 5]], (g, a, b) => g.MatMul(a!, b!)),
  fn('MatMul/bcast-batch', [[2, 1, 3, 4], [3, 4, 2]], (g, a, b) => g.MatMul(a!, b!)),
  fn('MatMul/1d-left', [[4], [2, 4, 3]], (g, a, b) => g.MatMul(a!, b!)),
  fn('MatMul/1d-right', [[2, 3, 4], [4]], (g, a, b) => g.MatMul(a!, b!)),
  fn('MatMul/1d-both', [[4], [4]], (g, a, b) => g.MatMul(a!, b!)),
  fn('Identity', [[2, 2]], (g, a) => g.Identity(a!)),
  fn('Cast/float-float', [[3]], (g, a) => g.Cast(a!, F)),
  fn('Cast/via-double', [[3]], (g, a) => g.Cast(g.Mul(g.Cast(a!, DataType.DOUBLE), g.Cast(a!, DataType.DOUBLE)), F)),
  // ratio 0: the mask keeps everything, so finite differences see the same function as the rule
  fn('Dropout/train-ratio0', [[3, 4]], (g, a) => g.op('Dropout', [a!, g.scalar(0), g.scalar(1, DataType.BOOL)], {}, { outputs: 2 })[0]!),
  fn('Dropout/inference', [[3, 4]], (g, a) => g.Dropout(a!, { ratio: 0.3 })),
  fn('Sigmoid∘Mul/fan-out', [[3, 4]], (g, a) => g.Mul(g.Sigmoid(a!), g.Tanh(a!))),
];

gradcheckTests(CASES, { rules: RULES });
