/**
 * Shape inference against the judge: every rule's tiny model, and every intermediate value of the
 * architecture builders, run in onnxruntime with N bound to a number; the dims ORT produces must
 * equal the inferred ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import { tensorToHost, type HostTensor } from '../runtime/tensors.js';
import { GraphBuilder } from './builder.js';
import type { Dim, Model } from './ir.js';
import { SHAPE_CASES } from './shape-cases.js';
import { Tensor, elementCount } from './tensor.js';

const bindN = (s: readonly Dim[], n: number) => s.map((d) => (typeof d === 'string' ? n : d));

/** Feeds for every graph input: N bound to `n`; floats a small positive ramp, ints and bools 0. */
function feedsFor(model: Model, n: number): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const v of model.graph.inputs) {
    const dims = bindN(v.shape!, n) as number[];
    const count = elementCount(dims);
    const dt = v.dtype!;
    const vals = dt === DataType.FLOAT ? Array.from({ length: count }, (_, i) => 0.5 + (i % 5) / 10) : new Array(count).fill(0);
    feeds[v.name] = tensorToHost(Tensor.fromArray(dt, dims, vals));
  }
  return feeds;
}

/** Runs the model in ORT and checks dtype and shape of every graph output against the IR. */
async function checkAgainstOrt(model: Model, n: number, label: string): Promise<Record<string, HostTensor>> {
  const session = await createSession(model, { label });
  try {
    const result = await session.run(feedsFor(model, n));
    for (const v of model.graph.outputs) {
      const got = result[v.name];
      assert.ok(got, `${label}: ORT returned ${v.name}`);
      assert.deepEqual(bindN(v.shape ?? [], n), got.dims, `${label}: shape of ${v.name}`);
      assert.equal(v.dtype, got.dtype, `${label}: dtype of ${v.name}`);
    }
    return result;
  } finally {
    await session.release();
  }
}

for (const c of SHAPE_CASES) {
  test(`ORT agrees: ${c.name}`, async () => {
    const g = new GraphBuilder({ opset: c.opset ?? 17 });
    c.build(g).forEach((v, i) => g.output(v, `out${i}`));
    await checkAgainstOrt(g.model(), 3, c.name);
  });
}

for (const name of ['ref-cnn', 'student', 'teacher', 'mobilenetv2']) {
  test(`ORT agrees on every intermediate shape of ${name}`, async () => {
    const model = buildArchitecture(name, { seed: 7 });
    // Expose every node output so that ORT reports its shape.
    for (const node of model.graph.nodes) for (const v of node.outputs) if (!model.graph.outputs.includes(v)) model.graph.outputs.push(v);
    const result = await checkAgainstOrt(model, 2, name);
    const logits = result['logits']!;
    assert.ok(Array.from(logits.data as Float32Array).every(Number.isFinite));
  });
}
