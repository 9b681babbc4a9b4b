/**
 * Pooling gradients, two ways:
 *   1. the shared harness (gradcheck.ts): finite differences of the forward model in ORT — float64
 *      for MaxPool (ORT has double MaxPool), float32 for AveragePool/GlobalAveragePool (no double
 *      kernels; both are linear, so only y's rounding counts: tol 2e-3);
 *   2. MaxPool ties, where finite differences cannot decide: the rule run on inputs with 2–4 equal
 *      maxima per window, all-zero windows, and ReLU'd convolutions of real Fashion-MNIST images,
 *      against a plain float64 TypeScript reference that routes each window's gradient to its
 *      FIRST maximum (row-major over the window), as PyTorch and ONNX's Indices do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/ir.js';
import { DataType } from '../../onnx/proto.js';
import { Rng } from '../../data/rng.js';
import { bundledFashionMnistDir, openIdxDataset } from '../../data/dataset.js';
import { createSession } from '../../runtime/session.js';
import type { HostTensor } from '../../runtime/tensors.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { elementwiseRules } from './elementwise.js';
import { reduceRules } from './reduce.js';
import { windowGeometry } from './conv.js';
import { disjointWindows, poolRules } from './pool.js';

const F = DataType.FLOAT;
const RULES = { ...elementwiseRules, ...reduceRules, ...poolRules };
type Attrs = Record<string, number | number[] | string>;

const poolCase = (op: string, name: string, shape: number[], attrs: Attrs, extra: Partial<GradCase> = {}): GradCase => ({
  name: `${op}/${name}`,
  maxElements: 2000,
  build: (g) => g.output(g.op(op, [g.input('x', F, shape)], attrs), 'y'),
  ...extra,
});

const MAXPOOL: [string, number[], Attrs][] = [
  ['2×2 stride 2', [2, 3, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['2×2 stride 2, odd size (tail unpooled)', [1, 2, 7, 5], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['3×3 stride 2 pad 1', [2, 2, 7, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['2×2 stride 1 (overlapping)', [1, 2, 5, 5], { kernel_shape: [2, 2] }],
  ['3×3 stride 2 ceil_mode', [1, 2, 10, 9], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
  // (ceil_mode where the last window would start in the end pad: ORT drops it, ONNX shape inference
  // inside ORT keeps it, so any consumer of y fails to load; not a gradient question.)
  ['3×3 stride 2 ceil_mode pads 1', [1, 2, 6, 6], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }],
  ['dilations [2,3]', [1, 2, 8, 9], { kernel_shape: [2, 2], dilations: [2, 3] }],
  ['asymmetric pads, kernel [3,2]', [2, 1, 6, 7], { kernel_shape: [3, 2], strides: [1, 2], pads: [2, 0, 1, 1] }],
  ['SAME_UPPER 3×3 stride 2', [1, 2, 7, 6], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }],
  ['1-D kernel 3 stride 2', [2, 3, 11], { kernel_shape: [3], strides: [2] }],
  ['3-D 2×2×2 stride 2', [1, 2, 4, 4, 6], { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }],
];

const AVERAGEPOOL: [string, number[], Attrs, Partial<GradCase>?][] = [
  ['2×2 stride 2', [2, 3, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['3×3 stride 2 pad 1, pads excluded', [2, 2, 7, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['3×3 stride 2 pad 1, pads counted', [2, 2, 7, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }],
  ['ceil_mode, pads excluded', [1, 2, 10, 9], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
  ['ceil_mode pads 1, pads counted', [1, 2, 6, 7], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }],
  ['asymmetric pads, kernel [2,3], stride [1,2]', [2, 1, 6, 7], { kernel_shape: [2, 3], strides: [1, 2], pads: [1, 0, 0, 2] }],
  ['SAME_LOWER 3×3', [1, 2, 5, 6], { kernel_shape: [3, 3], auto_pad: 'SAME_LOWER' }],
  ['1-D kernel 4 stride 3 pads counted', [2, 2, 13], { kernel_shape: [4], strides: [3], pads: [2, 1], count_include_pad: 1 }],
  ['dilations [2,1] (opset 19)', [1, 2, 8, 7], { kernel_shape: [2, 3], dilations: [2, 1], pads: [1, 1, 1, 1] }, { opset: 19 }],
];

gradcheckTests(
  [
    ...MAXPOOL.map(([name, shape, attrs]) => poolCase('MaxPool', name, shape, attrs)),
    ...AVERAGEPOOL.map(([name, shape, attrs, extra]) => poolCase('AveragePool', name, shape, attrs, { tol: 2e-3, ...extra })),
    poolCase('GlobalAveragePool', '2-D', [2, 3, 5, 7], {}, { tol: 2e-3 }),
    poolCase('GlobalAveragePool', '1-D', [2, 4, 9], {}, { tol: 2e-3 }),
  ],
  { rules: RULES },
);

// ---- ties ------------------------------------------------------------------------------------

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * Float64 reference: each window's dy goes to its first maximum, taps in row-major order, pads
 * skipped. Returns dx and how many windows held two or more equal maxima.
 */
