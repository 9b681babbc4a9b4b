/**
 * QuantizeLinear / DequantizeLinear rules (quant.ts).
 *
 * Finite differences where the function is differentiable: DequantizeLinear is linear in its
 * scale (per tensor and per channel, both axes), and a Q→DQ pair is flat (gradient 0) outside its
 * range, where the clipped STE must agree. Inside the range a pair is a staircase, whose true
 * derivative is 0 and whose STE derivative is 1 by definition, so there the gradients are checked
 * against exact values (`expect`, L = Σy): the clipping boundary, x = lo and x = hi passing and
 * values just outside not, and the LSQ scale gradient round(x/s) − x/s inside, qmin − z / qmax − z
 * outside. Scales are powers of two so that lo and hi are exact in float32.
 */
import { DataType } from '../../onnx/proto.js';
import { Tensor } from '../../graph/tensor.js';
import type { GraphBuilder } from '../../graph/builder.js';
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
  // the STE through a network: x fake-quantized, then a Conv with per-channel fake-quantized
  // weights and a Relu; x's gradient must be the float network's gradient at the quantized
  // point, masked — checked by finite differences on the saturated region only (flat) and by
  // the driver's shape checks; the rest is covered by the exact cases above
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
