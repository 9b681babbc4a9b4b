/**
 * Hostile and broken model files. Each must fail with a LitheError (E_BAD_MODEL, or E_IO for a
 * file that cannot be read), one line naming the file and the problem, and must be rejected
 * before anything sized by the file's claims is allocated. The cases run through loadModel and
 * through `lithe inspect`, for its exit code and the absence of a stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../data/rng.js';
import { captureIO, main } from '../cli/main.js';
import { EXIT_CODES, LitheError, type ErrorCode } from '../errors.js';
import { encodeModelBytes } from './encode.js';
import { loadModel } from './io.js';
import { DataType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto.js';
import { everythingModel } from './sample-proto.js';
import { Writer, concatChunks } from './wire.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-hostile-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const graph = (g: Partial<GraphProto>): GraphProto => ({
  node: [], name: 'g', initializer: [], sparseInitializer: [], input: [], output: [], valueInfo: [], quantizationAnnotation: [], ...g,
});
const model = (g: Partial<GraphProto>): ModelProto => ({ irVersion: 9, opsetImport: [{ domain: '', version: 17 }], metadataProps: [], functions: [], graph: graph(g) });
const withTensor = (t: Partial<TensorProto>) => encodeModelBytes(model({ initializer: [{ name: 'w', dataType: DataType.FLOAT, dims: [2], ...t }] }));
/** A model whose tensor "w" lives in external data. */
const external = (kv: Record<string, string>, dims = [4]) =>
  withTensor({ dims, dataLocation: 1, externalData: Object.entries(kv).map(([key, value]) => ({ key, value })) });
/** Hand-written wire bytes: `body` writes the fields of a ModelProto. */
function wire(body: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  body(w);
  return concatChunks(w.finish(), w.length);
}
const cat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => [...Array.from(p)]));

function nestedGraphs(depth: number): GraphProto {
  let g = graph({ name: 'leaf' });
  for (let i = 0; i < depth; i++) {
    const n: NodeProto = { input: ['c'], output: ['y'], opType: 'If', attribute: [{ name: 'then_branch', type: 5, g }] };
    g = graph({ name: `level${i}`, node: [n] });
  }
  return g;
}
/** A ValueInfoProto whose type is a sequence of a sequence of … `depth` deep, written inside out. */
function nestedTypes(depth: number): Uint8Array {
  const len = (field: number, payload: Uint8Array) => wire((w) => w.bytesField(field, payload));
  let type = len(1, cat([0x08, 0x01])); // TypeProto{tensor_type{elem_type FLOAT}}
  for (let i = 0; i < depth; i++) type = len(4, len(1, type)); // TypeProto{sequence_type{elem_type …}}
  return len(2, type);
}

interface Case {
  name: string;
  /** The model file's bytes; `setup` may add files beside it. */
  bytes: () => Uint8Array;
  setup?: (folder: string) => void;
  code?: ErrorCode;
  message: RegExp;
}

const valid = encodeModelBytes(everythingModel());
const F = (x: number) => new Uint8Array(new Float32Array(x).buffer);