function maxPoolRouteRef(x: Float32Array, xs: number[], os: number[], attrs: Attrs, dy: Float32Array): { dx: Float64Array; tiedWindows: number } {
  const node = new GraphBuilder().MaxPool(new GraphBuilder().input('x', F, xs), attrs as never).producer()!;
  const geo = windowGeometry(node, xs.slice(2), attrs.kernel_shape as number[]);
  const is = xs.slice(2);
  const [iN, oN, kN] = [prod(is), prod(os), prod(geo.k)];
  const unravel = (f: number, dims: number[]) => dims.map((_, a) => Math.floor(f / prod(dims.slice(a + 1))) % dims[a]!);
  const dx = new Float64Array(x.length);
  let tiedWindows = 0;
  for (let nc = 0; nc < xs[0]! * xs[1]!; nc++) {
    for (let w = 0; w < oN; w++) {
      const o = unravel(w, os);
      let best = -Infinity;
      let at = -1;
      let ties = 0;
      for (let t = 0; t < kN; t++) {
        const tap = unravel(t, geo.k);
        const pos = o.map((oa, a) => oa * geo.s[a]! + tap[a]! * geo.d[a]! - geo.pb[a]!);
        if (pos.some((p, a) => p < 0 || p >= is[a]!)) continue;
        const i = nc * iN + pos.reduce((acc, p, a) => acc * is[a]! + p, 0);
        const v = x[i]!;
        if (at < 0 || v > best) [best, at, ties] = [v, i, 1];
        else if (v === best) ties++;
      }
      if (ties > 1) tiedWindows++;
      dx[at] = dx[at]! + dy[nc * oN + w]!;
    }
  }
  return { dx, tiedWindows };
}

/**
 * Builds `build`'s graph (which returns the MaxPool's output), appends the MaxPool rule with dy
 * as a graph input, runs it in ORT and compares dx with the float64 reference over the pool's
 * actual input values. Returns the number of tied windows seen.
 */
async function checkRouting(label: string, attrs: Attrs, build: (g: GraphBuilder) => Value, feeds: Record<string, HostTensor>): Promise<number> {
  const g = new GraphBuilder();
  const y = build(g);
  const node = y.producer()!;
  const xs = node.input(0)!.shape as number[];
  const os = (y.shape as number[]).slice(2);
  const dy = g.input('dy', F, y.shape as number[]);
  const [dx] = poolRules.MaxPool!(g, node, [dy], [true]);
  g.output(g.Identity(node.input(0)!), 'pooled_input');
  g.output(dx!, 'dx');
  // Disjoint windows route through the forward MaxPool's Indices; overlapping ones through patches.
  const geo = windowGeometry(node, xs.slice(2), attrs.kernel_shape as number[]);
  assert.equal(node.outputs.length > 1, disjointWindows(geo), `${label}: Indices output iff the windows are disjoint`);
  const rng = new Rng(99);
  const dyData = Float32Array.from({ length: prod(y.shape as number[]) }, () => Math.round(rng.normal() * 64) / 16);
  const session = await createSession(g.model(), { label });
  const out = await session.run({ ...feeds, dy: { dtype: F, dims: y.shape as number[], data: dyData } });
  await session.release();
  const x = out.pooled_input!.data as Float32Array;
  const ref = maxPoolRouteRef(x, xs, os, attrs, dyData);
  const got = out.dx!.data as Float32Array;
  let worst = 0;
  let at = -1;
  got.forEach((v, i) => {
    const e = Math.abs(v - ref.dx[i]!);
    if (e > worst) [worst, at] = [e, i];
  });
  assert.ok(worst <= 1e-6, `${label}: dx[${at}] = ${got[at]} but the first-maximum reference gives ${ref.dx[at]}`);
  return ref.tiedWindows;
}

