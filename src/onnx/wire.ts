/**
 * Protobuf wire format, by hand, for untrusted input and multi-GB payloads.
 *
 *   tag      varint (field << 3 | wireType); wire types 0 varint, 1 fixed64, 2 length-delimited,
 *            5 fixed32 (3/4, groups, are rejected: onnx.proto has none)
 *   varint   7 bits per byte, little-endian groups, high bit = "more"; at most 10 bytes for 64
 *            bits. Negative int32/int64 are sign-extended to 64 bits (10 bytes).
 *   packed   a repeated scalar may arrive as one length-delimited run or as one tag per element;
 *            readers accept both.
 *
 * Reader: every read checks the current message's end, so a length prefix can never make us
 * read (or allocate) past the bytes present. Bytes fields come back as subarray views.
 *
 * Writer: records small fields in scratch blocks and keeps large byte payloads as references,
 * with a placeholder for each nested message's length that is filled in when the message closes
 * (protobufjs' fork/ldelim). Every length is thus known before any output byte is produced, and
 * the output is a list of chunks (headers + the tensors' own views): a 1.9 GB model is written
 * without a second copy of its weights.
 */
import { badModel } from '../errors.js';

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

const TWO32 = 4294967296;
/** Bound on message nesting, so hostile input cannot exhaust the stack (a graph level is 3). */
export const MAX_DEPTH = 400;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

export class Reader {
  readonly buf: Uint8Array;
  readonly file: string;
  pos = 0;
  /** End of the message being read. */
  end: number;
  /** Name of the message being read, for errors. */
  msg = 'ModelProto';
  depth = 0;
  /** Graphs (GraphProto) currently open, bounded separately by decode.ts. */
  graphDepth = 0;
  private readonly dv: DataView;

