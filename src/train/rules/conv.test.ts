/**
 * Conv / ConvTranspose gradients through the shared harness (gradcheck.ts): central finite
 * differences of the forward model in onnxruntime. ORT CPU has no double Conv kernels, so the
 * differences are float32 (ε = 1e-2); Conv is linear in x and in W, so they carry no truncation
 * error and only the rounding of y (~1e-4 of O(1) gradients): tol 2e-3, far below the O(1) error
 * any wrong tap, pad or slice would give. Every element of every tensor is checked, so the edges
 * (padding, a tail no window reaches, output_padding) are all covered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../graph/builder.js';
import { DataType } from '../../onnx/proto.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { elementwiseRules } from './elementwise.js';
import { reduceRules } from './reduce.js';
import { convRules } from './conv.js';

const F = DataType.FLOAT;
const RULES = { ...elementwiseRules, ...reduceRules, ...convRules };

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  attrs: Record<string, number | number[] | string>;
}

function convCase(op: 'Conv' | 'ConvTranspose', c: ConvCase): GradCase {
  const group = Number(c.attrs.group ?? 1);
  const channels = op === 'Conv' ? c.w[0]! : c.w[1]! * group;
  return {
    name: `${op}/${c.name}`,
    tol: 2e-3,
    maxElements: 2000,
    build: (g: GraphBuilder) => {
      const x = g.input('x', F, c.x);
      const w = g.input('w', F, c.w);
      const b = c.bias ? g.input('b', F, [channels]) : null;
      g.output(g.op(op, [x, w, b], c.attrs), 'y');
    },
  };
}

const CONV: ConvCase[] = [
  { name: 'pad 1, bias', x: [2, 3, 6, 6], w: [4, 3, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1] } },
  { name: 'stride 2, dilation [2,1], asymmetric pads', x: [2, 2, 11, 9], w: [3, 2, 3, 3], bias: true, attrs: { strides: [2, 2], dilations: [2, 1], pads: [1, 0, 2, 1] } },
  { name: 'stride 2, the tail reaches no window', x: [1, 2, 8, 8], w: [2, 2, 3, 3], attrs: { strides: [2, 2] } },
  { name: 'stride 3, kernel 2, pads [1,1,0,0]', x: [1, 1, 7, 7], w: [2, 1, 2, 2], attrs: { strides: [3, 3], pads: [1, 1, 0, 0] } },
  { name: '1×1 stride 2', x: [2, 3, 5, 5], w: [2, 3, 1, 1], bias: true, attrs: { strides: [2, 2] } },
  { name: 'group 2, stride 2, pad 1', x: [2, 4, 7, 7], w: [6, 2, 3, 3], bias: true, attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'depthwise 3×3 stride 2 pad 1', x: [2, 6, 9, 9], w: [6, 1, 3, 3], attrs: { group: 6, strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'depthwise 3×3 stride 1 pad 1 (flipped-kernel input gradient)', x: [2, 5, 6, 7], w: [5, 1, 3, 3], bias: true, attrs: { group: 5, pads: [1, 1, 1, 1] } },
  { name: 'depthwise dilation 2, asymmetric pads, stride 1', x: [1, 4, 9, 8], w: [4, 1, 3, 2], attrs: { group: 4, dilations: [2, 2], pads: [1, 0, 4, 2] } },
  { name: 'depthwise multiplier 2, dilation 2', x: [2, 3, 8, 8], w: [6, 1, 3, 3], bias: true, attrs: { group: 3, dilations: [2, 2], pads: [2, 2, 2, 2] } },
  { name: 'auto_pad SAME_UPPER stride 2', x: [1, 1, 9, 10], w: [2, 1, 3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
  { name: 'auto_pad SAME_LOWER kernel 4', x: [2, 1, 6, 7], w: [2, 1, 4, 4], attrs: { auto_pad: 'SAME_LOWER' } },
  { name: 'auto_pad VALID stride 3', x: [1, 2, 10, 11], w: [2, 2, 3, 2], attrs: { auto_pad: 'VALID', strides: [3, 3] } },
  { name: '1-D stride 2 pads [1,2]', x: [2, 2, 10], w: [3, 2, 4], bias: true, attrs: { strides: [2], pads: [1, 2] } },
  // The by-tap weight gradient (convWeightGradTaps): 1×1 kernels, and stride 1 with C = 1 or ≥ 8 and ≥ 100 output positions.
  { name: 'taps: 3×3 pad 1, C = 1, 12×12', x: [2, 1, 12, 12], w: [3, 1, 3, 3], bias: true, attrs: { pads: [1, 1, 1, 1] } },
  { name: 'taps: C = 8, dilation 2, asymmetric pads', x: [1, 8, 10, 12], w: [2, 8, 3, 2], attrs: { dilations: [2, 2], pads: [1, 0, 2, 1] } },
  { name: 'taps: 3-D 1×1×1', x: [2, 3, 2, 3, 4], w: [4, 3, 1, 1, 1], bias: true, attrs: {} },
  { name: '3-D stride [1,2,1] pad 1', x: [1, 2, 4, 5, 4], w: [2, 2, 2, 3, 2], attrs: { strides: [1, 2, 1], pads: [1, 1, 1, 1, 1, 1] } },
];

const CONV_TRANSPOSE: ConvCase[] = [
  { name: 'stride 2 pads 1 output_padding 1, bias', x: [2, 3, 4, 4], w: [3, 2, 3, 3], bias: true, attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] } },
  { name: 'group 2, stride [2,1], dilation [1,2]', x: [1, 4, 3, 5], w: [4, 3, 2, 2], attrs: { group: 2, strides: [2, 1], dilations: [1, 2] } },
  { name: 'end pads beside output_padding', x: [2, 2, 5, 4], w: [2, 3, 3, 3], attrs: { strides: [3, 2], pads: [0, 1, 2, 1], output_padding: [1, 0] } },
  { name: '1-D VALID stride 2, bias', x: [2, 2, 6], w: [2, 2, 3], bias: true, attrs: { auto_pad: 'VALID', strides: [2] } },
];

gradcheckTests([...CONV.map((c) => convCase('Conv', c)), ...CONV_TRANSPOSE.map((c) => convCase('ConvTranspose', c))], { rules: RULES });

test('Conv rule emits no input gradient when the input needs none', () => {
  const g = new GraphBuilder();
  const x = g.input('x', F, [2, 1, 6, 6]);
  const y = g.Conv(x, g.input('w', F, [3, 1, 3, 3]), g.input('b', F, [3]), { pads: [1, 1, 1, 1] });
  const dy = g.input('dy', F, [2, 3, 6, 6]);
  const [dx, dw, db] = convRules.Conv!(g, y.producer()!, [dy], [false, true, true]);
  assert.equal(dx, null);
  assert.deepEqual([dw!.shape, db!.shape], [[3, 1, 3, 3], [3]]);
  assert.ok(!g.graph.nodes.some((n) => n.opType === 'ConvTranspose'));
});

test('ConvTranspose with output_shape names itself as unsupported', () => {
  const g = new GraphBuilder();
  const y = g.ConvTranspose(g.input('x', F, [1, 2, 3, 3]), g.input('w', F, [2, 2, 3, 3]), null, { strides: [2, 2], output_shape: [6, 6] });
  assert.throws(() => convRules.ConvTranspose!(g, y.producer()!, [g.input('dy', F, [1, 2, 6, 6])], [true, true]), /ConvTranspose.*output_shape/);
});
