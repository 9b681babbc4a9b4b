/**
 * Test helpers for quantization and folding: real Fashion-MNIST batches, BatchNorm statistics
 * that are not the identity (builder models start with γ=1, β=0, μ=0, σ²=1, which would make
 * folding trivially right), running a model in ORT; SQNR and top-1 agreement live in verify.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batches, stratifiedIndices } from '../data/batcher.js';
import { openDataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import type { Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { loadModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { createSession, type SessionOptions } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';

export { sqnrDb, top1Agreement } from './verify.js';

/** `perClass`·10 real test images as batches of `batchSize`, always the same ones for a seed. */
export async function fashionBatches(perClass: number, batchSize: number, seed = 1): Promise<HostTensor[]> {
  const ds = await openDataset('fashion-mnist-mini', { split: 'test' });
  const subset = stratifiedIndices(ds.labels, perClass, seed, 10);
  return [...batches(ds, { batchSize, subset })].map((b) => ({ dtype: DataType.FLOAT, dims: b.dims, data: b.x }));
}

/** Gives every BatchNormalization random γ∈[0.5,1.5], β,μ∈[−0.2,0.2], σ²∈[0.5,1.5]. */
export function randomizeBatchNorm(model: Model, seed = 3): void {
  const rng = new Rng(seed);
  for (const n of model.graph.nodes) {
    if (n.opType !== 'BatchNormalization') continue;
    [1, 2, 3, 4].forEach((i) => {
      const t = n.input(i)!.initializer!;
      const c = t.size;
      const vals = Float32Array.from({ length: c }, () => (i === 1 || i === 4 ? 0.5 + rng.float() : 0.4 * rng.float() - 0.2));
      n.input(i)!.initializer = Tensor.fromArray(DataType.FLOAT, [c], vals, t.name);
    });
  }
}

/** Runs `model` on each feed batch (input `input`) and concatenates output `output`. */
export async function runAll(model: Model | Uint8Array, feeds: HostTensor[], opts: SessionOptions & { output?: string } = {}): Promise<Float32Array> {
  const session = await createSession(model, { threads: 1, allowSpinning: false, ...opts });
  try {
    const parts: Float32Array[] = [];
    for (const x of feeds) {
      const out = await session.run({ [session.inputNames[0]!]: x });
      parts.push(out[opts.output ?? session.outputNames[0]!]!.data as Float32Array);
    }
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) (all.set(p, at), (at += p.length));
    return all;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Op counts of the graph ORT optimized for `model` ("domain:op"). */
export async function ortOptimizedOps(model: Model): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'lithe-q-'));
  try {
    const file = join(dir, 'opt.onnx');
    await (await createSession(model, { optimizedModelFilePath: file, threads: 1, allowSpinning: false })).release();
    const counts = new Map<string, number>();
    for (const n of loadModel(file).graph.nodes) counts.set(`${n.domain}:${n.opType}`, (counts.get(`${n.domain}:${n.opType}`) ?? 0) + 1);
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