  constructor(buf: Uint8Array, file: string) {
    this.buf = buf;
    this.file = file;
    this.end = buf.length;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(problem: string): never {
    throw badModel(this.file, `${problem} (in ${this.msg} at byte ${this.pos})`);
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads a tag; returns field number and wire type. */
  tag(): { field: number; wt: number } {
    const t = this.varint32();
    const field = t >>> 3;
    const wt = t & 7;
    if (field === 0) this.fail('field number 0 is invalid (not a protobuf message?)');
    if (wt === 3 || wt === 4 || wt > 5) this.fail(`unsupported wire type ${wt} for field ${field}`);
    return { field, wt };
  }

  expect(wt: number, want: number, field: number): void {
    if (wt !== want) this.fail(`field ${field} has wire type ${wt}, expected ${want}`);
  }

  /** Low and high 32 bits (unsigned) of a varint of up to 10 bytes. */
  private varint64(): [number, number] {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const x = b[this.pos++]!;
      if (shift < 28) lo |= (x & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (x & 0x0f) << 28;
        hi = (x & 0x7f) >>> 4;
      } else if (shift < 63) hi |= (x & 0x7f) << (shift - 32);
      else if (x & 0x80) this.fail('varint longer than 10 bytes');
      else if (x > 1) this.fail('varint overflows 64 bits');
      else hi |= x << 31;
      if (x < 0x80) return [lo >>> 0, hi >>> 0];
    }
    return this.fail('unreachable: the 10th byte ends every varint');
  }

  /** A varint's low 32 bits, unsigned (tags, lengths checked elsewhere, enums). */
  varint32(): number {
    if (this.pos < this.end) {
      const x = this.buf[this.pos]!;
      if (x < 0x80) {
        this.pos++;
        return x;
      }
    }
    return this.varint64()[0];
  }

  /** A varint as a signed int32 (protobuf int32 and enums: low 32 bits, two's complement). */
  int32(): number {
    return this.varint32() | 0;
  }

  /** A signed int64 that must be a safe JS integer; `what` names the field for the error. */
  int64(what: string): number {
    if (this.pos < this.end && this.buf[this.pos]! < 0x80) return this.buf[this.pos++]!;
    const [lo, hi] = this.varint64();
    let v: number;
    if (hi & 0x80000000) v = -((~hi >>> 0) * TWO32 + (~lo >>> 0) + 1);
    else v = hi * TWO32 + lo;
    if (!Number.isSafeInteger(v)) this.fail(`${what} value ${v > 0 ? '≥ 2^53' : '≤ -2^53'} is not a safe integer`);
    return v;
  }

  bigInt64(): bigint {
    const [lo, hi] = this.varint64();
    if (hi === 0) return BigInt(lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }
  bigUint64(): bigint {
    const [lo, hi] = this.varint64();
    if (hi === 0) return BigInt(lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  float(): number {
    this.need(4);
    const v = this.dv.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  double(): number {
    this.need(8);
    const v = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) this.fail(`truncated: needs ${n} bytes, ${this.end - this.pos} left`);
  }

  /** A length prefix, checked against the bytes left in the current message. */
  length(): number {
    const [lo, hi] = this.varint64();
    const n = hi * TWO32 + lo;
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end (${this.end - this.pos} bytes left)`);
    return n;
  }

  /** A length-delimited field as a view into the input (no copy). */
  bytes(wt: number, field: number): Uint8Array {
    this.expect(wt, WT_LEN, field);
    const n = this.length();
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(wt: number, field: number): string {
    const v = this.bytes(wt, field);
    if (v.length < 64) {
      let ascii = true;
      for (let i = 0; i < v.length; i++) if (v[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode(...v);
    }
    try {
      return utf8.decode(v);
    } catch {
      return this.fail(`field ${field} is not valid UTF-8`);
    }
  }

  /** Enters a nested message; returns the state to pass to `leave`. */
  enter(wt: number, field: number, msg: string): { end: number; msg: string } {
    this.expect(wt, WT_LEN, field);
    const n = this.length();
    if (++this.depth > MAX_DEPTH) this.fail(`messages nested more than ${MAX_DEPTH} deep`);
    const saved = { end: this.end, msg: this.msg };
    this.end = this.pos + n;
    this.msg = msg;
    return saved;
  }
  leave(saved: { end: number; msg: string }): void {
    this.depth--;
    this.end = saved.end;
    this.msg = saved.msg;
  }

  /** Skips a field whose tag started at `start`; returns its encoded bytes (tag included). */
  skip(wt: number, start: number): Uint8Array {
    if (wt === WT_VARINT) this.varint64();
    else if (wt === WT_I64) this.need(8), (this.pos += 8);
    else if (wt === WT_I32) this.need(4), (this.pos += 4);
    else if (wt === WT_LEN) {
      const n = this.length(); // read before pos: `pos += length()` would add to the old pos
      this.pos += n;
    }
    return this.buf.subarray(start, this.pos);
  }

  // Repeated scalars: packed (one LEN run) or unpacked (one value per tag).
  floats(wt: number, field: number, out: number[]): void {
    if (wt === WT_I32) return void out.push(this.float());
    const n = this.packed(wt, field, 4);
    for (let i = 0; i < n; i++) out.push(this.float());
  }
  doubles(wt: number, field: number, out: number[]): void {
    if (wt === WT_I64) return void out.push(this.double());
    const n = this.packed(wt, field, 8);
    for (let i = 0; i < n; i++) out.push(this.double());
  }
  private packed(wt: number, field: number, size: number): number {
    this.expect(wt, WT_LEN, field);
    const len = this.length();
    if (len % size) this.fail(`packed field ${field} has ${len} bytes, not a multiple of ${size}`);
    return len / size;
  }
  varints<T>(wt: number, field: number, out: T[], read: () => T): void {
    if (wt === WT_VARINT) return void out.push(read());
    this.expect(wt, WT_LEN, field);
    const n = this.length();
    const stop = this.pos + n;
    const outer = this.end;
    this.end = stop; // a varint may not straddle the run's end
    while (this.pos < stop) out.push(read());
    this.end = outer;
  }
}

// ---- writer --------------------------------------------------------------------------------

/** Payloads of at least this many bytes are referenced, not copied. */
const BIG = 4096;
const BLOCK = 64 * 1024;

export function varintSize(n: number): number {
  let s = 1;
  while (n >= 128) (n = Math.floor(n / 128)), s++;
  return s;
}

export class Writer {
  /** Scratch segments, referenced payloads, and message lengths (numbers) to emit as varints. */
  private readonly parts: (Uint8Array | number)[] = [];
  private buf = new Uint8Array(BLOCK);
  private dv = new DataView(this.buf.buffer);
  private start = 0;
  private pos = 0;
  /** Bytes produced so far, nested lengths included. */
  private len = 0;
  private readonly stack: { index: number; len: number }[] = [];

  private flush(): void {
    if (this.pos > this.start) this.parts.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = new Uint8Array(Math.max(BLOCK, n));
    this.dv = new DataView(this.buf.buffer);
    this.start = this.pos = 0;
  }

  /** Unsigned varint of a safe non-negative integer. */
  uvarint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    const p0 = this.pos;
    while (n >= 128) {
      b[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
    this.len += this.pos - p0;
  }
  /** int32/int64 of any sign (negatives as 10-byte two's complement). */
  int64(n: number): void {
    if (n >= 0) return this.uvarint(n);
    this.bigVarint(BigInt.asUintN(64, BigInt(n)));
  }
  bigVarint(v: bigint): void {
    this.ensure(10);
    const p0 = this.pos;
    v = BigInt.asUintN(64, v);
    while (v >= 128n) {
      this.buf[this.pos++] = Number(v & 127n) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    this.len += this.pos - p0;
  }
  tag(field: number, wt: number): void {
    this.uvarint(field * 8 + wt);
  }
  float(x: number): void {
    this.ensure(4);
    this.dv.setFloat32(this.pos, x, true);
    this.pos += 4;
    this.len += 4;
  }
  double(x: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, x, true);
    this.pos += 8;
    this.len += 8;
  }
  /** Raw bytes: copied when small, referenced when large. */
  raw(v: Uint8Array): void {
    if (v.length >= BIG) {
      this.flush();
      this.parts.push(v);
      this.len += v.length;
      return;
    }
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    this.len += v.length;
  }

  // ---- fields ----
  bytesField(field: number, v: Uint8Array): void {
    this.tag(field, WT_LEN);
    this.uvarint(v.length);
    this.raw(v);
  }
  stringField(field: number, s: string): void {
    this.bytesField(field, utf8enc.encode(s));
  }
  int64Field(field: number, n: number): void {
    this.tag(field, WT_VARINT);
    this.int64(n);
  }
  floatField(field: number, x: number): void {
    this.tag(field, WT_I32);
    this.float(x);
  }
  /** A nested message: `body` writes its fields; its length is filled in afterwards. */
  message(field: number, body: () => void): void {
    this.tag(field, WT_LEN);
    this.flush();
    this.stack.push({ index: this.parts.length, len: this.len });
    this.parts.push(0);
    body();
    const s = this.stack.pop()!;
    const n = this.len - s.len;
    this.parts[s.index] = n;
    this.len += varintSize(n);
  }
  packedFloats(field: number, a: readonly number[]): void {
    this.tag(field, WT_LEN);
    this.uvarint(a.length * 4);
    for (const x of a) this.float(x);
  }
  packedDoubles(field: number, a: readonly number[]): void {
    this.tag(field, WT_LEN);
    this.uvarint(a.length * 8);
    for (const x of a) this.double(x);
  }
  packedInt64(field: number, a: readonly number[]): void {
    let n = 0;
    for (const x of a) n += x >= 0 ? varintSize(x) : 10;
    this.tag(field, WT_LEN);
    this.uvarint(n);
    for (const x of a) this.int64(x);
  }
  packedBig(field: number, a: readonly bigint[]): void {
    let n = 0;
    for (const x of a) {
      let v = BigInt.asUintN(64, x);
      let s = 1;
      while (v >= 128n) (v >>= 7n), s++;
      n += s;
    }
    this.tag(field, WT_LEN);
    this.uvarint(n);
    for (const x of a) this.bigVarint(x);
  }

  get length(): number {
    return this.len;
  }

  /**
   * The encoded message as chunks: runs of small fields coalesced into blocks, large payloads as
   * the caller's own views.
   */
  finish(): Uint8Array[] {
    this.flush();
    if (this.stack.length) throw new Error('Writer.finish inside an open message');
    const out: Uint8Array[] = [];
    let block = new Uint8Array(0);
    let at = 0;
    const put = (v: Uint8Array) => {
      if (at + v.length > block.length) {
        if (at) out.push(block.subarray(0, at));
        block = new Uint8Array(Math.max(1 << 20, v.length));
        at = 0;
      }
      block.set(v, at);
      at += v.length;
    };
    const tmp = new Uint8Array(10);
    for (const p of this.parts) {
      if (typeof p === 'number') {
        let n = p;
        let k = 0;
        while (n >= 128) (tmp[k++] = (n % 128) | 0x80), (n = Math.floor(n / 128));
        tmp[k++] = n;
        put(tmp.subarray(0, k));
      } else if (p.length >= BIG) {
        if (at) out.push(block.subarray(0, at));
        block = new Uint8Array(0);
        at = 0;
        out.push(p);
      } else put(p);
    }
    if (at) out.push(block.subarray(0, at));
    return out;
  }
}

/** Concatenates chunks into one buffer (for handing a model to onnxruntime in memory). */
export function concatChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) out.set(c, at), (at += c.length);
  return out;
}
