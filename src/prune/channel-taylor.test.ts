import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset } from '../data/dataset.js';
import { buildArchitecture } from '../models/index.js';
import { countMacs } from '../analysis/profile.js';
import { analyzeChannels } from './channels.js';
import { channelParts, channelTaylorScores } from './channel-taylor.js';
import { pruneChannels, pruneChannelsAtRatio } from './structured.js';
import { trainingGradients, type GradientProvider } from './taylor.js';

const arr = (m: ReturnType<typeof buildArchitecture>, n: string) => m.graph.initializers.get(n)!.initializer!.toArray() as Float32Array;

test('channel Taylor scores: |γ·gγ + β·gβ| behind a BatchNorm, |Σ w·g + b·gb| for a Gemm unit, summed over batches', async () => {
  const train = await openDataset('fashion-mnist-mini', { split: 'train' });
  const m = buildArchitecture('teacher', { seed: 2 });
  const sources = analyzeChannels(m).groups.flatMap((g) => g.sources);
  const conv = sources.find((s) => s.node.name === 'features.3')!;
  const fc = sources.find((s) => s.node.name === 'classifier.1')!;
  assert.deepEqual(channelParts(conv).map((p) => p.name), ['features.4.weight', 'features.4.bias']);
  assert.deepEqual(channelParts(fc).map((p) => p.name), ['classifier.1.weight', 'classifier.1.bias']);
  // Record two batches of real gradients (conv weights too), then replay them.
  const names = ['features.3.weight', 'features.4.weight', 'features.4.bias', 'classifier.1.weight', 'classifier.1.bias'];
  const all = [...new Set([...names, ...sources.flatMap((s) => channelParts(s).map((p) => p.name))])];
  const grads: Map<string, Float32Array>[] = [];
  for await (const g of trainingGradients(train, { batches: 2, batch: 16 })(m, all)) grads.push(new Map([...g].map(([k, v]) => [k, Float32Array.from(v)])));
  const replay: GradientProvider = async function* () {
    yield* grads;
  };
  const scores = await channelTaylorScores(m, replay);
  const [gamma, beta] = [arr(m, 'features.4.weight'), arr(m, 'features.4.bias')];
  for (const c of [0, 5, 31]) {
    const want = grads.reduce((a, g) => a + Math.abs(gamma[c]! * g.get('features.4.weight')![c]! + beta[c]! * g.get('features.4.bias')![c]!), 0);
    assert.ok(Math.abs(scores.get('features.3')![c]! - want) <= 1e-9 + 1e-6 * want, `conv channel ${c}`);
  }
  const [w, b] = [arr(m, 'classifier.1.weight'), arr(m, 'classifier.1.bias')]; // Gemm transB: W [256, 1152]
  for (const u of [0, 100, 255]) {
    const want = grads.reduce((a, g) => {
      let s = b[u]! * g.get('classifier.1.bias')![u]!;
      for (let i = 0; i < 1152; i++) s += w[u * 1152 + i]! * g.get('classifier.1.weight')![u * 1152 + i]!;
      return a + Math.abs(s);
    }, 0);
    assert.ok(Math.abs(scores.get('classifier.1')![u]! - want) <= 1e-6 * want, `unit ${u}`);
  }
  // Why not the conv weights behind a BatchNorm (training mode): the loss is invariant to the
  // channel's scale, so Σ_{i∈c} w·∂L/∂w vanishes next to Σ|w·∂L/∂w|.
  const cw = arr(m, 'features.3.weight');
  const g0 = grads[0]!.get('features.3.weight')!;
  for (const c of [0, 7]) {
    let sum = 0;
    let abs = 0;
    for (let i = c * 288; i < (c + 1) * 288; i++) (sum += cw[i]! * g0[i]!), (abs += Math.abs(cw[i]! * g0[i]!));
    assert.ok(Math.abs(sum) < 1e-3 * abs, `channel ${c}: Σ w·g = ${sum}, Σ|w·g| = ${abs}`);
  }
});

test('structured pruning by taylor keeps the highest-scoring channels of every group; ORT-valid at --target-macs 0.5', async () => {
  const m = buildArchitecture('teacher', { seed: 2 });
  const groups = analyzeChannels(m).groups;
  // Scores that rank channels in reverse index order: taylor must keep the last channels.
  const scores = new Map(groups.flatMap((g) => g.sources).map((s) => {
    const n = s.node.input(1)!.initializer!.dims[s.axis]!;
    return [s.node.name, Float64Array.from({ length: n }, (_, c) => c)] as const;
  }));
  const { model: p } = pruneChannelsAtRatio(m, 0.5, { criterion: 'taylor', scores });
  const w = arr(m, 'features.0.weight');
  assert.deepEqual([...arr(p, 'features.0.weight')], [...w.subarray(16 * 9, 32 * 9)], 'kept channels 16…31 of features.0');
  const r = pruneChannels(m, { targetMacs: 0.5, criterion: 'taylor', scores });
  assert.ok(r.macsAfter <= 0.5 * r.macsBefore && r.macsAfter === countMacs(r.model).total);
  assert.throws(() => pruneChannelsAtRatio(m, 0.5, { criterion: 'taylor' }), /no scores/);
});
