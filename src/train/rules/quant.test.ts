/**
 * QuantizeLinear / DequantizeLinear rules (quant.ts).
 *
 * Finite differences where the function is differentiable: DequantizeLinear is linear in its
 * scale (per tensor and per channel, both axes), and a Q→DQ pair is flat (gradient 0) outside its
 * range, where the clipped STE must agree. Inside the range a pair is a staircase, whose true
 * derivative is 0 and whose STE derivative is 1 by definition, so there the gradients are checked
 * against exact values (`expect`, L = Σy): the clipping boundary, x = lo and x = hi passing and
 * values just outside not, and the LSQ scale gradient round(x/s) − x/s inside, qmin − z / qmax − z
 * outside. Scales are powers of two so that lo and hi are exact in float32. Through a network
 * (Conv+Relu after fake-quantized x and per-channel W), the STE gradients must equal the float
 * network's gradients at the quantized point, masked by each range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataType } from '../../onnx/proto.js';
import { GraphBuilder } from '../../graph/builder.js';
import { Rng } from '../../data/rng.js';
import { createSession } from '../../runtime/session.js';
import { appendBackward } from '../autodiff.js';
import { Tensor } from '../../graph/tensor.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { RULES } from './index.js';

const F = DataType.FLOAT;
const U8 = DataType.UINT8;
const I8 = DataType.INT8;

/** y = DQ(Q(x, s, z), s, z), s an initializer named 's'. */
function fakeQuant(g: GraphBuilder, xShape: number[], s: number[], z: number[], zType: DataType, axis?: number) {
  const x = g.input('x', F, xShape);
  const perChannel = s.length > 1;
  const sv = g.initializer('s', Tensor.fromArray(F, perChannel ? [s.length] : [], s));
  const zv = g.initializer('z', Tensor.fromArray(zType, perChannel ? [z.length] : [], z));
  g.output(g.DequantizeLinear(g.QuantizeLinear(x, sv, zv, { axis }), sv, zv, { axis }), 'y');
}

/** round half to even, as QuantizeLinear. */
const rne = (u: number) => (Math.abs(u % 1) === 0.5 ? 2 * Math.round(u / 2) : Math.round(u));
/** Expected dL/dx and dL/ds for L = Σ DQ(Q(x)), per tensor. */
function lsq(xs: number[], s: number, z: number, qmin: number, qmax: number) {
  const lo = s * (qmin - z);
  const hi = s * (qmax - z);
  const dx = xs.map((x) => (x >= lo && x <= hi ? 1 : 0));
  const ds = xs.reduce((acc, x) => {
    const q = Math.min(qmax, Math.max(qmin, rne(x / s) + z));
    return acc + (q - z) - (x >= lo && x <= hi ? x / s : 0);
  }, 0);
  return { x: dx, s: [ds] };
}

// uint8, s = 0.5, z = 10: range [−5, 122.5]
const boundaryX = [-6, -5, -5.001, -4.9, 0, 3.3, 7.25, 122.5, 122.501, 122.6, 200];
// int8 per channel along axis 0, s = [0.125, 0.25], z = 0: ranges [−16, 15.875] and [−32, 31.75]
const channelX = [-16, 15.875, 15.876, -16.001, 3.3, -0.06, -32, 31.75, 31.751, -32.5, 7.1, 0.3];
const channelExpect = {
  x: [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1],
  s: [0, 1].map((c) => lsq(channelX.slice(6 * c, 6 * c + 6), [0.125, 0.25][c]!, 0, -128, 127).s[0]!),
};

