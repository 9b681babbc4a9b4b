/**
 * Gradient rules: elementwise arithmetic, activations, softmax, and the two matrix products.
 * Rules return gradients in the broadcast (output) shape; the driver sums them down.
 *
 *   Add/Sub/Sum  da = dy, db = ±dy          Mul   da = dy·b, db = dy·a
 *   Div          da = dy/b, db = −dy·y/b      Pow   da = dy·b·a^(b−1), db = dy·y·ln a
 *   Sqrt         dx = dy·0.5/y                Exp   dx = dy·y          Log  dx = dy/x
 *   Relu         dx = dy·[y > 0]   (mask from the output, so Conv+Relu stays one fused node)
 *   LeakyRelu    dx = dy·(x > 0 ? 1 : α)      Clip  dx = dy·[min < y < max] (ReLU6 as PyTorch's hardtanh)
 *   Sigmoid      dx = dy·y·(1 − y)            Tanh  dx = dy·(1 − y²)
 *   HardSigmoid  dx = dy·α·[0 < y < 1]        HardSwish dx = dy·(x < −3 ? 0 : x > 3 ? 1 : x/3 + ½)
 *   Erf          dx = dy·2/√π·e^(−x²)
 *   Softmax      dx = y·(dy − Σₐ dy·y)        LogSoftmax dx = dy − eʸ·Σₐ dy   (a: the softmax axes)
 *   Gemm         Y = α·A′B′ + βC:  dA′ = α·dY·B′ᵀ, dB′ = α·A′ᵀ·dY, dC = β·dY (A′ = Aᵀ when transA)
 *   MatMul       dA = dY·Bᵀ, dB = Aᵀ·dY over the last two axes; 1-D operands as [1,K] / [K,1]
 */
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node, Value } from '../../graph/ir.js';
import { constantInts } from '../../graph/shape-inference.js';
import { DataType } from '../../onnx/proto.js';
import type { GradRule, GradRuleTable } from '../rule.js';

const x0 = (n: Node) => n.input(0)!;
const x1 = (n: Node) => n.input(1)!;
const y0 = (n: Node) => n.output(0);
const dt = (v: Value) => v.dtype ?? DataType.FLOAT;
const c = (g: GraphBuilder, v: Value, x: number) => g.scalar(x, dt(v));
/** dy where `mask`, else 0: dy·float(mask) (measured 1.8× faster in ORT CPU than Where(mask, dy, 0)). */
const masked = (g: GraphBuilder, mask: Value, dy: Value) => g.Mul(dy, g.Cast(mask, dt(dy)));
/** A rule for y = f(x) with dx = dy·f′, f′ built only when x needs a gradient. */
const unary = (fprime: (g: GraphBuilder, n: Node) => Value): GradRule => (g, n, [dy], needs) => [needs[0] ? g.Mul(dy!, fprime(g, n)) : null];

const arithmetic: GradRuleTable = {
  Add: (_g, _n, [dy]) => [dy!, dy!],
  Sum: (_g, n, [dy]) => n.inputs.map(() => dy!),
  Sub: (g, _n, [dy], needs) => [dy!, needs[1] ? g.Neg(dy!) : null],
  Mul: (g, n, [dy], needs) => [needs[0] ? g.Mul(dy!, x1(n)) : null, needs[1] ? g.Mul(dy!, x0(n)) : null],
  Div: (g, n, [dy], needs) => [needs[0] ? g.Div(dy!, x1(n)) : null, needs[1] ? g.Neg(g.Div(g.Mul(dy!, y0(n)), x1(n))) : null],
  Pow: (g, n, [dy], needs) => {
    const [a, b] = [x0(n), x1(n)];
    const bt = b.dtype === a.dtype ? b : g.Cast(b, dt(a));
    return [
      needs[0] ? g.Mul(dy!, g.Mul(bt, g.Pow(a, g.Sub(bt, c(g, bt, 1))))) : null,
      needs[1] ? g.Mul(dy!, g.Mul(y0(n), g.Log(a))) : null,
    ];
  },
  Neg: (g, _n, [dy]) => [g.Neg(dy!)],
  Sqrt: (g, n, [dy]) => [g.Div(g.Mul(dy!, c(g, dy!, 0.5)), y0(n))],
  Exp: unary((_g, n) => y0(n)),
  Log: (g, n, [dy]) => [g.Div(dy!, x0(n))],
  Erf: unary((g, n) => g.Mul(c(g, x0(n), 2 / Math.sqrt(Math.PI)), g.Exp(g.Neg(g.Mul(x0(n), x0(n)))))),
};

