/**
 * `lithe run MODEL INPUT…`: classifies real inputs and prints the top-k classes.
 *
 *   p = softmax(y) = exp(y − max y) / Σ exp(y − max y)   unless every output row already is a
 *   distribution (all values in [0,1], |Σ − 1| < 1e-3), in which case p = y
 *
 * Each INPUT file is one run (it may hold a batch: an .npy of [B,…] gives B results). What the
 * model's input shape says fills the image defaults: [N,1,28,28] means grayscale, 28×28, NCHW.
 * Also exports the normalisation flags that `eval` and `prune` share.
 */
import { readFileSync } from 'node:fs';
import { LitheError } from '../errors.js';
import type { Dim, Model } from '../graph/ir.js';
import { dtypeName, type TensorArray } from '../graph/tensor.js';
import { loadModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { FASHION_MNIST_CLASSES } from '../data/dataset.js';
import { readInputFile, type InputTensor } from '../data/input.js';
import { createSession } from '../runtime/session.js';
import { describeInput, imageGeometry, modelInput, type ImageGeometry, type ModelInput, type Normalization } from '../runtime/model-input.js';
import { table } from './format.js';
import { choice, flag, int, num, nums, positionals, str, UsageError, type Command, type Options, type Parsed } from './command.js';

// ---- normalisation flags, shared with eval -------------------------------------------------

export const NORMALIZE_OPTIONS: Options = {
  mean: { type: 'string' },
  std: { type: 'string' },
  scale: { type: 'string' },
  layout: { type: 'string' },
};

export const NORMALIZE_HELP = `  --scale S        multiply 0-255 pixels by S first (default 1/255, so pixels land in [0,1])
  --mean M[,M,M]   subtract per channel (after scaling), e.g. 0.485,0.456,0.406 (default 0)
  --std S[,S,S]    divide per channel (after the mean), e.g. 0.229,0.224,0.225 (default 1)
  --layout L       nchw or nhwc (default: read from the model's input shape)`;

/** The preprocessing flags for `model`'s input: layout from its shape unless --layout says otherwise. */
export function inputNormalization(args: Parsed, model: Model, file: string): Normalization {
  return normalization(args, imageGeometry(modelInput(model, file).shape));
}

export function normalization(args: Parsed, geometry: ImageGeometry): Normalization {
  return {
    layout: choice(args, 'layout', ['nchw', 'nhwc'] as const, geometry.layout),
    scale: str(args, 'scale') === undefined ? undefined : num(args, 'scale', 1 / 255),
    mean: nums(args, 'mean'),
    std: nums(args, 'std'),
  };
}

// ---- fitting a file's tensor to the model's input -------------------------------------------

const FLOAT_SOURCES = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16, DataType.INT32, DataType.UINT32]);

/**
 * Checks a tensor read from `file` against the model input: a missing batch dim is added, fixed
 * dims must match, and numbers are converted to float32 when the model takes float32.
 */
export function fitToInput(t: InputTensor, input: ModelInput, file: string, modelFile: string): InputTensor {
  const shape = input.shape;
  if (t.data.length === 0) throw new LitheError('E_BAD_INPUT', `${file}: holds no values (shape [${t.dims.join(',')}])`);
  let dims = t.dims;
  if (shape && dims.length === shape.length - 1) dims = [1, ...dims];
  const fits = !shape || (dims.length === shape.length && shape.every((d, i) => typeof d !== 'number' || d < 0 || d === dims[i]));
  if (!fits) {
    throw new LitheError('E_BAD_INPUT', `${file}: shape [${t.dims.join(',')}] does not fit input ${describeInput(input)} of ${modelFile}`);
  }
  if (t.dtype === input.dtype) return { ...t, dims };
  if (input.dtype === DataType.FLOAT && FLOAT_SOURCES.has(t.dtype)) {
    return { dtype: DataType.FLOAT, dims, data: Float32Array.from(t.data as ArrayLike<number>) };
  }
  throw new LitheError('E_BAD_INPUT', `${file}: holds ${dtypeName(t.dtype)} data; input "${input.name}" of ${modelFile} takes ${dtypeName(input.dtype)}`);
}

