/**
 * Datasets of labelled images, held in memory as uint8 — Fashion-MNIST's 70,000 28×28 images are
 * 55 MB that way, a quarter of float32; batches are converted to float32 as they are drawn
 * (see batcher.ts).
 *
 * `openDataset(spec)` resolves, in order:
 *   'fashion-mnist'       the full set from Debian's dataset-fashion-mnist at
 *                         /usr/share/datasets/fashion-mnist, else the bundled subset
 *   'fashion-mnist-mini'  the bundled subset (data/fashion-mnist-mini in the package)
 *   a folder of IDX files train-images-idx3-ubyte(.gz) / train-labels-idx1-ubyte(.gz), and
 *                         t10k-* (or test-*) for the test split; classes from classes.txt if present
 *   an image folder       one subfolder per class (ImageFolder layout), optionally under train/
 *                         and test/; class names are the sorted subfolder names
 * `source` always says which one was used, so that reports never pass a subset off as the full set.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LitheError } from '../errors.js';
import { readIdx } from './idx.js';
import { decodeImage } from './image.js';

export interface Dataset {
  name: string;
  /** Human-readable origin, e.g. '/usr/share/datasets/fashion-mnist (full, Debian dataset-fashion-mnist)'. */
  source: string;
  split: Split;
  size: number;
  /** Shape of one sample, CHW: [1, 28, 28] for Fashion-MNIST. */
  sampleShape: number[];
  classes: string[];
  /** size × C×H×W pixels, 0-255, each sample stored CHW (planar), samples back to back. */
  images: Uint8Array;
  /** One class index per sample, < classes.length. */
  labels: Uint8Array;
}

export type Split = 'train' | 'test';

export interface OpenOptions {
  split: Split;
  /** For image folders: output size (square, or [h, w]). Default 28 with 1 channel, else 224. */
  imageSize?: number | [number, number];
  /** For image folders: 1 = grayscale, 3 = RGB. Default 3. */
  channels?: 1 | 3;
}

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where Debian's dataset-fashion-mnist package puts the full set. */
export const SYSTEM_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/** Bytes of one sample. */
export function sampleBytes(ds: Pick<Dataset, 'sampleShape'>): number {
  return ds.sampleShape.reduce((a, b) => a * b, 1);
}

/** One sample's pixels (a view, CHW) and label. */
export function sampleAt(ds: Dataset, i: number): { pixels: Uint8Array; label: number } {
  if (!(Number.isInteger(i) && i >= 0 && i < ds.size)) throw new RangeError(`sample ${i} is outside ${ds.name} (size ${ds.size})`);
  const n = sampleBytes(ds);
  return { pixels: ds.images.subarray(i * n, (i + 1) * n), label: ds.labels[i]! };
}

/**
 * The package root: the nearest ancestor holding a package.json named "lithe". Walking up (rather
 * than a fixed '../..') keeps this right both from src/ under tsx and from compiled dist/.
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'lithe') return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking
      }
    }
    if (dirname(dir) === dir) throw new LitheError('E_IO', `cannot find the lithe package root above ${from}`);
  }
}

export function bundledFashionMnistDir(): string {
  return join(packageRoot(), 'data', 'fashion-mnist-mini');
}

/** Finds `<prefix>-<kind>-idx<d>-ubyte(.gz)` for a split in a folder, or undefined. */
function idxFile(dir: string, split: Split, kind: 'images' | 'labels'): string | undefined {
  const prefixes = split === 'train' ? ['train'] : ['t10k', 'test'];
  const d = kind === 'images' ? 3 : 1;
  for (const p of prefixes) {
    for (const sep of ['-', '.']) {
      // '.' for the variant some mirrors use: train-images.idx3-ubyte
      for (const gz of ['.gz', '']) {
        const f = join(dir, `${p}-${kind}${sep}idx${d}-ubyte${gz}`);
        if (existsSync(f)) return f;
      }
    }
  }
  return undefined;
}

function hasIdxSplit(dir: string, split: Split): boolean {
  return idxFile(dir, split, 'images') !== undefined && idxFile(dir, split, 'labels') !== undefined;
}

/** Loads an IDX image/label pair: images u8 [N,H,W] (or [N,H,W,C]), labels u8 [N]. */
export async function openIdxDataset(dir: string, opts: { split: Split; name?: string; source?: string; classes?: string[] }): Promise<Dataset> {
  const imagesFile = idxFile(dir, opts.split, 'images');
  const labelsFile = idxFile(dir, opts.split, 'labels');
  if (!imagesFile || !labelsFile) {
    const want = opts.split === 'train' ? 'train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz)' : 't10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)';
    throw new LitheError('E_IO', `${dir}: no ${opts.split} split (expected ${want})`);
  }
  const [img, lab] = await Promise.all([readIdx(imagesFile), readIdx(labelsFile)]);
  if (img.dtype !== 'u8' || (img.dims.length !== 3 && img.dims.length !== 4)) {
    throw new LitheError('E_BAD_INPUT', `${imagesFile}: expected uint8 images [N,H,W] or [N,H,W,C], got ${img.dtype} [${img.dims.join(', ')}]`);
  }
  if (lab.dtype !== 'u8' || lab.dims.length !== 1) throw new LitheError('E_BAD_INPUT', `${labelsFile}: expected uint8 labels [N], got ${lab.dtype} [${lab.dims.join(', ')}]`);
  const [n, h, w, c = 1] = img.dims as [number, number, number, number?];
  if (lab.dims[0] !== n) throw new LitheError('E_BAD_INPUT', `${labelsFile}: ${lab.dims[0]} labels for ${n} images in ${imagesFile}`);
  const labels = lab.data as Uint8Array;
  let maxLabel = -1;
  for (const l of labels) if (l > maxLabel) maxLabel = l;
  const classesFile = join(dir, 'classes.txt');
  const classes =
    opts.classes ??
    (existsSync(classesFile)
      ? readFileSync(classesFile, 'utf8').split('\n').map((s) => s.trim()).filter((s) => s.length > 0)
      : Array.from({ length: maxLabel + 1 }, (_, i) => String(i)));
  if (maxLabel >= classes.length) throw new LitheError('E_BAD_INPUT', `${labelsFile}: label ${maxLabel} but only ${classes.length} classes`);
  const images = c === 1 ? (img.data as Uint8Array) : hwcToChw(img.data as Uint8Array, n, h, w, c);
  return { name: opts.name ?? dir, source: opts.source ?? dir, split: opts.split, size: n, sampleShape: [c, h, w], classes, images, labels };
}