const activations: GradRuleTable = {
  Relu: (g, n, [dy]) => [masked(g, g.Greater(y0(n), c(g, dy!, 0)), dy!)],
  LeakyRelu: (g, n, [dy]) => [g.Where(g.Greater(x0(n), c(g, dy!, 0)), dy!, g.Mul(dy!, c(g, dy!, n.getFloat('alpha', 0.01))))],
  Clip: (g, n, [dy]) => {
    const y = y0(n);
    const bound = (i: number, attr: string) => (g.opset >= 11 ? n.input(i) : n.getFloat(attr) === undefined ? null : c(g, y, n.getFloat(attr)!));
    const [lo, hi] = [bound(1, 'min'), bound(2, 'max')];
    const inside = [lo && g.Greater(y, lo), hi && g.Less(y, hi)].filter((m): m is Value => !!m);
    if (inside.length === 0) return [dy!];
    return [masked(g, inside.length === 2 ? g.op('And', inside) : inside[0]!, dy!)];
  },
  Sigmoid: unary((g, n) => g.Mul(y0(n), g.Sub(c(g, y0(n), 1), y0(n)))),
  Tanh: unary((g, n) => g.Sub(c(g, y0(n), 1), g.Mul(y0(n), y0(n)))),
  HardSigmoid: (g, n, [dy]) => {
    const y = y0(n);
    const inside = g.op('And', [g.Greater(y, c(g, y, 0)), g.Less(y, c(g, y, 1))]);
    return [masked(g, inside, g.Mul(dy!, c(g, y, n.getFloat('alpha', 0.2))))];
  },
  HardSwish: unary((g, n) => {
    const x = x0(n);
    const mid = g.Add(g.Mul(x, c(g, x, 1 / 3)), c(g, x, 0.5));
    return g.Where(g.Less(x, c(g, x, -3)), c(g, x, 0), g.Where(g.Greater(x, c(g, x, 3)), c(g, x, 1), mid));
  }),
};

/** The axes a softmax normalises over: [axis] from opset 13, axis…rank−1 before (2-D coercion). */
function softmaxAxes(g: GraphBuilder, n: Node): number[] {
  const rank = x0(n).shape!.length;
  const axis = n.getInt('axis', g.opset >= 13 ? -1 : 1);
  const a = axis < 0 ? axis + rank : axis;
  return g.opset >= 13 ? [a] : Array.from({ length: rank - a }, (_, i) => a + i);
}

const softmax: GradRuleTable = {
  Softmax: (g, n, [dy]) => {
    const y = y0(n);
    const dot = g.ReduceSum(g.Mul(dy!, y), softmaxAxes(g, n), { keepdims: 1 });
    return [g.Mul(y, g.Sub(dy!, dot))];
  },
  LogSoftmax: (g, n, [dy]) => [g.Sub(dy!, g.Mul(g.Exp(y0(n)), g.ReduceSum(dy!, softmaxAxes(g, n), { keepdims: 1 })))],
};