const CASES: GradCase[] = [
  // DequantizeLinear is linear in s: finite differences decide
  {
    name: 'DequantizeLinear/per-tensor-uint8',
    build: (g) => g.output(g.DequantizeLinear(g.initializer('q', Tensor.fromArray(U8, [2, 3], [0, 7, 9, 200, 255, 3])), g.initializer('s', Tensor.scalar(F, 0.37)), g.initializer('z', Tensor.scalar(U8, 7))), 'y'),
  },
  {
    name: 'DequantizeLinear/per-channel-axis0-int8',
    build: (g) => g.output(g.DequantizeLinear(g.initializer('q', Tensor.fromArray(I8, [3, 2, 2], [-127, 5, 0, 127, 3, -3, 9, 1, 100, -100, 2, 64])), g.initializer('s', [0.1, 0.2, 0.3], [3]), g.initializer('z', Tensor.fromArray(I8, [3], [0, 1, -2])), { axis: 0 }), 'y'),
  },
  {
    name: 'DequantizeLinear/per-channel-axis1',
    build: (g) => g.output(g.DequantizeLinear(g.initializer('q', Tensor.fromArray(I8, [2, 3, 2], [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12])), g.initializer('s', [0.5, 0.25, 2], [3]), null, { axis: 1 }), 'y'),
  },
  // outside the range a Q→DQ pair is flat: finite differences and the clipped STE both give 0
  {
    name: 'QDQ/saturated-flat',
    build: (g) => fakeQuant(g, [6], [0.5], [10], U8),
    inputs: { x: [-9, -7.3, -6, 130, 150.2, 300] },
    wrt: ['x'],
  },
  // inside, the STE by definition; exact values on and around the boundary
  {
    name: 'QDQ/boundary-uint8',
    build: (g) => fakeQuant(g, [boundaryX.length], [0.5], [10], U8),
    inputs: { x: boundaryX },
    expect: lsq(boundaryX, 0.5, 10, 0, 255),
  },
  {
    name: 'QDQ/boundary-int8',
    build: (g) => fakeQuant(g, [7], [0.25], [-3], I8),
    inputs: { x: [-31.25, -31.26, 32.5, 32.51, 0.1, -5.1, 9.37] },
    expect: lsq([-31.25, -31.26, 32.5, 32.51, 0.1, -5.1, 9.37], 0.25, -3, -128, 127),
  },
  {
    name: 'QDQ/per-channel-axis0-int8',
    build: (g) => fakeQuant(g, [2, 6], [0.125, 0.25], [0, 0], I8, 0),
    inputs: { x: channelX },
    expect: channelExpect,
  },
  // a network (x and per-channel W fake-quantized, then Conv) entirely in the saturated region,
  // where it is flat: finite differences give 0 and so must the STE; the unsaturated case of the
  // same network is the last test below
  {
    name: 'QDQ/Conv-per-channel-weights',
    build: (g) => {
      const x = g.input('x', F, [1, 2, 4, 4]);
      const s = g.initializer('sx', Tensor.scalar(F, 2 ** -4));
      const z = g.initializer('zx', Tensor.scalar(U8, 128));
      const xq = g.DequantizeLinear(g.QuantizeLinear(x, s, z), s, z);
      const w = g.input('w', F, [3, 2, 3, 3]);
      const sw = g.initializer('sw', [2 ** -7, 2 ** -6, 2 ** -5], [3]);
      const zw = g.initializer('zw', Tensor.fromArray(I8, [3], [0, 0, 0]));
      const wq = g.DequantizeLinear(g.QuantizeLinear(w, sw, zw, { axis: 0 }), sw, zw, { axis: 0 });
      g.output(g.Conv(xq, wq, null, { pads: [1, 1, 1, 1] }), 'y');
    },
    // everything saturated: |x| ≥ 8 > 8 − 1/16 … and |w| beyond each channel's range
    inputs: {
      x: Array.from({ length: 32 }, (_, i) => (i % 2 ? 9 + i / 7 : -9 - i / 5)),
      w: Array.from({ length: 54 }, (_, i) => (i % 3 ? 5 + i / 9 : -5 - i / 11)),
    },
    wrt: ['x', 'w'],
  },
];

gradcheckTests(CASES, { rules: RULES });

