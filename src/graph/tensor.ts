/**
 * A constant tensor (initializer, attribute value). It keeps its payload in the form the file used
 * (`raw_data`, a typed field such as `float_data`, or `string_data`) so that load→save is lossless,
 * and converts on demand:
 *
 *   bytes()    little-endian raw bytes, the layout of ONNX raw_data (4-bit types packed two per
 *              byte, low nibble first; float16/bfloat16/float8 as their bit patterns)
 *   toArray()  a typed array view/copy of the elements (float16/bfloat16 widened to Float32)
 *
 * Raw payloads are views into the bytes they were loaded from, never copies.
 */
import { LitheError } from '../errors.js';
import { DataType, type StringStringEntryProto, type TensorProto, type UnknownFields } from '../onnx/proto.js';

/** Bits per element of each dtype (strings have no fixed size: 0). */
export const DTYPE_BITS: Record<DataType, number> = {
  [DataType.UNDEFINED]: 0,
  [DataType.FLOAT]: 32,
  [DataType.UINT8]: 8,
  [DataType.INT8]: 8,
  [DataType.UINT16]: 16,
  [DataType.INT16]: 16,
  [DataType.INT32]: 32,
  [DataType.INT64]: 64,
  [DataType.STRING]: 0,
  [DataType.BOOL]: 8,
  [DataType.FLOAT16]: 16,
  [DataType.DOUBLE]: 64,
  [DataType.UINT32]: 32,
  [DataType.UINT64]: 64,
  [DataType.COMPLEX64]: 64,
  [DataType.COMPLEX128]: 128,
  [DataType.BFLOAT16]: 16,
  [DataType.FLOAT8E4M3FN]: 8,
  [DataType.FLOAT8E4M3FNUZ]: 8,
  [DataType.FLOAT8E5M2]: 8,
  [DataType.FLOAT8E5M2FNUZ]: 8,
  [DataType.UINT4]: 4,
  [DataType.INT4]: 4,
  [DataType.FLOAT4E2M1]: 4,
  [DataType.FLOAT8E8M0]: 8,
};

export function dtypeName(t: DataType): string {
  return (DataType[t] ?? `dtype(${t})`).toLowerCase();
}

/** Bytes that `count` elements of `dtype` occupy in raw_data. */
export function rawByteLength(dtype: DataType, count: number): number {
  return Math.ceil((count * DTYPE_BITS[dtype]) / 8);
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Typed-array payload fields of TensorProto, as loaded. */
type FieldPayload = Pick<TensorProto, 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData'>;

export class Tensor {
  name: string;
  dtype: DataType;
  dims: number[];
  docString: string | undefined;
  metadataProps: StringStringEntryProto[] | undefined;
  segment: { begin: number; end: number } | undefined;
  unknown: UnknownFields | undefined;
  /** Where the bytes came from when the file stored them externally (informational; saving decides anew). */
  externalSource: StringStringEntryProto[] | undefined;
  private raw: Uint8Array | undefined;
  private fields: FieldPayload | undefined;

  constructor(dtype: DataType, dims: number[], payload: Uint8Array | FieldPayload, name = '') {
    this.name = name;
    this.dtype = dtype;
    this.dims = dims;
    if (payload instanceof Uint8Array) this.raw = payload;
    else this.fields = payload;
  }

  /** Builds a tensor from elements; the bytes are copied into a fresh little-endian buffer. */
  static fromArray(dtype: DataType, dims: number[], data: ArrayLike<number> | ArrayLike<bigint> | TensorArray, name = ''): Tensor {
    const n = elementCount(dims);
    if (data.length !== n) throw new Error(`tensor "${name}": ${data.length} values for shape [${dims.join(',')}] (${n} elements)`);
    const Ctor = arrayCtor(dtype);
    if (!Ctor) throw new Error(`tensor "${name}": cannot build ${dtypeName(dtype)} from an array`);
    let arr: TensorArray;
    if (data instanceof Ctor) arr = data as TensorArray;
    else if (dtype === DataType.INT64 || dtype === DataType.UINT64)
      arr = (Ctor as BigInt64ArrayConstructor).from(Array.from(data as ArrayLike<number | bigint>, (x) => BigInt(x)));
    else arr = (Ctor as Float32ArrayConstructor).from(data as ArrayLike<number>);
    const bytes = new Uint8Array(arr.byteLength);
    bytes.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    return new Tensor(dtype, dims, bytes, name);
  }

  static scalar(dtype: DataType, value: number, name = ''): Tensor {
    return Tensor.fromArray(dtype, [], [value], name);
  }

  get size(): number {
    return elementCount(this.dims);
  }
  /** Bytes of the payload as raw_data (strings: total bytes of all strings). */
  get byteLength(): number {
    if (this.dtype === DataType.STRING) return (this.fields?.stringData ?? []).reduce((s, b) => s + b.length, 0);
    return rawByteLength(this.dtype, this.size);
  }
  /** True when the payload is raw bytes (raw_data or external data). */
  get isRaw(): boolean {
    return this.raw !== undefined;
  }
  /** The typed fields as loaded, when the payload is not raw. */
  get fieldPayload(): Readonly<FieldPayload> | undefined {
    return this.fields;
  }

  /** Raw little-endian bytes. A view when the payload is raw; converted from typed fields otherwise. */
  bytes(): Uint8Array {
    if (this.raw) return this.raw;
    if (this.dtype === DataType.STRING) throw new Error(`tensor "${this.name}": string tensors have no raw bytes`);
    return fieldsToRaw(this.dtype, this.size, this.fields ?? {}, this.name);
  }

  /** String elements (STRING tensors only). */
  strings(): Uint8Array[] {
    if (this.dtype !== DataType.STRING) throw new Error(`tensor "${this.name}" is ${dtypeName(this.dtype)}, not string`);
    return this.fields?.stringData ?? [];
  }

  /**
   * Elements as a typed array of the natural JS type. float16/bfloat16 are widened to Float32Array;
   * bool is Uint8Array; 4-bit and 8-bit float types are not supported here.
   */
  toArray(): TensorArray {
    const bytes = this.bytes();
    if (this.dtype === DataType.FLOAT16) return halfToFloat32(bytes);
    if (this.dtype === DataType.BFLOAT16) return bfloat16ToFloat32(bytes);
    const Ctor = arrayCtor(this.dtype);
    if (!Ctor) throw new Error(`tensor "${this.name}": ${dtypeName(this.dtype)} has no typed-array view`);
    const n = this.size;
    const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
    return new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, n) as TensorArray;
  }

  /** Elements as plain numbers (int64 converted; throws beyond ±2^53). */
  toNumbers(): number[] {
    const a = this.toArray();
    return Array.from(a as ArrayLike<number | bigint>, (x) => {
      if (typeof x === 'bigint') {
        if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER))
          throw new LitheError('E_BAD_MODEL', `tensor "${this.name}": int64 value ${x} is not a safe integer`);
        return Number(x);
      }
      return x;
    });
  }
}

