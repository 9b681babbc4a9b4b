/**
 * Taylor saliency for pruning (Molchanov et al. 2017, first order): the loss change when a weight
 * is set to zero is ≈ |w·∂L/∂w|. Accumulated over B batches:
 *
 *   score(w) = Σ_b |w · ∂L_b/∂w|
 *
 * Gradients come from a GradientProvider, so the ranking code does not care where they come from;
 * `trainingGradients` is the provider backed by lithe's training engine: a training-step graph with
 * optimizer 'none' (outputs `grad.<w>`), cross-entropy on labelled batches, run in onnxruntime.
 * BatchNormalization runs in training mode there (batch statistics), as in a fine-tuning step.
 */
import type { Model } from '../graph/ir.js';
import { epochOrder, makeBatch, type Preprocess } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import { DataType } from '../onnx/proto.js';
import { createSession } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { buildTrainingGraph } from '../train/training-graph.js';
import { LitheError } from '../errors.js';

/** Yields ∂L/∂w for each requested weight, one map per batch. */
export type GradientProvider = (model: Model, weights: readonly string[]) => AsyncIterable<ReadonlyMap<string, Float32Array>>;

export interface GradientOptions {
  /** Batches to accumulate over (default 4). */
  batches?: number;
  batch?: number;
  seed?: number;
  /** Pixels → input, as the model was trained (default pixel/255, NCHW). */
  preprocess?: Preprocess;
}

/** Gradients through the training engine on shuffled batches of `ds`. */
export function trainingGradients(ds: Dataset, opts: GradientOptions = {}): GradientProvider {
  const batchSize = opts.batch ?? 64;
  const count = opts.batches ?? 4;
  return async function* (model, weights) {
    const tg = buildTrainingGraph(model, { loss: 'cross-entropy', optimizer: 'none', batch: batchSize, trainable: weights });
    const session = await createSession(tg.model, { label: 'taylor gradients' });
    try {
      const base: Record<string, HostTensor> = {};
      for (const [k, t] of [...tg.params, ...tg.state]) base[k] = { dtype: t.dtype, dims: [...t.dims], data: t.toArray() };
      const order = epochOrder(ds, { shuffle: true, seed: opts.seed ?? 0 });
      const n = Math.min(count, Math.floor(order.length / batchSize));
      if (n === 0) throw new LitheError('E_BAD_INPUT', `${ds.name}: ${order.length} samples, fewer than one batch of ${batchSize} for Taylor gradients`);
      for (let b = 0; b < n; b++) {
        const batch = makeBatch(ds, order.subarray(b * batchSize, (b + 1) * batchSize), opts.preprocess);
        const feeds = { ...base };
        feeds[tg.input] = { dtype: DataType.FLOAT, dims: batch.dims, data: batch.x };
        feeds[tg.labels] = { dtype: DataType.INT64, dims: [batchSize], data: BigInt64Array.from(batch.labels, (l) => BigInt(l)) };
        const out = await session.run(feeds, [...tg.grads.values()]);
        yield new Map(weights.map((w) => [w, out[tg.grads.get(w)!]!.data as Float32Array]));
      }
    } finally {
      await session.release();
    }
  };
}

/** Σ_b |w·g_b| per weight (initializer names of `model`). */
export async function taylorSaliency(model: Model, weights: readonly string[], provider: GradientProvider): Promise<Map<string, Float64Array>> {
  const values = new Map(weights.map((w) => [w, model.graph.initializers.get(w)!.initializer!.toArray() as Float32Array]));
  const acc = new Map(weights.map((w) => [w, new Float64Array(values.get(w)!.length)]));
  let batches = 0;
  for await (const grads of provider(model, weights)) {
    batches++;
    for (const w of weights) {
      const g = grads.get(w);
      if (!g) throw new LitheError('E_USAGE', `gradient provider returned no gradient for "${w}"`);
      const v = values.get(w)!;
      const a = acc.get(w)!;
      for (let i = 0; i < a.length; i++) a[i]! += Math.abs(v[i]! * g[i]!);
    }
  }
  if (batches === 0) throw new LitheError('E_USAGE', 'gradient provider yielded no batches');
  return acc;
}