const CASES: Case[] = [
  { name: 'empty file', bytes: () => new Uint8Array(0), message: /empty file/ },
  { name: 'truncated file', bytes: () => valid.subarray(0, Math.floor(valid.length * 0.6)), message: /runs past the end|truncated/ },
  { name: 'random bytes', bytes: () => Uint8Array.from({ length: 4096 }, (_, i) => new Rng(i + 7).int(256)), message: /wire type|field number 0|runs past|truncated|not an ONNX model|varint|UTF-8|expected/ },
  { name: 'a text file', bytes: () => new TextEncoder().encode('hello, this is not a model\n'), message: /wire type|field number|past the end|not an ONNX model/ },
  { name: 'wrong wire type (graph as a varint)', bytes: () => wire((w) => (w.int64Field(1, 8), w.int64Field(7, 1))), message: /field 7 has wire type 0, expected 2 \(in ModelProto/ },
  { name: 'wrong wire type (dims as fixed32)', bytes: () => wire((w) => (w.int64Field(1, 8), w.message(7, () => w.message(5, () => w.floatField(1, 2))))), message: /field 1 has wire type 5, expected 2 \(in TensorProto/ },
  { name: 'varint longer than 10 bytes', bytes: () => cat([0x08], new Array(11).fill(0x80), [0x01]), message: /varint longer than 10 bytes|overflows 64 bits/ },
  { name: 'varint past 64 bits', bytes: () => cat([0x08], new Array(9).fill(0xff), [0x7f]), message: /overflows 64 bits/ },
  { name: 'length prefix past the end', bytes: () => cat([0x08, 0x08, 0x3a, 0xff, 0xff, 0x03], [0x12, 0x01, 0x61]), message: /length 65535 runs past the end \(3 bytes left\)/ },
  { name: 'int64 beyond 2^53', bytes: () => wire((w) => w.int64Field(1, 2 ** 60)), message: /ir_version value ≥ 2\^53 is not a safe integer/ },
  { name: 'negative dim', bytes: () => withTensor({ dims: [-1, 2], rawData: new Uint8Array(8) }), message: /tensor "w": negative dim in shape \[-1,2\]/ },
  { name: 'absurd dims (> 2^53 elements)', bytes: () => withTensor({ dims: [2 ** 31, 2 ** 31, 2 ** 31], rawData: new Uint8Array(4) }), message: /shape \[2147483648,2147483648,2147483648\] has more than 2\^53 elements/ },
  { name: 'huge dims, tiny file (raw_data)', bytes: () => withTensor({ dims: [2 ** 28], rawData: F(1) }), message: /tensor "w": float\[268435456\] needs 1073741824 bytes, raw_data has 4/ },
  { name: 'huge dims, tiny file (no payload)', bytes: () => withTensor({ dims: [2 ** 28] }), message: /needs 268435456 values in float_data, found 0/ },
  { name: 'raw_data length disagrees with shape', bytes: () => withTensor({ dims: [3], rawData: F(2) }), message: /float\[3\] needs 12 bytes, raw_data has 8/ },
  { name: 'typed-field count mismatch', bytes: () => withTensor({ dims: [2, 2], floatData: [1, 2, 3] }), message: /float\[2,2\] needs 4 values in float_data, found 3/ },
  { name: 'typed field of the wrong type', bytes: () => withTensor({ dims: [2], int64Data: [1n, 2n] }), message: /int64_data given for a float tensor/ },
  { name: 'both raw_data and a typed field', bytes: () => withTensor({ dims: [1], rawData: F(1), floatData: [1] }), message: /has both raw_data and float_data/ },
  { name: 'unknown data type', bytes: () => withTensor({ dataType: 99 as DataType, dims: [1], int32Data: [1] }), message: /unknown data type 99/ },
  { name: 'raw_data for strings', bytes: () => withTensor({ dataType: DataType.STRING, dims: [1], rawData: F(1) }), message: /raw_data for data type string/ },
  { name: 'graphs nested too deep', bytes: () => encodeModelBytes(model(nestedGraphs(100))), message: /graphs nested more than 64 deep/ },
  { name: 'messages nested too deep (stack)', bytes: () => wire((w) => (w.int64Field(1, 8), w.bytesField(7, wire((g) => g.bytesField(13, nestedTypes(5000)))))), message: /messages nested more than 400 deep/ },
  { name: 'invalid UTF-8 in a name', bytes: () => wire((w) => (w.int64Field(1, 8), w.message(7, () => w.bytesField(2, cat([0xc3, 0x28]))))), message: /field 2 is not valid UTF-8 \(in GraphProto/ },
  // External data.
  { name: 'external: absolute location', bytes: () => external({ location: '/etc/passwd' }), message: /external data location '\/etc\/passwd' is absolute/ },
  { name: 'external: Windows absolute location', bytes: () => external({ location: 'C:\\Windows\\win.ini' }), message: /is absolute/ },
  { name: 'external: climbs out with ../', bytes: () => external({ location: '../secret.bin' }), message: /external data location '..\/secret.bin' leaves the model's folder/ },
  { name: 'external: climbs out midway', bytes: () => external({ location: 'sub/../../secret.bin' }), message: /leaves the model's folder/ },
  {
    name: 'external: escapes through a symlink',
    bytes: () => external({ location: 'link/secret.bin' }),
    setup: (folder) => {
      mkdirSync(join(dir, 'outside'), { recursive: true });
      writeFileSync(join(dir, 'outside', 'secret.bin'), new Uint8Array(16));
      symlinkSync(join(dir, 'outside'), join(folder, 'link'));
    },
    message: /'link\/secret.bin' leaves the model's folder through a symlink/,
  },
  { name: 'external: offset + length past the end', bytes: () => external({ location: 'w.bin', offset: '8', length: '16' }), setup: (f) => writeFileSync(join(f, 'w.bin'), new Uint8Array(20)), message: /'w.bin' has 20 bytes; offset 8 \+ 16 runs past its end/ },
  { name: 'external: huge dims, tiny data file', bytes: () => external({ location: 'w.bin' }, [2 ** 28]), setup: (f) => writeFileSync(join(f, 'w.bin'), new Uint8Array(16)), message: /'w.bin' has 16 bytes; offset 0 \+ 1073741824 runs past its end/ },
  { name: 'external: length disagrees with shape', bytes: () => external({ location: 'w.bin', length: '12' }), setup: (f) => writeFileSync(join(f, 'w.bin'), new Uint8Array(16)), message: /external length 12 disagrees with float\[4\] \(16 bytes\)/ },
  { name: 'external: offset not a number', bytes: () => external({ location: 'w.bin', offset: '-4' }), setup: (f) => writeFileSync(join(f, 'w.bin'), new Uint8Array(16)), message: /external offset '-4' is not a non-negative integer/ },
  { name: 'external: missing data file', bytes: () => external({ location: 'gone.bin' }), code: 'E_IO', message: /external data file 'gone.bin' not found beside the model/ },
  { name: 'external: no location', bytes: () => external({ offset: '0' }), message: /external data without a location/ },
];

/** Writes each case's file into its own folder; returns the path. */
function materialize(c: Case, i: number): string {
  const folder = join(dir, `case${i}`);
  mkdirSync(folder, { recursive: true });
  c.setup?.(folder);
  const file = join(folder, 'model.onnx');
  writeFileSync(file, c.bytes());
  return file;
}

const report: string[] = [];

for (const [i, c] of CASES.entries()) {
  test(`hostile: ${c.name}`, () => {
    const file = materialize(c, i);
    const before = process.memoryUsage().arrayBuffers;
    let error: unknown;
    try {
      loadModel(file);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof LitheError, `${c.name}: expected a LitheError, got ${error instanceof Error ? error.stack : error}`);
    assert.equal(error.code, c.code ?? 'E_BAD_MODEL', error.message);
    assert.match(error.message, c.message);
    assert.ok(error.message.startsWith(`${file}: `), `names the file: ${error.message}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    // Nothing sized by the file's claims was allocated (the claims here reach 1 GiB and beyond).
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, 'allocated past what the file holds');
    report.push(`${c.name.padEnd(40)} ${error.code}  ${error.message.slice(file.length + 2)}`);
  });
}

test('random garbage never escapes as anything but E_BAD_MODEL', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: 3 + rng.int(200) }, () => rng.int(256));
    // Half the inputs start like a model (ir_version then a graph tag) so that parsing goes deeper.
    if (i % 2) bytes.set([0x08, 0x08, 0x3a], 0);
    try {
      loadModel(bytes, { name: 'garbage' });
    } catch (e) {
      if (e instanceof LitheError && e.code === 'E_BAD_MODEL') continue;
      throw new Error(`input ${i} [${[...bytes].join(',')}]: ${e instanceof Error ? e.stack : e}`);
    }
  }
});

test('every prefix of a valid model is rejected cleanly or decodes', () => {
  // Cutting a message anywhere must give E_BAD_MODEL (or, at a field boundary, a smaller model).
  for (let n = 1; n < valid.length; n += 7) {
    try {
      loadModel(valid.subarray(0, n), { name: 'cut' });
    } catch (e) {
      assert.ok(e instanceof LitheError && e.code === 'E_BAD_MODEL', `cut at ${n}: ${e instanceof Error ? e.stack : e}`);
    }
  }
});

test('missing model file and a folder are E_IO', () => {
  const missing = join(dir, 'nope.onnx');
  assert.throws(() => loadModel(missing), (e: unknown) => e instanceof LitheError && e.code === 'E_IO' && e.message === `${missing}: cannot read (no such file)`);
  assert.throws(() => loadModel(dir), (e: unknown) => e instanceof LitheError && e.code === 'E_IO' && /is a folder/.test(e.message));
});

test('through the CLI: lithe inspect exits with the documented code and prints no stack', async () => {
  for (const [i, c] of CASES.entries()) {
    const file = join(dir, `case${i}`, 'model.onnx');
    const io = captureIO();
    const code = await main(['inspect', file], io);
    const [out, err] = [io.stdout, io.stderr];
    assert.equal(code, EXIT_CODES[c.code ?? 'E_BAD_MODEL'], `${c.name}: exit code (stderr: ${err.join(' | ')})`);
    assert.equal(err.length, 1, `${c.name}: one line on stderr`);
    assert.ok(err[0]!.startsWith(`lithe: ${file}: `) && !/\n|\bat .*:\d+:\d+/.test(err[0]!), `${c.name}: ${err[0]}`);
    assert.deepEqual(out, []);
  }
});

test.after(() => console.log(`hostile cases and their messages:\n${report.join('\n')}`));