function arrayCtor(dtype: DataType) {
  switch (dtype) {
    case DataType.FLOAT: return Float32Array;
    case DataType.DOUBLE: return Float64Array;
    case DataType.INT8: return Int8Array;
    case DataType.UINT8: case DataType.BOOL: return Uint8Array;
    case DataType.INT16: return Int16Array;
    case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: return Uint16Array;
    case DataType.INT32: return Int32Array;
    case DataType.UINT32: return Uint32Array;
    case DataType.INT64: return BigInt64Array;
    case DataType.UINT64: return BigUint64Array;
    default: return undefined;
  }
}

/**
 * Converts typed proto fields to raw bytes, following onnx.proto: float_data holds float and
 * complex64; int32_data holds every type of 16 bits or fewer (bit patterns for float16/bfloat16/
 * float8; for 4-bit types one int32 per packed byte); int64_data int64; double_data double and
 * complex128; uint64_data uint32 and uint64.
 */
function fieldsToRaw(dtype: DataType, count: number, f: FieldPayload, name: string): Uint8Array {
  const out = new Uint8Array(rawByteLength(dtype, count));
  const dv = new DataView(out.buffer);
  const need = (arr: ArrayLike<unknown> | undefined, n: number, field: string) => {
    const a = arr ?? [];
    if (a.length !== n) throw new LitheError('E_BAD_MODEL', `tensor "${name}": ${field} has ${a.length} values, shape needs ${n}`);
    return a;
  };
  const bits = DTYPE_BITS[dtype];
  switch (dtype) {
    case DataType.FLOAT: case DataType.COMPLEX64: {
      const a = need(f.floatData, dtype === DataType.FLOAT ? count : 2 * count, 'float_data') as number[];
      a.forEach((x, i) => dv.setFloat32(4 * i, x, true));
      return out;
    }
    case DataType.DOUBLE: case DataType.COMPLEX128: {
      const a = need(f.doubleData, dtype === DataType.DOUBLE ? count : 2 * count, 'double_data') as number[];
      a.forEach((x, i) => dv.setFloat64(8 * i, x, true));
      return out;
    }
    case DataType.INT64: {
      const a = need(f.int64Data, count, 'int64_data') as bigint[];
      a.forEach((x, i) => dv.setBigInt64(8 * i, x, true));
      return out;
    }
    case DataType.UINT32: {
      const a = need(f.uint64Data, count, 'uint64_data') as bigint[];
      a.forEach((x, i) => dv.setUint32(4 * i, Number(x), true));
      return out;
    }
    case DataType.UINT64: {
      const a = need(f.uint64Data, count, 'uint64_data') as bigint[];
      a.forEach((x, i) => dv.setBigUint64(8 * i, x, true));
      return out;
    }
    case DataType.INT32: {
      const a = need(f.int32Data, count, 'int32_data') as number[];
      a.forEach((x, i) => dv.setInt32(4 * i, x, true));
      return out;
    }
    default: {
      if (bits === 16) {
        const a = need(f.int32Data, count, 'int32_data') as number[];
        a.forEach((x, i) => dv.setUint16(2 * i, x & 0xffff, true));
      } else if (bits === 8) {
        const a = need(f.int32Data, count, 'int32_data') as number[];
        a.forEach((x, i) => (out[i] = x & 0xff));
      } else if (bits === 4) {
        const a = need(f.int32Data, out.length, 'int32_data') as number[];
        a.forEach((x, i) => (out[i] = x & 0xff));
      } else {
        throw new LitheError('E_BAD_MODEL', `tensor "${name}": unsupported data type ${dtypeName(dtype)}`);
      }
      return out;
    }
  }
}

/** IEEE 754 half → float32. */
export function halfToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const h = dv.getUint16(2 * i, true);
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}

/** bfloat16 → float32: the 16 bits are the high half of a float32. */
export function bfloat16ToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const u = new Uint32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
  return new Float32Array(u.buffer);
}