function hwcToChw(src: Uint8Array, n: number, h: number, w: number, c: number, dst = new Uint8Array(n * h * w * c), at = 0): Uint8Array {
  const hw = h * w;
  for (let s = 0; s < n; s++) {
    const base = s * hw * c;
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) dst[at + base + ch * hw + p] = src[base + p * c + ch]!;
  }
  return dst;
}

/** ImageFolder layout: <dir>/<class>/<image>; decoded and resized with sharp, a few at a time. */
export async function openImageFolder(dir: string, opts: OpenOptions): Promise<Dataset> {
  const channels = opts.channels ?? 3;
  const size = opts.imageSize ?? (channels === 1 ? 28 : 224);
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const classes = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(); // code-point order, as Python's sorted() in torchvision's ImageFolder
  if (classes.length === 0) throw new LitheError('E_BAD_INPUT', `${dir}: no class subfolders (expected <dir>/<class>/<image files>)`);
  if (classes.length > 256) throw new LitheError('E_BAD_INPUT', `${dir}: ${classes.length} classes; lithe stores labels as uint8 (at most 256)`);
  const files: { path: string; label: number }[] = [];
  for (const [label, cls] of classes.entries()) {
    const names = (await readdir(join(dir, cls))).filter((f) => IMAGE_EXTENSIONS.has(f.slice(f.lastIndexOf('.')).toLowerCase())).sort();
    for (const f of names) files.push({ path: join(dir, cls, f), label });
  }
  if (files.length === 0) throw new LitheError('E_BAD_INPUT', `${dir}: no image files in its class subfolders (${[...IMAGE_EXTENSIONS].join(' ')})`);
  const per = h * w * channels;
  const images = new Uint8Array(files.length * per);
  const labels = new Uint8Array(files.map((f) => f.label));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const px = await decodeImage(await readFile(files[i]!.path), { size: [h, w], channels, fit: 'cover' }, files[i]!.path);
      hwcToChw(px.data, 1, h, w, channels, images, i * per);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  return { name: dir, source: `${dir} (image folder, ${files.length} images)`, split: opts.split, size: files.length, sampleShape: [channels, h, w], classes, images, labels };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Where Fashion-MNIST's split comes from: the full set in systemDir if it has it, else the bundled subset. */
export function fashionMnistLocation(split: Split, systemDir: string | null = SYSTEM_FASHION_MNIST_DIR): { dir: string; source: string } {
  if (systemDir !== null && hasIdxSplit(systemDir, split)) return { dir: systemDir, source: `${systemDir} (full, Debian dataset-fashion-mnist)` };
  const dir = bundledFashionMnistDir();
  return { dir, source: `bundled subset (${dir})` };
}

/** Opens a dataset by name or folder; see the file header for how `spec` is resolved. */
export async function openDataset(spec: string, opts: OpenOptions): Promise<Dataset> {
  if (spec === 'fashion-mnist' || spec === 'fashion-mnist-mini') {
    const { dir, source } = fashionMnistLocation(opts.split, spec === 'fashion-mnist' ? SYSTEM_FASHION_MNIST_DIR : null);
    return openIdxDataset(dir, { split: opts.split, name: spec, source, classes: FASHION_MNIST_CLASSES });
  }
  const dir = resolve(spec);
  if (!isDir(dir)) {
    throw new LitheError('E_IO', `dataset '${spec}' not found: not a built-in name (fashion-mnist, fashion-mnist-mini) nor a folder`);
  }
  if (hasIdxSplit(dir, 'train') || hasIdxSplit(dir, 'test')) return openIdxDataset(dir, { split: opts.split, name: spec });
  // A folder split into train/ and test/ (or val/) must have the requested split; otherwise the
  // whole folder is one split, whichever was asked for.
  const splitDirs = (opts.split === 'train' ? ['train'] : ['test', 'val']).map((s) => join(dir, s));
  const isSplit = ['train', 'test', 'val'].some((s) => isDir(join(dir, s)));
  const splitDir = splitDirs.find(isDir);
  if (isSplit && !splitDir) throw new LitheError('E_IO', `${dir}: has split subfolders but no ${opts.split === 'train' ? 'train/' : 'test/ or val/'}`);
  const ds = await openImageFolder(splitDir ?? dir, opts);
  return { ...ds, name: spec };
}
