/**
 * The one input a classifier takes, and what its shape says about images: lithe's run, eval,
 * prune and compress feed single-input models, and an [N,1,28,28] input means grayscale 28×28 in
 * NCHW. Shared by the CLI commands and the pipeline.
 */
import { LitheError } from '../errors.js';
import type { Dim, Model } from '../graph/ir.js';
import { dtypeName } from '../graph/tensor.js';
import { formatShape } from '../graph/dims.js';
import { DataType } from '../onnx/proto.js';
import type { Layout } from '../data/image.js';

export interface ModelInput {
  name: string;
  dtype: DataType;
  shape: Dim[] | undefined;
}

/** The one graph input that is not an initializer; lithe run/eval feed single-input models. */
export function modelInput(model: Model, file: string): ModelInput {
  const inputs = model.graph.inputs.filter((v) => !v.initializer);
  if (inputs.length !== 1) {
    const names = inputs.map((v) => `"${v.name}"`).join(', ');
    throw new LitheError('E_BAD_INPUT', `${file}: lithe feeds models with exactly one input; this one has ${inputs.length}${names ? ` (${names})` : ''}`);
  }
  const v = inputs[0]!;
  return { name: v.name, dtype: v.dtype ?? DataType.FLOAT, shape: v.shape };
}

export function describeInput(i: ModelInput): string {
  return `"${i.name}" ${dtypeName(i.dtype)}${formatShape(i.shape)}`;
}

export interface ImageGeometry {
  layout: Layout;
  channels?: 1 | 3;
  size?: [number, number];
}

/** Layout, channels and size read off a rank-4 input shape: [N,C,H,W] with C ∈ {1,3}, else [N,H,W,C]. */
export function imageGeometry(shape: readonly Dim[] | undefined): ImageGeometry {
  if (!shape || shape.length !== 4) return { layout: 'nchw' };
  const known = (d: Dim): d is number => typeof d === 'number' && d > 0;
  const isChannels = (d: Dim): d is 1 | 3 => d === 1 || d === 3;
  const [, a, b, c] = shape as [Dim, Dim, Dim, Dim];
  const hw = (h: Dim, w: Dim): [number, number] | undefined => (known(h) && known(w) ? [h, w] : undefined);
  if (isChannels(a)) return { layout: 'nchw', channels: a, size: hw(b, c) };
  if (isChannels(c)) return { layout: 'nhwc', channels: c, size: hw(a, b) };
  return { layout: 'nchw' };
}

/** How 0–255 pixels become the model's input: layout, then x·scale, − mean, ÷ std per channel. */
export interface Normalization {
  layout: Layout;
  scale?: number;
  mean?: number[];
  std?: number[];
}
