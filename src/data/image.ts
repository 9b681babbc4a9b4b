/**
 * Image files → model input tensors, decoded with sharp (JPEG, PNG, WebP, GIF, TIFF, AVIF).
 *
 * Geometry follows torchvision's eval transform `Resize(shorter) + CenterCrop(size)`:
 *   fit 'cover' (default)  scale so the image covers size×size (shorter side = size, or
 *                          `shorterSide` when given, e.g. 256 for a 224 crop), then cut the centre
 *   fit 'fill'             stretch to size×size, ignoring aspect ratio (what MNIST-style 28×28
 *                          inputs usually want when the source is already square)
 * Resampling is antialiased bilinear ('linear'), close to PIL/torchvision's default; EXIF
 * orientation is applied; an alpha channel is dropped (like PIL's convert('RGB')).
 *
 * Values: x = (pixel · scale − mean[c]) / std[c], scale defaulting to 1/255 so pixels land in [0,1].
 */
import sharp, { type Sharp } from 'sharp';
import { LitheError } from '../errors.js';

export type Layout = 'nchw' | 'nhwc';

export interface ResizeOptions {
  /** Output size: one number for a square, or [height, width]. Omit to keep the file's size. */
  size?: number | [number, number];
  fit?: 'cover' | 'fill';
  /** With fit 'cover': resize the shorter side to this first, then centre-crop to `size`. */
  shorterSide?: number;
  /** 1 = grayscale (luminance), 3 = sRGB. Default 3. */
  channels?: 1 | 3;
  kernel?: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
}

export interface ImageTensorOptions extends ResizeOptions {
  /** Multiplier applied to 0-255 pixels before mean/std. Default 1/255. */
  scale?: number;
  /** Per-channel (or one shared) mean and std, in scaled units, e.g. ImageNet's [0.485, 0.456, 0.406]. */
  mean?: number[];
  std?: number[];
  layout?: Layout;
}

/** Decoded 8-bit pixels, interleaved HWC. */
export interface Pixels {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

function squareOrPair(size: number | [number, number]): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
    throw new LitheError('E_USAGE', `image size must be positive integers, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

/** Decodes and resizes an image file (or its bytes) to 8-bit HWC pixels. */
export async function decodeImage(input: string | Uint8Array, opts: ResizeOptions = {}, name = typeof input === 'string' ? input : 'image'): Promise<Pixels> {
  const channels = opts.channels ?? 3;
  try {
    // Stage 1: orientation and colour at the source resolution. Dropping alpha before resampling
    // matters: sharp resizes premultiplied RGBA, which would shift colours by rounding.
    let img = sharp(input, { failOn: 'error' }).rotate(); // rotate() without args applies EXIF orientation
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
    let { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new LitheError('E_BAD_INPUT', `${name}: decoded to ${info.channels} channels, expected ${channels}`);
    }
    // Stage 2: geometry, on raw pixels.
    if (opts.size !== undefined) {
      const [height, width] = squareOrPair(opts.size);
      const kernel = opts.kernel ?? 'linear';
      // Without an explicit colourspace sharp widens 1-channel raw input to sRGB on output.
      const cs = channels === 1 ? 'b-w' : 'srgb';
      const raw = () => sharp(data, { raw: { width: info.width, height: info.height, channels } });
      let out: Sharp;
      if ((opts.fit ?? 'cover') === 'fill') {
        out = raw().resize({ width, height, fit: 'fill', kernel });
      } else if (opts.shorterSide !== undefined) {
        const s = opts.shorterSide;
        if (s < Math.max(height, width)) throw new LitheError('E_USAGE', `shorterSide ${s} is smaller than the crop ${height}×${width}`);
        // 'outside' keeps the aspect ratio with both sides >= s, i.e. the shorter side becomes s.
        ({ data, info } = await raw().resize({ width: s, height: s, fit: 'outside', kernel }).toColourspace(cs).raw().toBuffer({ resolveWithObject: true }));
        out = raw().extract({ left: Math.floor((info.width - width) / 2), top: Math.floor((info.height - height) / 2), width, height });
      } else {
        out = raw().resize({ width, height, fit: 'cover', position: 'centre', kernel });
      }
      ({ data, info } = await out.toColourspace(cs).raw().toBuffer({ resolveWithObject: true }));
      if (info.channels !== channels) throw new LitheError('E_BAD_INPUT', `${name}: resized to ${info.channels} channels, expected ${channels}`);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width, channels };
  } catch (e) {
    if (e instanceof LitheError) throw e;
    const msg = (e as Error).message.split('\n')[0];
    const code = typeof input === 'string' && /no such file|missing/i.test(msg ?? '') ? 'E_IO' : 'E_BAD_INPUT';
    throw new LitheError(code, `${name}: cannot decode image (${msg})`);
  }
}

function perChannel(values: number[] | undefined, c: number, fallback: number, what: string): number[] {
  if (values === undefined) return new Array<number>(c).fill(fallback);
  if (values.length === 1) return new Array<number>(c).fill(values[0]!);
  if (values.length !== c) throw new LitheError('E_USAGE', `${what} has ${values.length} values for an image with ${c} channels`);
  return values;
}

/** HWC uint8 pixels → normalised float32, one sample, in the requested layout (no batch dim). */
export function normalizePixels(px: Pixels, opts: Pick<ImageTensorOptions, 'scale' | 'mean' | 'std' | 'layout'> = {}): Float32Array {
  const { height: h, width: w, channels: c, data } = px;
  const scale = opts.scale ?? 1 / 255;
  const mean = perChannel(opts.mean, c, 0, 'mean');
  const std = perChannel(opts.std, c, 1, 'std');
  if (std.some((s) => s === 0)) throw new LitheError('E_USAGE', 'std must not contain 0');
  const out = new Float32Array(h * w * c);
  const nchw = (opts.layout ?? 'nchw') === 'nchw';
  for (let ch = 0; ch < c; ch++) {
    const m = mean[ch]!;
    const inv = 1 / std[ch]!;
    for (let p = 0; p < h * w; p++) {
      out[nchw ? ch * h * w + p : p * c + ch] = (data[p * c + ch]! * scale - m) * inv;
    }
  }
  return out;
}

/** An image file → `{ data, dims }` with a batch dimension of 1: [1,C,H,W] or [1,H,W,C]. */
export async function readImageTensor(file: string | Uint8Array, opts: ImageTensorOptions = {}, name?: string): Promise<{ data: Float32Array; dims: number[] }> {
  const px = await decodeImage(file, opts, name);
  const dims = (opts.layout ?? 'nchw') === 'nchw' ? [1, px.channels, px.height, px.width] : [1, px.height, px.width, px.channels];
  return { data: normalizePixels(px, opts), dims };
}
