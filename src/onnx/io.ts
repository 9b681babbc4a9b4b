/**
 * Model files in and out: `loadModel`, `saveModel`, `serializeModel`.
 *
 * External data (onnx.proto: data_location = EXTERNAL, external_data {location, offset, length})
 * lets a model keep its tensors outside the protobuf, which is how models past protobuf's 2 GB
 * limit are stored. A model file is untrusted, so a location must be a relative path that stays
 * inside the model's folder (after resolving `..` and symlinks), and offset + length must lie
 * inside the data file, whose bytes are read once and shared: each tensor is a view, never a copy.
 *
 * Saving writes to `<path>.<pid>.tmp` (the model and its data file both) and renames only when
 * every temporary is complete, so a failure never leaves a half-written model or stray temporaries. With external data, tensors of at least
 * `sizeThreshold` bytes go to one data file beside the model, each at an offset aligned to 4096
 * bytes when it is 1 MiB or more (so that runtimes can mmap them), as onnx's own writer does.
 */
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';
import { LitheError, badModel } from '../errors.js';
import type { Model } from '../graph/ir.js';
import type { Tensor } from '../graph/tensor.js';
import { rawByteLength, elementCount, dtypeName } from '../graph/tensor.js';
import { decodeModel } from './decode.js';
import { encodeModel } from './encode.js';
import { modelFromProto, type ExternalResolver } from './from-proto.js';
import type { TensorProto } from './proto.js';
import { DataType } from './proto.js';
import { modelToProto, type TensorPlacer } from './to-proto.js';
import { concatChunks } from './wire.js';

/** Protobuf cannot encode a message of 2 GiB or more. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface LoadOptions {
  /** Folder that external-data locations are relative to, when the model is given as bytes. */
  baseDir?: string;
  /** Name of the model in error messages, when given as bytes. */
  name?: string;
}

/** Loads a model from a file path or from its bytes. */
export function loadModel(source: string | Uint8Array, opts: LoadOptions = {}): Model {
  let bytes: Uint8Array;
  let file: string;
  let baseDir = opts.baseDir;
  if (typeof source === 'string') {
    file = source;
    bytes = readModelFile(source);
    baseDir ??= dirname(resolve(source));
  } else {
    file = opts.name ?? '<bytes>';
    bytes = source;
  }
  const proto = decodeModel(bytes, file);
  return modelFromProto(proto, externalResolver(file, baseDir));
}

function readModelFile(file: string): Uint8Array {
  try {
    if (statSync(file).isDirectory()) throw new LitheError('E_IO', `${file}: is a folder, not a model file`);
    return readFileSync(file);
  } catch (e) {
    if (e instanceof LitheError) throw e;
    throw ioError(file, 'cannot read', e);
  }
}

function ioError(file: string, what: string, e: unknown): LitheError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? (e as Error).message;
  return new LitheError('E_IO', `${file}: ${what} (${why})`, { cause: e });
}

const EXTERNAL_KEYS = new Set(['location', 'offset', 'length', 'checksum', 'basepath']);

