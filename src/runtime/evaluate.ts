/**
 * Classification accuracy of a session over labelled batches.
 *
 *   top-k      fraction of samples whose label is among the k largest logits (ties broken by
 *              lower class index, as argsort-stable implementations do)
 *   per-class  top-1 accuracy over the samples of each true class (recall)
 *   confusion  C[t][p] = number of samples of true class t predicted as p
 *
 * Scores are the model's output as is: softmax is monotonic, so logits and probabilities rank
 * the same.
 */
import { LitheError } from '../errors.js';
import { DataType } from '../onnx/proto.js';
import type { Session } from './session.js';

export interface LabelledBatch {
  x: Float32Array;
  dims: number[];
  labels: ArrayLike<number>;
}

export interface EvalResult {
  samples: number;
  top1: number;
  top5: number;
  perClass: { correct: number; total: number; accuracy: number }[];
  confusion: number[][];
}

export interface EvalOptions {
  numClasses: number;
  inputName?: string;
  outputName?: string;
  onBatch?: (batchSize: number) => void;
}

export async function evaluate(session: Session, batches: Iterable<LabelledBatch> | AsyncIterable<LabelledBatch>, opts: EvalOptions): Promise<EvalResult> {
  const k = opts.numClasses;
  const inputName = opts.inputName ?? session.inputNames[0]!;
  const outputName = opts.outputName ?? session.outputNames[0]!;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let samples = 0;
  let top1 = 0;
  let top5 = 0;
  for await (const b of batches) {
    const out = await session.run({ [inputName]: { dtype: DataType.FLOAT, dims: b.dims, data: b.x } }, [outputName]);
    const y = out[outputName]!;
    const n = b.labels.length;
    const c = y.dims[y.dims.length - 1]!;
    // A model with more classes than the data (or fewer) would make the confusion matrix lie.
    if (y.dims.length !== 2 || y.dims[0] !== n || c !== k)
      throw new LitheError('E_BAD_INPUT', `output "${outputName}" has shape [${y.dims.join(',')}], expected [${n},${k}]: one score per class of the data`);
    const scores = y.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const label = b.labels[i]!;
      const row = scores.subarray(i * c, i * c + c);
      const s = row[label]!;
      // rank of the true class: how many classes score strictly higher (or equal with a lower index)
      let rank = 0;
      let best = 0;
      for (let j = 0; j < c; j++) {
        if (row[j]! > s || (row[j] === s && j < label)) rank++;
        if (row[j]! > row[best]!) best = j;
      }
      if (rank === 0) top1++;
      if (rank < 5) top5++;
      confusion[label]![best]!++;
    }
    samples += n;
    opts.onBatch?.(n);
  }
  if (samples === 0) throw new LitheError('E_BAD_INPUT', 'evaluation data is empty');
  const perClass = confusion.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return { correct: row[t]!, total, accuracy: total ? row[t]! / total : NaN };
  });
  return { samples, top1: top1 / samples, top5: top5 / samples, perClass, confusion };
}