/** Channels: all zeros; random integers 0…2 (ties of 2–4 everywhere); negative ties; N(0,1). */
function tiedInput(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const [n, c, ...sp] = shape;
  const area = prod(sp);
  const x = new Float32Array(prod(shape));
  for (let i = 0; i < n! * c!; i++) {
    const kind = i % 4;
    for (let j = 0; j < area; j++) {
      x[i * area + j] = kind === 0 ? 0 : kind === 1 ? rng.int(3) : kind === 2 ? -1 - rng.int(2) : rng.normal();
    }
  }
  return x;
}

const TIE_POOLS: [string, number[], Attrs][] = [
  ['2×2 stride 2', [2, 4, 8, 8], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['2×2 stride 2, odd size', [1, 4, 7, 9], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['3×3 stride 3', [1, 4, 9, 9], { kernel_shape: [3, 3], strides: [3, 3] }],
  ['3×3 stride 2 pad 1', [2, 4, 7, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['2×2 stride 1', [1, 4, 6, 6], { kernel_shape: [2, 2] }],
  ['3×3 stride 2 ceil_mode', [1, 4, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
  ['2×2 dilation 2', [1, 4, 7, 7], { kernel_shape: [2, 2], dilations: [2, 2] }],
];

for (const [name, shape, attrs] of TIE_POOLS) {
  test(`MaxPool ties go to the first maximum: ${name}`, async (t) => {
    const data = tiedInput(shape, 7);
    const tied = await checkRouting(name, attrs, (g) => g.MaxPool(g.input('x', F, shape), attrs as never), { x: { dtype: F, dims: shape, data } });
    t.diagnostic(`${tied} tied windows`);
    assert.ok(tied > 0, 'the input must hold tied windows');
  });
}

test('MaxPool ties, by hand: [[1,1],[0,1]] → [[dy,0],[0,0]]; a zero window → its first element', async () => {
  const g = new GraphBuilder();
  const y = g.MaxPool(g.input('x', F, [1, 2, 2, 2]), { kernel_shape: [2, 2], strides: [2, 2] });
  const [dx] = poolRules.MaxPool!(g, y.producer()!, [g.input('dy', F, [1, 2, 1, 1])], [true]);
  g.output(dx!, 'dx');
  const s = await createSession(g.model());
  const out = await s.run({ x: { dtype: F, dims: [1, 2, 2, 2], data: Float32Array.of(1, 1, 0, 1, 0, 0, 0, 0) }, dy: { dtype: F, dims: [1, 2, 1, 1], data: Float32Array.of(3, 5) } });
  await s.release();
  assert.deepEqual([...(out.dx!.data as Float32Array)], [3, 0, 0, 0, 5, 0, 0, 0]);
});

test('MaxPool ties on ReLU outputs of real Fashion-MNIST images (conv 1→4 3×3 pad 1, ReLU, pool 2)', async (t) => {
  const ds = await openIdxDataset(bundledFashionMnistDir(), { split: 'test' });
  const n = 8;
  const px = Float32Array.from(ds.images.subarray(0, n * 784), (v) => v / 255);
  const rng = new Rng(3);
  const attrs = { kernel_shape: [2, 2], strides: [2, 2] };
  const tied = await checkRouting(
    'Fashion-MNIST',
    attrs,
    (g) => {
      const w = g.initializer('w', rng.uniform(36, 1 / 3), [4, 1, 3, 3]);
      const b = g.initializer('b', Float32Array.of(0.01, -0.02, 0.03, 0), [4]);
      return g.MaxPool(g.Relu(g.Conv(g.input('img', F, [n, 1, 28, 28]), w, b, { pads: [1, 1, 1, 1] })), attrs);
    },
    { img: { dtype: F, dims: [n, 1, 28, 28], data: px } },
  );
  t.diagnostic(`${tied} of ${n * 4 * 196} windows tied`);
  // Flat black backgrounds: most windows of a ReLU'd conv tie (this is why masks are wrong).
  assert.ok(tied > n * 4 * 196 * 0.2, `expected many tied windows, got ${tied}`);
});
