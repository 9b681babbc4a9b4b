/**
 * IDX reader/writer — the format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist).
 *
 *   bytes 0-1  zero
 *   byte  2    element type: 0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3    number of dims (1-255)
 *   then       one uint32 big-endian per dim, then the elements, big-endian, row-major
 *
 * Files are gzip'd as often as not, so gzip is detected by its magic (1f 8b), not by extension.
 * The file is untrusted: the declared element count is checked against the bytes actually present
 * before anything is allocated for it. For gzip the uncompressed size is unknown until inflated,
 * so inflation is streamed and stops as soon as it yields more bytes than the header declares —
 * memory never exceeds what the file really holds (no decompression bombs).
 */
import { readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { LitheError } from '../errors.js';

export type IdxDtype = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  /** Elements in native byte order, row-major. */
  data: IdxData;
}

const CODES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'u8', size: 1 },
  0x09: { dtype: 'i8', size: 1 },
  0x0b: { dtype: 'i16', size: 2 },
  0x0c: { dtype: 'i32', size: 4 },
  0x0d: { dtype: 'f32', size: 4 },
  0x0e: { dtype: 'f64', size: 8 },
};

/** The largest payload lithe accepts (2 GiB); beyond it typed arrays and Buffers get awkward. */
const MAX_BYTES = 2 ** 31;

function bad(file: string, problem: string): LitheError {
  return new LitheError('E_BAD_INPUT', `${file}: ${problem}`);
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

interface Header {
  code: number;
  dtype: IdxDtype;
  size: number;
  dims: number[];
  headerBytes: number;
  payloadBytes: number;
}

/** Parses the header, or returns undefined when `bytes` is too short to hold all of it yet. */
function parseHeader(bytes: Uint8Array, file: string): Header | undefined {
  if (bytes.length < 4) return undefined;
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad(file, 'not an IDX file (the first two bytes must be zero)');
  const code = bytes[2]!;
  const kind = CODES[code];
  if (!kind) throw bad(file, `unknown IDX element type 0x${code.toString(16).padStart(2, '0')} (expected 08, 09, 0B, 0C, 0D or 0E)`);
  const ndim = bytes[3]!;
  if (ndim === 0) throw bad(file, 'IDX header declares zero dimensions');
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims: number[] = [];
  let payloadBytes = kind.size;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    payloadBytes *= d;
  }
  if (payloadBytes > MAX_BYTES) throw bad(file, `IDX dims [${dims.join(', ')}] declare ${payloadBytes} bytes, more than lithe accepts (2 GiB)`);
  return { code, dtype: kind.dtype, size: kind.size, dims, headerBytes, payloadBytes };
}

/** Converts a big-endian payload into a native typed array (a copy, so it is aligned). */
function decodePayload(h: Header, payload: Uint8Array): IdxData {
  const n = h.payloadBytes / h.size;
  if (h.dtype === 'u8' || h.dtype === 'i8') {
    // An explicit copy: payload may be a Buffer, whose slice() is a view into a shared pool.
    const out = h.dtype === 'u8' ? new Uint8Array(n) : new Int8Array(n);
    new Uint8Array(out.buffer).set(payload.subarray(0, n));
    return out;
  }
  const view = new DataView(payload.buffer, payload.byteOffset, h.payloadBytes);
  switch (h.dtype) {
    case 'i16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case 'i32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case 'f32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    case 'f64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

/** Decodes an uncompressed IDX file held in memory. */
export function parseIdxPlain(bytes: Uint8Array, file: string): IdxArray {
  const h = parseHeader(bytes, file);
  if (!h) throw bad(file, `truncated IDX header (${bytes.length} bytes)`);
  const present = bytes.length - h.headerBytes;
  if (present < h.payloadBytes) {
    throw bad(file, `truncated: dims [${h.dims.join(', ')}] need ${h.payloadBytes} bytes of data, the file has ${present}`);
  }
  if (present > h.payloadBytes) {
    throw bad(file, `${present - h.payloadBytes} bytes after the data that dims [${h.dims.join(', ')}] declare (wrong file or corrupt header)`);
  }
  return { dtype: h.dtype, dims: h.dims, data: decodePayload(h, bytes.subarray(h.headerBytes)) };
}

/** Inflates `gz`, refusing to produce more than the IDX header inside it declares. */
function gunzipBounded(gz: Uint8Array, file: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let limit = Infinity; // known once the header has been inflated
    let failed = false;
    const gunzip = createGunzip();
    const fail = (err: LitheError) => {
      if (failed) return;
      failed = true;
      gunzip.destroy();
      reject(err);
    };
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (limit === Infinity) {
        try {
          const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
          const h = parseHeader(head, file);
          if (h) limit = h.headerBytes + h.payloadBytes;
        } catch (e) {
          return fail(e as LitheError);
        }
      }
      if (total > limit) fail(bad(file, `gzip stream holds more data than the IDX header declares (wrong file or corrupt header)`));
    });
    gunzip.on('error', (e) => fail(bad(file, `corrupt or truncated gzip data (${e.message})`)));
    gunzip.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, total));
    });
    gunzip.end(gz);
  });
}

/** Decodes an IDX file held in memory, gzip'd or not. */
export async function parseIdx(bytes: Uint8Array, file: string): Promise<IdxArray> {
  return parseIdxPlain(isGzip(bytes) ? await gunzipBounded(bytes, file) : bytes, file);
}

/** Reads an IDX file (gzip'd or plain) from disk. */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new LitheError('E_IO', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(bytes, file);
}

/** Encodes an array as an uncompressed IDX file (gzip it with zlib for the .gz form). */
export function encodeIdx(dtype: IdxDtype, dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const entry = Object.entries(CODES).find(([, k]) => k.dtype === dtype)!;
  const code = Number(entry[0]);
  const size = entry[1].size;
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new RangeError(`encodeIdx: ${data.length} values for dims [${dims.join(', ')}]`);
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + n * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    const at = headerBytes + i * size;
    if (dtype === 'u8') view.setUint8(at, v);
    else if (dtype === 'i8') view.setInt8(at, v);
    else if (dtype === 'i16') view.setInt16(at, v, false);
    else if (dtype === 'i32') view.setInt32(at, v, false);
    else if (dtype === 'f32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}