// ---- scores → probabilities → top-k ---------------------------------------------------------

function isDistribution(row: Float64Array): boolean {
  let sum = 0;
  for (const p of row) {
    if (!(p >= 0 && p <= 1)) return false;
    sum += p;
  }
  return Math.abs(sum - 1) < 1e-3;
}

export function softmax(row: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const out = row.map((v) => Math.exp(v - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / sum);
}

/** Indices of the k largest values, largest first; ties go to the lower index. */
export function topK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, k);
}

/** Rows of class scores from an output tensor [B, K] (or [B, K, 1, …]). */
function scoreRows(dims: number[], data: TensorArray | string[], batch: number, what: string): Float64Array[] {
  if (typeof data[0] === 'string' || typeof data[0] === 'bigint' || dims[0] !== batch || dims.length < 2) {
    throw new LitheError('E_BAD_INPUT', `${what} is ${typeof data[0] === 'string' ? 'a string tensor' : `[${dims.join(',')}]`}; lithe run needs class scores [${batch}, K]`);
  }
  const all = Float64Array.from(data as ArrayLike<number>);
  const k = all.length / batch;
  return Array.from({ length: batch }, (_, b) => all.subarray(b * k, (b + 1) * k));
}

// ---- labels ---------------------------------------------------------------------------------

export interface Labels {
  names: string[] | undefined;
  source: string;
}