// The STE through a network: with x and W fake-quantized before a Conv and a Relu, the gradients
// must be the float network's gradients at the quantized point (x̂, Ŵ), masked by each range.
// The float gradients come from the Conv/Relu rules (finite-difference checked in their files).
test('STE through Conv+Relu: dL/dx = m_x·dL/dx̂ and dL/dW = m_W·dL/dŴ (per-channel weights)', async () => {
  const rng = new Rng(5);
  const xv = Array.from({ length: 2 * 5 * 5 }, () => 2 * rng.normal());
  const wv = Array.from({ length: 3 * 2 * 3 * 3 }, () => 1.5 * rng.normal());
  const rv = Array.from({ length: 3 * 5 * 5 }, () => rng.normal());
  const [sx, zx] = [1 / 32, 128]; // x range [−4, 3.96875]
  const sw = [2 ** -7, 2 ** -6, 2 ** -5]; // W ranges ±0.99, ±1.98, ±3.97 (int8 [−128, 127])

  /** L = Σ Relu(Conv(a, b))·r, gradients w.r.t. the inputs x and w; `quantize` puts Q→DQ on both. */
  async function grads(quantize: boolean, x: ArrayLike<number>, w: ArrayLike<number>) {
    const g = new GraphBuilder({ opset: 17 });
    const xi = g.input('x', F, [1, 2, 5, 5]);
    const wi = g.input('w', F, [3, 2, 3, 3]);
    const r = g.input('r', F, [1, 3, 5, 5]);
    let [a, b] = [xi, wi];
    if (quantize) {
      const s = g.initializer('sx', Tensor.scalar(F, sx));
      const z = g.initializer('zx', Tensor.scalar(U8, zx));
      a = g.DequantizeLinear(g.QuantizeLinear(xi, s, z), s, z);
      const s2 = g.initializer('sw', sw, [3]);
      const z2 = g.initializer('zw', Tensor.fromArray(I8, [3], [0, 0, 0]));
      b = g.DequantizeLinear(g.QuantizeLinear(wi, s2, z2, { axis: 0 }), s2, z2, { axis: 0 });
    }
    const loss = g.ReduceSum(g.Mul(g.Relu(g.Conv(a, b, null, { pads: [1, 1, 1, 1] })), r), undefined, { keepdims: 0 });
    const [dx, dw] = appendBackward(g, loss, [xi, wi], { rules: RULES });
    g.output(g.Identity(dx!), 'dx');
    g.output(g.Identity(dw!), 'dw');
    g.output(g.Identity(a), 'xq');
    g.output(g.Identity(b), 'wq');
    const session = await createSession(g.model(), { threads: 1 });
    try {
      const t = (dims: number[], d: ArrayLike<number>) => ({ dtype: F, dims, data: Float32Array.from(d) });
      const out = await session.run({ x: t([1, 2, 5, 5], x), w: t([3, 2, 3, 3], w), r: t([1, 3, 5, 5], rv) });
      return Object.fromEntries(['dx', 'dw', 'xq', 'wq'].map((k) => [k, out[k]!.data as Float32Array]));
    } finally {
      await session.release();
    }
  }
  const q = await grads(true, xv, wv);
  const f = await grads(false, q.xq!, q.wq!);
  const mx = xv.map((x) => (x >= sx * (0 - zx) && x <= sx * (255 - zx) ? 1 : 0));
  const mw = wv.map((w, i) => (w >= sw[Math.floor(i / 18)]! * -128 && w <= sw[Math.floor(i / 18)]! * 127 ? 1 : 0));
  assert.ok(mx.includes(0) && mx.includes(1) && mw.includes(0) && mw.includes(1), 'both sides of both ranges are exercised');
  const close = (a: Float32Array, b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!)));
  assert.ok(close(q.dx!, Array.from(f.dx!, (d, i) => d * mx[i]!)), 'dL/dx');
  assert.ok(close(q.dw!, Array.from(f.dw!, (d, i) => d * mw[i]!)), 'dL/dW');
  assert.ok(q.dw!.some((v) => v !== 0) && q.dx!.some((v) => v !== 0));
});