/** Reads external tensors for one model, checking every location, offset and length. */
function externalResolver(file: string, baseDir: string | undefined): ExternalResolver {
  const files = new Map<string, Uint8Array>();
  return (t: TensorProto) => {
    const fail = (problem: string) => badModel(file, `tensor "${t.name}": ${problem}`);
    const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    for (const k of kv.keys()) if (!EXTERNAL_KEYS.has(k)) throw fail(`unknown external_data key '${k}'`);
    const location = kv.get('location');
    if (!location) throw fail('external data without a location');
    if (t.dataType === DataType.STRING) throw fail('string tensors cannot be stored externally');
    if (!baseDir) throw fail(`its data is in external file '${location}', but the model was given as bytes without a baseDir`);
    const path = checkedLocation(location, baseDir, fail);
    const offset = parseIntField(kv.get('offset') ?? '0', 'offset', fail);
    const count = elementCount(t.dims);
    const need = rawByteLength(t.dataType, count);
    const length = kv.has('length') ? parseIntField(kv.get('length')!, 'length', fail) : undefined;
    if (length !== undefined && length !== need)
      throw fail(`external length ${length} disagrees with ${dtypeName(t.dataType)}[${t.dims.join(',')}] (${need} bytes)`);
    let data = files.get(path);
    if (!data) {
      try {
        data = readWhole(path);
      } catch (e) {
        const err = fail(`cannot read external data '${location}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        throw new LitheError('E_IO', err.message, { cause: e });
      }
      files.set(path, data);
    }
    if (offset + need > data.length)
      throw fail(`external data '${location}' has ${data.length} bytes; offset ${offset} + ${need} runs past its end`);
    return new Uint8Array(data.buffer, data.byteOffset + offset, need);
  };
}

/**
 * A whole file in one buffer. readFileSync refuses files past 2 GiB, and external data exists for
 * models past protobuf's 2 GiB limit, so read in slices (up to Node's Buffer limit, 4 GiB).
 */
function readWhole(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > bufferConstants.MAX_LENGTH) throw new Error(`${size} bytes, past the ${bufferConstants.MAX_LENGTH} bytes one buffer can hold`);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, Math.min(size - at, 1 << 30), at);
      if (n === 0) throw new Error(`file shrank while being read (${at} of ${size} bytes)`);
      at += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function parseIntField(s: string, what: string, fail: (p: string) => Error): number {
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw fail(`external ${what} '${s}' is not a non-negative integer`);
  return Number(s);
}

/** The absolute path of `location`, which must stay inside `baseDir` (symlinks resolved). */
function checkedLocation(location: string, baseDir: string, fail: (p: string) => Error): string {
  if (isAbsolute(location) || win32.isAbsolute(location) || location.includes('\0'))
    throw fail(`external data location '${location}' is absolute; it must be relative to the model's folder`);
  const base = resolve(baseDir);
  const path = resolve(base, location);
  const inside = (root: string, p: string) => {
    const rel = relative(root, p);
    return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
  };
  if (!inside(base, path)) throw fail(`external data location '${location}' leaves the model's folder`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    // A missing file is an I/O problem (E_IO, like a missing model), not a corrupt model.
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    const err = fail(missing ? `external data file '${location}' not found beside the model` : `cannot resolve external data '${location}' (${(e as NodeJS.ErrnoException).code})`);
    throw new LitheError('E_IO', err.message, { cause: e });
  }
  if (!inside(realpathSync(base), real)) throw fail(`external data location '${location}' leaves the model's folder through a symlink`);
  return real;
}

// ---- saving ----------------------------------------------------------------------------------

export interface ExternalDataOptions {
  /** Data file name, relative to the model's folder (a plain file name). */
  location: string;
  /** Tensors of at least this many bytes go to the data file. Default 1024. */
  sizeThreshold?: number;
}

export interface SaveOptions {
  /** Store large tensors in an external file; false (the default) embeds every tensor. */
  externalData?: ExternalDataOptions | false;
  /** Largest protobuf to write; tests lower it to reach the 2 GiB check without 2 GiB of data. */
  protobufLimit?: number;
}

/** An independent deep copy of a model: encoded and decoded again, so nothing is shared. */
export function cloneModel(model: Model): Model {
  return loadModel(serializeModel(model));
}

/** Encodes a model with every tensor embedded, as one buffer (for onnxruntime in memory). */
export function serializeModel(model: Model, { protobufLimit = PROTOBUF_LIMIT }: Pick<SaveOptions, 'protobufLimit'> = {}): Uint8Array {
  const { chunks, length } = encodeModel(modelToProto(model));
  if (length > protobufLimit) throw tooBig('model', length, protobufLimit);
  return concatChunks(chunks, length);
}

function tooBig(what: string, length: number, limit: number): LitheError {
  const size = limit === PROTOBUF_LIMIT ? `${(length / 2 ** 30).toFixed(2)} GiB, past protobuf's 2 GiB limit` : `${length} bytes, past the limit of ${limit}`;
  return new LitheError('E_USAGE', `${what} is ${size}; store its tensors as external data (lithe convert --external-data FILE)`);
}

const ALIGN = 4096;
const ALIGN_FROM = 1 << 20;

/** Saves a model atomically; with `externalData`, large tensors go to a data file beside it. */
export function saveModel(model: Model, path: string, opts: SaveOptions = {}): void {
  const ext = opts.externalData || undefined;
  const out = resolve(path);
  const dataPath = ext ? join(dirname(out), ext.location) : undefined;
  if (ext && (ext.location.includes('/') || ext.location.includes('\\') || ext.location === '' || ext.location === '..'))
    throw new LitheError('E_USAGE', `external data location must be a file name in the model's folder, got '${ext.location}'`);
  if (dataPath === out) throw new LitheError('E_USAGE', `external data file '${ext!.location}' would overwrite the model itself`);
  // A folder in the way would fail the rename only after the other file was replaced: check first.
  for (const f of dataPath ? [out, dataPath] : [out]) if (isFolder(f)) throw new LitheError('E_IO', `${f}: cannot write (is a folder)`);

  const pieces: Uint8Array[] = [];
  let dataLength = 0;
  let place: TensorPlacer | undefined;
  if (ext) {
    const threshold = ext.sizeThreshold ?? 1024;
    place = (t: Tensor) => {
      if (t.dtype === DataType.STRING || t.byteLength < threshold) return undefined;
      const bytes = t.bytes();
      if (bytes.length >= ALIGN_FROM && dataLength % ALIGN) {
        const pad = ALIGN - (dataLength % ALIGN);
        pieces.push(new Uint8Array(pad));
        dataLength += pad;
      }
      const offset = dataLength;
      pieces.push(bytes);
      dataLength += bytes.length;
      return {
        dataLocation: 1,
        externalData: [
          { key: 'location', value: ext.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ],
      };
    };
  }
  const { chunks, length } = encodeModel(modelToProto(model, place));
  const limit = opts.protobufLimit ?? PROTOBUF_LIMIT;
  if (length > limit) throw tooBig(`model "${path}"`, length, limit);
  // Both files go to temporaries first and are renamed only once both are complete, so that a
  // failure never leaves a new data file beside an old model (or a model without its data).
  const files: [string, readonly Uint8Array[]][] = dataPath ? [[dataPath, pieces], [out, chunks]] : [[out, chunks]];
  const temps: string[] = [];
  try {
    for (const [file, content] of files) temps.push(writeTemporary(file, content));
    files.forEach(([file], i) => renameOver(temps[i]!, file));
  } finally {
    for (const tmp of temps) rmSync(tmp, { force: true });
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes chunks to `<path>.<pid>.tmp` and syncs it to disk; returns the temporary's path. */
function writeTemporary(path: string, chunks: readonly Uint8Array[]): string {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (const c of chunks) {
      let at = 0;
      while (at < c.length) at += writeSync(fd, c, at, c.length - at);
    }
    fsyncSync(fd);
    return tmp;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw ioError(path, 'cannot write', e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function renameOver(tmp: string, path: string): void {
  try {
    renameSync(tmp, path);
  } catch (e) {
    throw ioError(path, 'cannot write', e);
  }
}
