/**
 * Seeded data augmentation on uint8 samples, before the float32 conversion (batcher.ts), as the
 * usual Fashion-MNIST / CIFAR recipe writes it in torchvision:
 * `RandomCrop(H, padding=p)` then `RandomHorizontalFlip(0.5)`.
 *
 *   crop   draw dy, dx uniform in {0, …, 2p}; out[c, y, x] = in[c, y + dy − p, x + dx − p], or 0
 *          where that falls outside the image (zero padding, torchvision's fill=0)
 *   flip   with probability ½: out[c, y, x] ← out[c, y, W − 1 − x]
 *
 * Draws are made per sample, in the order the samples are given (an epoch's shuffled order), three
 * per sample (dy, dx, flip) from one Rng seeded by `augmentSeed(seed, epoch)`. So an epoch's
 * augmentation depends only on (seed, epoch) and the sample order, not on the batch size.
 */
import { LitheError } from '../errors.js';
import { sampleBytes, type Dataset } from './dataset.js';
import { Rng } from './rng.js';

export interface AugmentOptions {
  /** Zero padding before the random crop back to H×W (default 2; 0 disables cropping). */
  pad?: number;
  /** Random horizontal flip with probability ½ (default true). */
  flip?: boolean;
}

/** What was drawn for one sample: crop offsets in the padded image and whether it was flipped. */
export interface AugmentDraw {
  dy: number;
  dx: number;
  flip: boolean;
}

/**
 * The augmentation stream's seed for one epoch, distinct from the shuffle's (seed + epoch) and from
 * the other (seed, epoch) pairs: a murmur3-style mix of both.
 */
export function augmentSeed(seed: number, epoch: number): number {
  let h = Math.imul(Math.trunc(seed) >>> 0, 0x9e3779b1) ^ Math.imul(epoch >>> 0, 0x85ebca6b) ^ 0x41756721;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Augmenter {
  readonly pad: number;
  readonly flip: boolean;
  private readonly rng: Rng;

  constructor(seed: number, opts: AugmentOptions = {}) {
    this.pad = opts.pad ?? 2;
    this.flip = opts.flip ?? true;
    if (!(Number.isInteger(this.pad) && this.pad >= 0)) throw new LitheError('E_USAGE', `augmentation padding must be a non-negative integer, got ${opts.pad}`);
    this.rng = new Rng(seed);
  }

  /** The next sample's draw (always three numbers from the stream, whatever is enabled). */
  draw(): AugmentDraw {
    const dy = this.rng.int(2 * this.pad + 1);
    const dx = this.rng.int(2 * this.pad + 1);
    const flip = this.rng.float() < 0.5;
    return { dy: this.pad ? dy : 0, dx: this.pad ? dx : 0, flip: this.flip && flip };
  }

  /**
   * The samples `indices` of `ds`, augmented, as a dataset of indices.length samples in that
   * order (labels unchanged), ready for makeBatch(view, 0…n−1).
   */
  apply(ds: Dataset, indices: ArrayLike<number>): Dataset {
    if (ds.sampleShape.length !== 3) throw new LitheError('E_BAD_INPUT', `${ds.name}: augmentation needs CHW samples, got shape [${ds.sampleShape.join(', ')}]`);
    const per = sampleBytes(ds);
    const images = new Uint8Array(indices.length * per);
    const labels = new Uint8Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const s = indices[k]!;
      if (!(s < ds.size)) throw new RangeError(`sample ${s} is outside ${ds.name} (size ${ds.size})`);
      labels[k] = ds.labels[s]!;
      augmentSample(ds.images.subarray(s * per, (s + 1) * per), images.subarray(k * per, (k + 1) * per), ds.sampleShape, this.pad, this.draw());
    }
    return { ...ds, size: indices.length, images, labels };
  }
}

/** Writes the crop (and flip) `d` of one CHW sample `src` into `dst` (same shape). */
export function augmentSample(src: Uint8Array, dst: Uint8Array, [c, h, w]: readonly number[], pad: number, d: AugmentDraw): void {
  const oy = d.dy - pad;
  const ox = d.dx - pad;
  for (let ch = 0; ch < c!; ch++) {
    const plane = ch * h! * w!;
    for (let y = 0; y < h!; y++) {
      const sy = y + oy;
      const row = plane + y * w!;
      if (sy < 0 || sy >= h!) {
        dst.fill(0, row, row + w!);
        continue;
      }
      const srow = plane + sy * w!;
      for (let x = 0; x < w!; x++) {
        const sx = (d.flip ? w! - 1 - x : x) + ox;
        dst[row + x] = sx >= 0 && sx < w! ? src[srow + sx]! : 0;
      }
    }
  }
}
