/**
 * Model inputs from files, for `lithe run`: one entry point, `readInputFile`, that picks the
 * reader by content (magic bytes) first and extension second:
 *   .npy           NumPy array, dtype and shape kept (npy.ts)
 *   .json          nested arrays of numbers, rectangular; dims inferred, float32 unless `dtype`
 *   PNG/JPEG/WebP/GIF/TIFF/AVIF   decoded, resized and normalised to [1,C,H,W] or [1,H,W,C] (image.ts)
 *   IDX (.gz)      MNIST-format arrays (idx.ts), converted to the matching ONNX dtype
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { LitheError } from '../errors.js';
import { DataType } from '../onnx/proto.js';
import { parseIdx, isGzip } from './idx.js';
import { readImageTensor, type ImageTensorOptions } from './image.js';
import { isNpy, parseNpy, type InputTensor } from './npy.js';

export type { InputTensor } from './npy.js';

export interface InputOptions extends ImageTensorOptions {
  /** Element type for JSON input: FLOAT (default), DOUBLE, INT32 or INT64. */
  dtype?: DataType;
}

type Format = 'npy' | 'json' | 'image' | 'idx';

function sniff(bytes: Uint8Array, file: string): Format | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  const ascii = (from: number, s: string) => [...s].every((ch, i) => b(from + i) === ch.charCodeAt(0));
  if (isNpy(bytes)) return 'npy';
  if (ascii(0, '\x89PNG') || (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) || (ascii(0, 'RIFF') && ascii(8, 'WEBP'))) return 'image';
  if (ascii(0, 'GIF8') || ascii(0, 'II*\0') || ascii(0, 'MM\0*') || ascii(4, 'ftypavif')) return 'image';
  if (b(0) === 0 && b(1) === 0 && [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(b(2))) return 'idx';
  if (isGzip(bytes) && /idx\d-ubyte\.gz$|\.idx\.gz$/i.test(file)) return 'idx';
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  // Unnamed JSON: skip whitespace and look for the start of an array or number.
  let i = 0;
  while (i < bytes.length && (b(i) === 0x20 || b(i) === 0x0a || b(i) === 0x0d || b(i) === 0x09)) i++;
  if (b(i) === 0x5b /* [ */ || b(i) === 0x2d /* - */ || (b(i) >= 0x30 && b(i) <= 0x39)) return 'json';
  return undefined;
}

/** A JSON value for an error message, cut to one short line. */
function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Nested JSON arrays → dims and flat values; every level must be rectangular. */
export function parseJsonArray(value: unknown, file: string): { dims: number[]; values: number[] } {
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    if (v.length === 0) throw new LitheError('E_BAD_INPUT', `${file}: empty array at depth ${dims.length}`);
    dims.push(v.length);
  }
  const values: number[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === dims.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new LitheError('E_BAD_INPUT', `${file}: element ${path || '(root)'} is ${brief(v)}, not a finite number`);
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) {
      const got = Array.isArray(v) ? `${v.length} items` : brief(v);
      throw new LitheError('E_BAD_INPUT', `${file}: not rectangular: ${path || '(root)'} has ${got}, expected ${dims[depth]} items (shape [${dims.join(', ')}])`);
    }
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return { dims, values };
}

function jsonTensor(bytes: Uint8Array, file: string, dtype: DataType): InputTensor {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new LitheError('E_BAD_INPUT', `${file}: invalid JSON (${(e as Error).message})`);
  }
  const { dims, values } = parseJsonArray(value, file);
  switch (dtype) {
    case DataType.FLOAT:
      return { dtype, dims, data: Float32Array.from(values) };
    case DataType.DOUBLE:
      return { dtype, dims, data: Float64Array.from(values) };
    case DataType.INT32:
    case DataType.INT64: {
      const bad = values.findIndex((v) => !Number.isSafeInteger(v) || (dtype === DataType.INT32 && (v < -(2 ** 31) || v >= 2 ** 31)));
      if (bad >= 0) throw new LitheError('E_BAD_INPUT', `${file}: value ${values[bad]} (element ${bad}) is not a valid ${dtype === DataType.INT32 ? 'int32' : 'int64'}`);
      return dtype === DataType.INT32 ? { dtype, dims, data: Int32Array.from(values) } : { dtype, dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
    }
    default:
      throw new LitheError('E_USAGE', `JSON input can be float32, float64, int32 or int64, not ${DataType[dtype] ?? dtype}`);
  }
}

const IDX_DTYPES = { u8: DataType.UINT8, i8: DataType.INT8, i16: DataType.INT16, i32: DataType.INT32, f32: DataType.FLOAT, f64: DataType.DOUBLE } as const;

/** Reads one model input from a file; see the file header for the formats. */
export async function readInputFile(file: string, opts: InputOptions = {}): Promise<InputTensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new LitheError('E_IO', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  switch (sniff(bytes, file)) {
    case 'npy':
      return parseNpy(bytes, file);
    case 'json':
      return jsonTensor(bytes, file, opts.dtype ?? DataType.FLOAT);
    case 'image': {
      const { data, dims } = await readImageTensor(bytes, opts, file);
      return { dtype: DataType.FLOAT, dims, data };
    }
    case 'idx': {
      const a = await parseIdx(bytes, file);
      return { dtype: IDX_DTYPES[a.dtype], dims: a.dims, data: a.data };
    }
    case undefined:
      throw new LitheError('E_BAD_INPUT', `${file}: unrecognised input format (supported: .npy, .json, PNG/JPEG/WebP/GIF/TIFF/AVIF images, IDX)`);
  }
}
