import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countMacs, countParams } from '../analysis/profile.js';
import { Rng } from '../data/rng.js';
import type { Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import { analyzeChannels, keptIndices } from './channels.js';
import { pruneChannels, pruneChannelsAtRatio, sliceAxis } from './structured.js';

const mnv2 = () => buildArchitecture('mobilenetv2', { inputSize: 32, numClasses: 10, seed: 3 });
const init = (m: Model, name: string) => m.graph.initializers.get(name)!.initializer!;
const dims = (m: Model, name: string) => init(m, name).dims;

async function run(m: Model, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await createSession(m);
  try {
    return (await s.run({ input: { dtype: DataType.FLOAT, dims: shape, data: x } })).logits!.data as Float32Array;
  } finally {
    await s.release();
  }
}
const inputs = (shape: number[], seed: number) => new Rng(seed).uniform(shape.reduce((a, b) => a * b, 1), 1);

/**
 * Zeroes every 4th channel (c ≡ 1 mod 4) of every prunable group: the rows of all its sources and
 * their biases, and β and running mean of every BatchNorm on it (so BN outputs exactly 0 there);
 * all other BN parameters are random, so a misaligned slice would change the outputs.
 */
function zeroEveryFourthChannel(m: Model): void {
  const a = analyzeChannels(m);
  const rng = new Rng(11);
  const set = (name: string, f: (data: Float32Array, t: Tensor) => void) => {
    const t = init(m, name);
    const d = Float32Array.from(t.toArray() as Float32Array);
    f(d, t);
    m.graph.addInitializer(Tensor.fromArray(DataType.FLOAT, [...t.dims], d), name);
  };
  const zeroed = new Map<number, number[]>();
  for (const g of a.groups) if (!g.fixed.length) zeroed.set(g.id, Array.from({ length: g.channels }, (_, c) => c).filter((c) => c % 4 === 1));
  for (const e of a.edits) {
    if (e.kind === 'source' && zeroed.has(a.groupOf(e.space))) {
      const cs = zeroed.get(a.groupOf(e.space))!;
      set(e.node.input(1)!.name, (d, t) => {
        const inner = t.dims.slice(e.axis + 1).reduce((x, y) => x * y, 1);
        for (let i = 0; i < d.length; i++) if (cs.includes(Math.floor(i / inner) % t.dims[e.axis]!)) d[i] = 0;
      });
      if (e.node.input(2)) set(e.node.input(2)!.name, (d) => cs.forEach((c) => (d[c] = 0)));
    }
    if (e.kind === 'norm') {
      const all = keptIndices(e.layout, new Map(), a.groupOf);
      const alive = new Set(keptIndices(e.layout, new Map([...zeroed].map(([g, cs]) => [g, Array.from({ length: 4096 }, (_, c) => c).filter((c) => !cs.includes(c))])), a.groupOf));
      [1, 2, 3, 4].forEach((slot) =>
        set(e.node.input(slot)!.name, (d) => {
          for (const c of all) d[c] = slot === 4 ? 0.5 + rng.float() : slot === 1 ? 0.5 + rng.float() : rng.float() - 0.5;
          if (slot === 2 || slot === 3) for (const c of all) if (!alive.has(c)) d[c] = 0;
        }),
      );
    }
  }
}

test('sliceAxis keeps the given indices along an axis', () => {
  const t = Tensor.fromArray(DataType.FLOAT, [2, 3, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual([...(sliceAxis(t, 1, [0, 2]).toArray() as Float32Array)], [0, 1, 4, 5, 6, 7, 10, 11]);
  assert.deepEqual(sliceAxis(t, 1, [0, 2]).dims, [2, 2, 2]);
  assert.deepEqual([...(sliceAxis(t, 0, [1]).toArray() as Float32Array)], [6, 7, 8, 9, 10, 11]);
});

test('teacher, half the channels of every group: shapes, params and MACs by hand; ORT runs it', async () => {
  const m = buildArchitecture('teacher');
  const { model: p, groups } = pruneChannelsAtRatio(m, 0.5);
  assert.deepEqual(groups.map((g) => `${g.channels}→${g.kept}`), ['32→16', '32→16', '64→32', '64→32', '128→64', '128→64', '256→128', '10→10']);
  assert.equal(groups.at(-1)!.fixed, 'graph output "logits"');
  assert.deepEqual(dims(p, 'features.0.weight'), [16, 1, 3, 3]);
  assert.deepEqual(dims(p, 'features.3.weight'), [16, 16, 3, 3]);
  assert.deepEqual(dims(p, 'features.15.running_var'), [64]);
  assert.deepEqual(dims(p, 'classifier.1.weight'), [128, 64 * 9]); // Flatten: 9 columns per channel
  assert.deepEqual(dims(p, 'classifier.4.weight'), [10, 128]);
  // conv MACs = Cout·H·W·Cin·9 at 28², 14², 7²; Gemm = in·out
  const convs = 16 * 784 * 9 + 16 * 784 * 16 * 9 + 32 * 196 * 16 * 9 + 32 * 196 * 32 * 9 + 64 * 49 * 32 * 9 + 64 * 49 * 64 * 9;
  assert.equal(countMacs(p).dense, convs + 576 * 128 + 128 * 10);
  const params = (9 + 1) * 16 + (144 + 1) * 16 + (144 + 1) * 32 + (288 + 1) * 32 + (288 + 1) * 64 + (576 + 1) * 64 + 2 * (16 + 16 + 32 + 32 + 64 + 64) + 577 * 128 + 129 * 10;
  assert.equal(countParams(p).total, params);
  const y = await run(p, inputs([3, 1, 28, 28], 1), [3, 1, 28, 28]);
  assert.equal(y.length, 30);
});

test('--target-macs 0.5: teacher and MobileNetV2 end at ≤ 50% of their MACs and run in ORT', async () => {
  for (const [m, shape] of [[buildArchitecture('teacher'), [2, 1, 28, 28]], [mnv2(), [2, 3, 32, 32]]] as const) {
    const r = pruneChannels(m, { targetMacs: 0.5 });
    assert.ok(r.macsAfter <= 0.5 * r.macsBefore && r.macsAfter > 0.4 * r.macsBefore, `${r.macsAfter}/${r.macsBefore}`);
    assert.equal(r.macsAfter, countMacs(r.model).total);
    assert.equal((await run(r.model, inputs([...shape], 2), [...shape])).length, 20);
  }
});

test('equivalence: removing channels that are already zero gives the original outputs (teacher, MobileNetV2)', async () => {
  for (const [m, shape] of [[buildArchitecture('teacher', { seed: 4 }), [4, 1, 28, 28]], [mnv2(), [2, 3, 32, 32]]] as const) {
    zeroEveryFourthChannel(m);
    const { model: p, groups } = pruneChannelsAtRatio(m, 0.25, { channelMultiple: 1 });
    for (const g of groups) assert.equal(g.kept, g.fixed ? g.channels : g.channels - g.channels / 4, g.sources.join(','));
    assert.ok(countMacs(p).total < 0.7 * countMacs(m).total);
    const x = inputs([...shape], 5);
    const want = await run(m, x, [...shape]);
    const got = await run(p, x, [...shape]);
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= 1e-5 * scale, `logit ${i}: ${got[i]} vs ${v}`));
  }
});

test('MobileNetV2: residual Adds join channel groups, pruned as one; depthwise convs follow their input', () => {
  const m = mnv2();
  const groups = analyzeChannels(m).groups;
  const joined = groups.filter((g) => g.sources.length > 1).map((g) => `${g.channels}:${g.sources.map((s) => s.node.name.split('.')[1]).join('+')}`);
  assert.deepEqual(joined, ['24:2+3', '32:4+5+6', '64:7+8+9+10', '96:11+12+13', '160:14+15+16']);
  const { model: p } = pruneChannelsAtRatio(m, 0.5, { channelMultiple: 1 });
  for (const b of [7, 8, 9, 10]) assert.deepEqual(dims(p, `features.${b}.conv.2.weight`).slice(0, 1), [32], `block ${b} projects to 32`);
  for (const b of [8, 9, 10]) assert.equal(dims(p, `features.${b}.conv.0.0.weight`)[1], 32, `block ${b} expands from 32`);
  // depthwise: W [C,1,3,3] with group C, C = the (pruned) expansion width
  const dw = p.graph.nodes.find((n) => n.name === 'features.8.conv.1.0')!;
  assert.deepEqual(dims(p, 'features.8.conv.1.0.weight'), [192, 1, 3, 3]);
  assert.equal(dw.getInt('group'), 192);
  assert.deepEqual(dims(p, 'classifier.1.weight'), [10, 640]);
});

test('kept channel counts are rounded up to a multiple of 8 (groups whose size is one), never past the group', () => {
  const m = mnv2();
  for (const ratio of [0.3, 0.5, 0.9]) {
    const { groups } = pruneChannelsAtRatio(m, ratio);
    for (const g of groups) {
      if (g.fixed) continue;
      const exact = g.channels - Math.min(Math.floor(ratio * g.channels), g.channels - 1);
      const want = g.channels % 8 === 0 ? Math.min(g.channels, Math.ceil(exact / 8) * 8) : exact;
      assert.equal(g.kept, want, `${g.sources.join(',')} at ratio ${ratio}`);
    }
  }
});