const products: GradRuleTable = {
  Gemm: (g, n, [dy], needs) => {
    const [a, b, cIn] = [x0(n), x1(n), n.input(2)];
    const alpha = n.getFloat('alpha', 1);
    const beta = n.getFloat('beta', 1);
    const tA = n.getInt('transA', 0);
    const tB = n.getInt('transB', 0);
    const gemm = (p: Value, q: Value, transA: number, transB: number) => g.Gemm(p, q, null, { alpha: alpha === 1 ? undefined : alpha, transA: transA ? 1 : undefined, transB: transB ? 1 : undefined });
    const da = !needs[0] ? null : tA ? gemm(b, dy!, tB, 1) : gemm(dy!, b, 0, 1 - tB);
    const db = !needs[1] ? null : tB ? gemm(dy!, a, 1, tA) : gemm(a, dy!, 1 - tA, 0);
    const dc = !cIn || !needs[2] ? null : beta === 1 ? dy! : g.Mul(dy!, c(g, dy!, beta));
    return [da, db, dc];
  },
  MatMul: (g, n, [dy], needs) => {
    const [a, b] = [x0(n), x1(n)];
    const ra = a.shape!.length;
    const rb = b.shape!.length;
    // 1-D operands: A [K] → [1,K], B [K] → [K,1]; dY gets the dims numpy matmul removed.
    const a2 = ra === 1 ? g.Unsqueeze(a, [0]) : a;
    const b2 = rb === 1 ? g.Unsqueeze(b, [1]) : b;
    const dyShape = [...(dy!.shape as number[])];
    if (ra === 1) dyShape.splice(rb === 1 ? dyShape.length : dyShape.length - 1, 0, 1);
    if (rb === 1) dyShape.push(1);
    const dy2 = ra === 1 || rb === 1 ? g.Reshape(dy!, dyShape) : dy!;
    const swap = (v: Value) => {
      const r = v.shape!.length;
      return g.Transpose(v, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
    };
    let da: Value | null = null;
    let db: Value | null = null;
    if (needs[0]) {
      da = g.MatMul(dy2, swap(b2));
      if (rb === 1 && ra === 1) da = g.Reshape(da, a.shape as number[]);
    }
    if (needs[1]) {
      const k = (a2.shape as number[]).at(-1)!;
      if (rb === 2 && ra > 2) {
        // a weight shared over batch dims: one GEMM over the flattened rows, no batched product + sum
        const cols = (b.shape as number[])[1]!;
        db = g.Gemm(g.Reshape(a2, [-1, k]), g.Reshape(dy2, [-1, cols]), null, { transA: 1 });
      } else {
        db = g.MatMul(swap(a2), dy2);
        if (rb === 1) db = g.Squeeze(db, [db.shape!.length - 1]);
      }
    }
    return [da, db];
  },
};

const passThrough: GradRuleTable = {
  Identity: (_g, _n, [dy]) => [dy!],
  Cast: (g, n, [dy]) => [dy!.dtype === x0(n).dtype ? dy! : g.Cast(dy!, dt(x0(n)))],
  /**
   * Training-mode Dropout: y = x·mask/(1 − ratio), so dx = dy·mask/(1 − ratio). In inference mode
   * (training_mode absent or false) Dropout is the identity.
   */
  Dropout: (g, n, [dy]) => {
    const mode = n.input(2) ? constantInts(n.input(2)!) : undefined;
    const training = n.input(2) ? mode === undefined || mode[0] !== 0 : false;
    if (!training) return [dy!];
    const mask = n.outputs[1];
    if (!mask) throw new Error(`${n.describe()}: training-mode Dropout needs its mask output for the gradient`);
    const ratio = n.input(1) ?? c(g, dy!, 0.5);
    const scale = g.Div(c(g, dy!, 1), g.Sub(c(g, dy!, 1), ratio.dtype === dy!.dtype ? ratio : g.Cast(ratio, dt(dy!))));
    return [g.Mul(g.Mul(dy!, g.Cast(mask, dt(dy!))), scale)];
  },
};

export const elementwiseRules: GradRuleTable = { ...arithmetic, ...activations, ...softmax, ...products, ...passThrough };
