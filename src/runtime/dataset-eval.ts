/**
 * Accuracy of a model on a labelled dataset in one fresh onnxruntime session (the metrics are
 * defined in evaluate.ts): checks that the samples fit the model's input and that the classes
 * match, honours a fixed batch dim, and applies the input normalisation. Shared by `lithe eval`,
 * `lithe prune` and the compress pipeline.
 */
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { openDataset, type Dataset, type Split } from '../data/dataset.js';
import { batches, type Preprocess } from '../data/batcher.js';
import { createSession } from './session.js';
import { evaluate, type EvalResult } from './evaluate.js';
import type { Layout } from '../data/image.js';
import { describeInput, imageGeometry, modelInput, type ModelInput } from './model-input.js';

/** The dataset's samples must have the shape the model takes (in the chosen layout). */
function checkFits(ds: Dataset, input: ModelInput, layout: Layout, modelFile: string): void {
  const [c, h, w] = ds.sampleShape as [number, number, number];
  const sample = layout === 'nhwc' ? [h, w, c] : [c, h, w];
  const shape = input.shape;
  const fits = !shape || (shape.length === 4 && shape.slice(1).every((d, i) => typeof d !== 'number' || d < 0 || d === sample[i]));
  if (!fits) throw new LitheError('E_BAD_INPUT', `${ds.name}: samples are ${layout} [${sample.join(',')}], which does not fit input ${describeInput(input)} of ${modelFile}`);
}

/** Pixels → input (the layout defaults to what the model's input shape says), batching, threads. */
export interface DatasetEvalOptions extends Preprocess {
  batch: number;
  subset?: Uint32Array;
  threads?: number;
  onBatch?: (n: number) => void;
}

/** Evaluates a model (IR) on a dataset in one fresh onnxruntime session. */
export async function evaluateOnDataset(model: Model, modelFile: string, ds: Dataset, opts: DatasetEvalOptions): Promise<EvalResult> {
  const input = modelInput(model, modelFile);
  const layout = opts.layout ?? imageGeometry(input.shape).layout;
  checkFits(ds, input, layout, modelFile);
  const count = opts.subset ? opts.subset.length : ds.size;
  let batchSize = opts.batch;
  const fixed = input.shape?.[0];
  if (typeof fixed === 'number' && fixed > 0) {
    // A fixed batch dim takes exactly that many samples per run; a short last batch would not fit.
    if (count % fixed !== 0) throw new LitheError('E_BAD_INPUT', `${modelFile}: input "${input.name}" has a fixed batch of ${fixed}; evaluate a multiple of ${fixed} samples (--limit)`);
    batchSize = fixed;
  }
  const classes = model.graph.outputs[0]?.shape?.at(-1);
  if (typeof classes === 'number' && classes !== ds.classes.length) {
    throw new LitheError('E_BAD_INPUT', `${modelFile}: output "${model.graph.outputs[0]!.name}" has ${classes} classes, but ${ds.name} has ${ds.classes.length}`);
  }
  const session = await createSession(model, { label: modelFile, threads: opts.threads });
  try {
    const data = batches(ds, { batchSize, subset: opts.subset, layout, scale: opts.scale, mean: opts.mean, std: opts.std });
    return await evaluate(session, data, { numClasses: ds.classes.length, inputName: input.name, onBatch: opts.onBatch });
  } finally {
    await session.release();
  }
}

/** Opens `spec`, sizing image folders to the model's input. */
export async function openDatasetFor(spec: string, split: Split, input: ModelInput): Promise<Dataset> {
  const g = imageGeometry(input.shape);
  return openDataset(spec, { split, imageSize: g.size, channels: g.channels });
}
