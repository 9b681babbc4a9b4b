/** Every shape rule against finite differences (gradcheck.ts), over ranks, axes and edge slices. */
import { DataType } from '../../onnx/proto.js';
import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/ir.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { RULES } from './index.js';

const F = DataType.FLOAT;
const fn = (name: string, shape: number[], f: (g: GraphBuilder, x: Value) => Value | Value[], extra: Partial<GradCase> = {}): GradCase => ({
  name,
  build: (g) => {
    const y = f(g, g.input('x', F, shape));
    (Array.isArray(y) ? y : [y]).forEach((v, i) => g.output(v, `y${i}`));
  },
  ...extra,
});

const CASES: GradCase[] = [
  fn('Flatten/axis1', [2, 3, 4], (g, x) => g.Flatten(x)),
  fn('Flatten/axis2', [2, 3, 4], (g, x) => g.Flatten(x, { axis: 2 })),
  fn('Reshape', [2, 6], (g, x) => g.Reshape(x, [3, -1])),
  fn('Squeeze', [2, 1, 3], (g, x) => g.Squeeze(x, [1])),
  fn('Squeeze/opset11-attr', [2, 1, 3], (g, x) => g.Squeeze(x, [1]), { opset: 11 }),
  fn('Unsqueeze', [2, 3], (g, x) => g.Unsqueeze(x, [0, 3])),
  fn('Transpose/default', [2, 3, 4], (g, x) => g.Transpose(x)),
  fn('Transpose/perm', [2, 3, 4, 5], (g, x) => g.Transpose(x, [0, 2, 3, 1])),
  fn('Concat/axis1', [2, 3], (g, x) => g.Concat([x, g.Mul(x, x), g.Slice(x, [0], [2], [1])], 1)),
  fn('Concat/axis0-same', [2, 3], (g, x) => g.Concat([x, x], 0)),
  fn('Split/equal', [4, 3], (g, x) => g.Split(x, { axis: 0, parts: 2 })),
  fn('Split/sizes', [2, 7], (g, x) => g.Split(x, { axis: 1, sizes: [2, 1, 4] })),
  fn('Split/one-used', [2, 6], (g, x) => g.Split(x, { axis: -1, sizes: [2, 4] })[1]!),
  fn('Slice/basic', [4, 5], (g, x) => g.Slice(x, [1, 1], [3, 4])),
  fn('Slice/negative-and-clamped', [4, 5], (g, x) => g.Slice(x, [-3, 0], [1000, -1], [0, 1])),
  fn('Slice/one-axis', [2, 3, 6], (g, x) => g.Slice(x, [2], [5], [2])),
  fn('Slice/step2', [3, 7], (g, x) => g.Slice(x, [1], [7], [1], [2])),
  fn('Slice/reverse', [3, 5], (g, x) => g.Slice(x, [-1], [-1000], [1], [-1])),
  fn('Slice/opset9-attrs', [4, 5], (g, x) => g.op('Slice', [x], { starts: [1, 0], ends: [3, 2], axes: [0, 1] }), { opset: 9 }),
  fn('Pad/constant', [2, 3], (g, x) => g.Pad(x, [1, 0, 2, 3])),
  fn('Pad/value', [2, 3, 4], (g, x) => g.Pad(x, [0, 1, 1, 0, 1, 1], { value: 0.5 })),
  fn('Pad/crop', [3, 4], (g, x) => g.Pad(x, [-1, 1, 0, -2])),
  fn('Pad/opset18-axes', [2, 3, 4], (g, x) => g.op('Pad', [x, g.ints([1, 2]), null, g.ints([2])]), { opset: 18 }),
  {
    name: 'Gather/embedding-repeated',
    build: (g) => g.output(g.Gather(g.input('w', F, [5, 3]), g.input('i', DataType.INT64, [2, 3])), 'y'),
    inputs: { i: [0, 2, 2, 4, 0, 0] },
  },
  {
    name: 'Gather/axis1',
    build: (g) => g.output(g.Gather(g.input('w', F, [2, 4, 3]), g.input('i', DataType.INT64, [3]), { axis: 1 }), 'y'),
    inputs: { i: [3, 1, 3] },
  },
  {
    name: 'Gather/negative-index-int32',
    build: (g) => g.output(g.Gather(g.input('w', F, [4, 2]), g.input('i', DataType.INT32, [2])), 'y'),
    inputs: { i: [-1, 1] },
  },
];

gradcheckTests(CASES, { rules: RULES });