/** `--labels FILE` (one per line), else Fashion-MNIST's names for 10-class 1×28×28 models, else indices. */
export function classLabels(file: string | undefined, classes: number, shape: readonly Dim[] | undefined): Labels {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new LitheError('E_IO', `${file}: cannot read labels (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const names = text.split(/\r?\n/).map((s) => s.trim());
    while (names.length && names[names.length - 1] === '') names.pop();
    if (names.length !== classes) throw new LitheError('E_BAD_INPUT', `${file}: ${names.length} labels, but the model has ${classes} classes (one label per line)`);
    return { names, source: file };
  }
  const g = imageGeometry(shape);
  if (classes === FASHION_MNIST_CLASSES.length && g.channels === 1 && g.size?.[0] === 28 && g.size[1] === 28) {
    return { names: FASHION_MNIST_CLASSES, source: 'Fashion-MNIST class names (assumed: 10 classes, 1×28×28 input; --labels FILE to change)' };
  }
  return { names: undefined, source: 'class indices (no --labels FILE)' };
}

// ---- the command ----------------------------------------------------------------------------

function imageSize(args: Parsed): [number, number] | undefined {
  const v = str(args, 'size');
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m || Number(m[1]) === 0 || Number(m[2] ?? m[1]) === 0) throw new UsageError(`--size must be N or HxW (positive integers), got '${v}'`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

interface Prediction {
  class: number;
  label: string | undefined;
  probability: number;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'classify images, .npy or JSON inputs and print the top-k classes',
  help: `Usage: lithe run MODEL INPUT… [--top K] [--labels FILE] [--json] [image options]

Runs MODEL on each INPUT file and prints its top-K classes with probabilities: the softmax of the
model's first output, or the output itself when every row already sums to 1 with values in [0,1].
Each file is one run; a file holding a batch (an .npy of [B,…]) gives B results, named FILE[i].

INPUT is one of
  an image (PNG, JPEG, WebP, GIF, TIFF, AVIF)  decoded with sharp, resized (shorter side, then
                 centre crop), scaled and normalised; size, channels and layout default to what
                 the model's input shape says ([N,1,28,28]: grayscale, 28×28, NCHW)
  a .npy file    any numeric dtype; converted to float32 when the model takes float32
  a JSON file    nested arrays of numbers, e.g. [[0.1, 0.2, …], …]
A tensor one rank short of the model's input gets a batch dim of 1; fixed dims must match.

  --top K          classes to print per input (default 5)
  --labels FILE    class names, one per line, exactly one per class. Without it, a model with
                   10 classes and a 1×28×28 input gets Fashion-MNIST's names (T-shirt/top …
                   Ankle boot), since that is what lithe's models are trained on; other models
                   get class indices
  --json           print one JSON object
Image options:
  --size N|HxW     resize to N×N or H×W (default: the model's input size)
  --fit F          cover (resize the shorter side, crop the centre; default) or fill (stretch)
  --gray           decode as one grayscale channel (default when the model takes 1 channel)
${NORMALIZE_HELP}

Examples:
  lithe run model.onnx shirt.png boot.jpg
  lithe run model.onnx batch.npy --top 3 --labels classes.txt --json`,
  options: {
    top: { type: 'string' },
    labels: { type: 'string' },
    json: { type: 'boolean' },
    size: { type: 'string' },
    fit: { type: 'string' },
    gray: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
  },
  async run(args, io) {
    const [modelFile, ...files] = positionals(args, this, ['MODEL', 'INPUT'], { atLeast: true });
    const top = int(args, 'top', 5, { min: 1 });
    const json = flag(args, 'json');
    const fit = choice(args, 'fit', ['cover', 'fill'] as const, 'cover');
    const model = loadModel(modelFile!);
    const input = modelInput(model, modelFile!);
    const geometry = imageGeometry(input.shape);
    const norm = normalization(args, geometry);
    const imageOptions = {
      ...norm,
      fit,
      size: imageSize(args) ?? geometry.size,
      channels: flag(args, 'gray') ? (1 as const) : (geometry.channels ?? 3),
      dtype: [DataType.FLOAT, DataType.DOUBLE, DataType.INT32, DataType.INT64].includes(input.dtype) ? input.dtype : DataType.FLOAT,
    };
    // Read and check every input before loading the model into onnxruntime: bad input fails fast.
    const tensors: InputTensor[] = [];
    for (const f of files) tensors.push(fitToInput(await readInputFile(f, imageOptions), input, f, modelFile!));

    const session = await createSession(model, { label: modelFile });
    const outputName = session.outputNames[0]!;
    const rows: { name: string; scores: Float64Array }[] = [];
    try {
      for (const [i, t] of tensors.entries()) {
        const y = (await session.run({ [input.name]: t }, [outputName]))[outputName]!;
        const batch = t.dims[0]!;
        const scores = scoreRows(y.dims, y.data, batch, `output "${outputName}" for ${files[i]}`);
        scores.forEach((s, b) => rows.push({ name: batch === 1 ? files[i]! : `${files[i]}[${b}]`, scores: s }));
      }
    } finally {
      await session.release();
    }
    const classes = rows[0]!.scores.length;
    const asIs = rows.every((r) => isDistribution(r.scores));
    const labels = classLabels(str(args, 'labels'), classes, input.shape);
    const results = rows.map((r) => {
      const p = asIs ? r.scores : softmax(r.scores);
      const predictions: Prediction[] = topK(p, top).map((c) => ({ class: c, label: labels.names?.[c], probability: p[c]! }));
      return { input: r.name, predictions };
    });
    if (json) {
      io.out(JSON.stringify({ model: modelFile, input: { name: input.name, shape: input.shape }, output: outputName, probabilities: asIs ? 'model output' : 'softmax', labels: labels.source, results }, null, 2));
      return;
    }
    io.out(`${modelFile}: input ${describeInput(input)}, output "${outputName}" with ${classes} classes (${asIs ? 'already probabilities' : 'softmax applied'})`);
    io.out(`labels: ${labels.source}`);
    for (const r of results) {
      io.out('');
      io.out(r.input);
      io.out(table(r.predictions.map((p, i) => [`  ${i + 1}.`, p.label ?? `class ${p.class}`, p.label === undefined ? '' : `(${p.class})`, p.probability.toFixed(4)]), { align: ['l', 'l', 'l', 'r'] }));
    }
  },
};
