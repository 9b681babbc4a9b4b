/**
 * NumPy .npy reader (format versions 1.0, 2.0, 3.0 — numpy/lib/format.py).
 *
 *   "\x93NUMPY" major minor  header_len (uint16 LE in v1, uint32 LE in v2/v3)
 *   header: a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *   then the elements, C order, in the byte order the descr names ('<' little, '>' big, '|' n/a)
 *
 * Supported dtypes: f2 f4 f8, i1 i2 i4 i8, u1 u2 u4 u8, b1. float16 stays as its bit patterns
 * (Uint16Array, dtype FLOAT16), which is what onnxruntime takes. The element count is checked
 * against the bytes present before anything is allocated.
 */
import { LitheError } from '../errors.js';
import { DataType } from '../onnx/proto.js';
import type { TensorArray } from '../graph/tensor.js';

/** A host tensor as model input: same shape as runtime's HostTensor, minus strings. */
export interface InputTensor {
  dtype: DataType;
  dims: number[];
  data: TensorArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface Kind {
  dtype: DataType;
  size: number;
  make: (n: number) => TensorArray;
  get: (v: DataView, at: number, le: boolean) => number | bigint;
}

const KINDS: Record<string, Kind> = {
  f2: { dtype: DataType.FLOAT16, size: 2, make: (n) => new Uint16Array(n), get: (v, a, le) => v.getUint16(a, le) },
  f4: { dtype: DataType.FLOAT, size: 4, make: (n) => new Float32Array(n), get: (v, a, le) => v.getFloat32(a, le) },
  f8: { dtype: DataType.DOUBLE, size: 8, make: (n) => new Float64Array(n), get: (v, a, le) => v.getFloat64(a, le) },
  i1: { dtype: DataType.INT8, size: 1, make: (n) => new Int8Array(n), get: (v, a) => v.getInt8(a) },
  i2: { dtype: DataType.INT16, size: 2, make: (n) => new Int16Array(n), get: (v, a, le) => v.getInt16(a, le) },
  i4: { dtype: DataType.INT32, size: 4, make: (n) => new Int32Array(n), get: (v, a, le) => v.getInt32(a, le) },
  i8: { dtype: DataType.INT64, size: 8, make: (n) => new BigInt64Array(n), get: (v, a, le) => v.getBigInt64(a, le) },
  u1: { dtype: DataType.UINT8, size: 1, make: (n) => new Uint8Array(n), get: (v, a) => v.getUint8(a) },
  u2: { dtype: DataType.UINT16, size: 2, make: (n) => new Uint16Array(n), get: (v, a, le) => v.getUint16(a, le) },
  u4: { dtype: DataType.UINT32, size: 4, make: (n) => new Uint32Array(n), get: (v, a, le) => v.getUint32(a, le) },
  u8: { dtype: DataType.UINT64, size: 8, make: (n) => new BigUint64Array(n), get: (v, a, le) => v.getBigUint64(a, le) },
  b1: { dtype: DataType.BOOL, size: 1, make: (n) => new Uint8Array(n), get: (v, a) => (v.getUint8(a) ? 1 : 0) },
};

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

function bad(file: string, problem: string): LitheError {
  return new LitheError('E_BAD_INPUT', `${file}: ${problem}`);
}

/** Parses the header dict; only the three keys numpy writes are read. */
function parseHeader(text: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    // A structured dtype has a list as descr, which the first regex cannot match.
    throw bad(file, `unsupported .npy header ${JSON.stringify(text.trim())} (need a plain dtype, fortran_order and shape)`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, '')); // Python 2 wrote longs as 3L
      if (!Number.isSafeInteger(d) || d < 0) throw bad(file, `bad dimension '${s}' in .npy shape`);
      return d;
    });
  return { descr, fortran: fortran === 'True', shape };
}

/** Decodes a .npy file held in memory. */
export function parseNpy(bytes: Uint8Array, file: string): InputTensor {
  if (!isNpy(bytes)) throw bad(file, 'not a .npy file (no \\x93NUMPY magic)');
  if (bytes.length < 10) throw bad(file, 'truncated .npy header');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad(file, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw bad(file, `unsupported .npy format version ${major}.${bytes[7]} (1.0, 2.0 and 3.0 are supported)`);
  }
  if (start + headerLen > bytes.length) throw bad(file, `truncated .npy header (declares ${headerLen} bytes)`);
  // v1/v2 headers are latin1, v3 utf8; the keys and values we read are ASCII either way.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const { descr, fortran, shape } = parseHeader(text, file);
  if (fortran) {
    throw bad(file, 'array is in Fortran order; save it in C order (np.save(path, np.ascontiguousarray(a)))');
  }
  const order = descr[0];
  const kind = KINDS[descr.slice(1)];
  if (!kind || !'<>|='.includes(order ?? '')) {
    throw bad(file, `unsupported .npy dtype '${descr}' (supported: ${Object.keys(KINDS).join(' ')}, little- or big-endian)`);
  }
  const le = order !== '>'; // '=' is native, and every platform lithe runs on is little-endian
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = count * kind.size;
  if (!Number.isSafeInteger(need) || need > bytes.length - dataStart) {
    throw bad(file, `truncated: shape (${shape.join(', ')}) of ${descr} needs ${need} bytes, the file has ${bytes.length - dataStart}`);
  }
  const data = kind.make(count);
  if (le && kind.dtype !== DataType.BOOL) {
    // Host order already: one byte copy (which also realigns the payload).
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + need));
    return { dtype: kind.dtype, dims: shape, data };
  }
  for (let i = 0; i < count; i++) (data as unknown as (number | bigint)[])[i] = kind.get(view, dataStart + i * kind.size, le);
  return { dtype: kind.dtype, dims: shape, data };
}
