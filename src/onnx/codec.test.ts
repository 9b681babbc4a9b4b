/**
 * Fidelity of the codec and of the IR round trip, on protos built in code (sample-proto.ts):
 *   decode(encode(p)) deep-equals p                                    (codec is lossless)
 *   decode(serialize(load(encode(p)))) equals p up to value_info order (IR is lossless)
 * What legitimately changes through the IR, and why:
 *   - value_info order: saving rebuilds it from the Values (see sortValueInfo in testing.ts);
 *   - external tensors come back embedded as raw_data unless saved with externalData (io.ts
 *     decides placement anew on every save; external.test.ts covers it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../data/rng.js';
import { GraphBuilder } from '../graph/builder.js';
import type { Model } from '../graph/ir.js';
import { createSession } from '../runtime/session.js';
import { float32 } from '../runtime/tensors.js';
import { decodeModel } from './decode.js';
import { encodeModelBytes } from './encode.js';
import { loadModel, serializeModel } from './io.js';
import { AttributeType, DataType, type AttributeProto, type GraphProto, type ModelProto, type TensorProto } from './proto.js';
import { everyDtypeTensors, everythingModel } from './sample-proto.js';
import { outputDifference, sortValueInfo } from './testing.js';
import { Writer, concatChunks } from './wire.js';

test('decode(encode(p)) deep-equals p for a model using every part of onnx.proto', () => {
  const p = everythingModel();
  const bytes = encodeModelBytes(p);
  assert.deepStrictEqual(decodeModel(bytes), p);
  // And encoding is deterministic: a second pass gives the same bytes.
  assert.deepStrictEqual(encodeModelBytes(decodeModel(bytes)), bytes);
});

test('load → save through the IR keeps everything (up to value_info order)', () => {
  const p = everythingModel();
  const saved = serializeModel(loadModel(encodeModelBytes(p)));
  assert.deepStrictEqual(sortValueInfo(decodeModel(saved)), sortValueInfo(p));
});

test('every dtype keeps its storage (raw_data or typed field) and its bits', () => {
  const model = loadModel(encodeModelBytes(everythingModel()));
  const byName = new Map(everyDtypeTensors().map((t) => [t.name, t]));
  for (const [name, v] of model.graph.initializers) {
    const want = byName.get(name);
    if (!want) continue;
    const t = v.initializer!;
    assert.equal(t.dtype, want.dataType, name);
    assert.equal(t.isRaw, want.rawData !== undefined, `${name}: stays ${want.rawData ? 'raw' : 'typed'}`);
    if (want.rawData) assert.deepEqual(t.bytes(), want.rawData, `${name}: raw bits`);
  }
  // Typed fields convert to the raw layout onnx.proto defines.
  const bytesOf = (name: string) => [...model.graph.initializers.get(name)!.initializer!.bytes()];
  assert.deepEqual(bytesOf('f16_typed'), [0x00, 0x3c, 0x00, 0x7e, 0x00, 0xfc]);
  assert.deepEqual(bytesOf('u4_typed'), [0x21, 0x03]);
  assert.deepEqual(bytesOf('i8_typed'), [0x80, 0x00, 0x7f]);
  assert.deepEqual(bytesOf('u32_typed'), [0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(bytesOf('i64_typed').slice(0, 8), [0, 0, 0, 0, 0, 0, 0, 0x80]);
});

test('subgraphs resolve outer-scope names to the outer Value and record the use there', () => {
  const model = loadModel(encodeModelBytes(everythingModel()));
  const g = model.graph;
  const r = g.nodes.find((n) => n.name === 'relu')!.output(0);
  const x = g.inputs.find((v) => v.name === 'x')!;
  const usersOf = (v: typeof r) => v.uses().map((u) => `${u.node.graph?.name}/${u.node.name || u.node.opType}`).sort();
  // 'r' is read by the If's then-branch, the Loop body, and the bodies of the Custom node's attributes.
  assert.ok(usersOf(r).includes('body_then_out/add_then_out'), usersOf(r).join());
  assert.ok(usersOf(r).includes('loop_body/Add'), usersOf(r).join());
  assert.ok(usersOf(r).some((u) => u.startsWith('body_attr_body_')), usersOf(r).join());
  assert.deepEqual(usersOf(x), ['body_else_out/add_else_out', 'main/relu']);
  // Inner initializers shadow nothing and stay inner.
  const ifNode = g.nodes.find((n) => n.name === 'if')!;
  const then = ifNode.attr('then_branch')!.g!;
  assert.equal(then.parentGraph(), g);
  assert.ok(then.initializers.has('then_out_one') && !g.initializers.has('then_out_one'));
  // Renaming an outer value renames it inside the bodies too (one Value, many uses).
  r.name = 'relu_out';
  const saved = decodeModel(serializeModel(model));
  const thenBody = saved.graph!.node.find((n) => n.name === 'if')!.attribute[0]!.g!;
  assert.deepEqual(thenBody.node[0]!.input, ['relu_out', 'then_out_one']);
});

test('unknown fields at every level are re-emitted, known fields keep their values', () => {
  const p = everythingModel();
  const decoded = decodeModel(encodeModelBytes(p));
  assert.equal(decoded.unknown?.length, 4);
  assert.equal(decoded.graph!.unknown?.length, 4);
  assert.equal(decoded.graph!.node[0]!.unknown?.length, 4);
  assert.equal(decoded.graph!.initializer[0]!.unknown?.length, 4);
  assert.equal(decoded.graph!.input[0]!.unknown?.length, 4);
  assert.equal(decoded.functions[0]!.unknown?.length, 4);
  // An unknown field's bytes come back verbatim (tag included), whatever its wire type.
  assert.deepEqual(decoded.unknown, p.unknown);
});

test('repeated scalars are read both packed and unpacked', () => {
  // TensorProto{dims: 2, 3 (one tag each), data_type FLOAT, float_data unpacked ×6, name "u"}
  const w = new Writer();
  w.message(7, () => {
    w.message(5, () => {
      for (const d of [2, 3]) w.int64Field(1, d);
      w.int64Field(2, DataType.FLOAT);
      for (let i = 0; i < 6; i++) w.floatField(4, i);
      w.stringField(8, 'u');
    });
    w.stringField(2, 'g');
  });
  w.int64Field(1, 8);
  const m = decodeModel(concatChunks(w.finish(), w.length));
  assert.deepStrictEqual(m.graph!.initializer[0], { name: 'u', dataType: DataType.FLOAT, dims: [2, 3], floatData: [0, 1, 2, 3, 4, 5] });
});

test('an IR-v1 attribute without a type takes it from its value field; proto3 defaults are filled in', () => {
  const w = new Writer();
  w.message(7, () => {
    w.message(1, () => {
      w.stringField(4, 'Foo');
      w.message(5, () => (w.stringField(1, 'alpha'), w.floatField(2, 0.5))); // no type field
      w.message(5, () => (w.stringField(1, 'n'), w.int64Field(20, AttributeType.INT))); // i = 0 omitted
    });
  });
  w.int64Field(1, 3);
  const attrs = decodeModel(concatChunks(w.finish(), w.length)).graph!.node[0]!.attribute;
  assert.deepStrictEqual(attrs, [
    { name: 'alpha', type: AttributeType.FLOAT, f: 0.5 },
    { name: 'n', type: AttributeType.INT, i: 0 },
  ]);
});

// ---- property: random protos ----------------------------------------------------------------

const DTYPES = Object.values(DataType).filter((d): d is DataType => typeof d === 'number' && d !== DataType.UNDEFINED);
const BITS: Record<number, number> = { 1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 9: 8, 10: 16, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 24: 8, 21: 4, 22: 4, 23: 4 };

/** A random tensor of a random dtype, in raw_data or its typed field, with extreme values. */
function randomTensor(rng: Rng, name: string): TensorProto {
  const dataType = DTYPES[rng.int(DTYPES.length)]!;
  const dims = Array.from({ length: rng.int(3) }, () => rng.int(4));
  const n = dims.reduce((a, b) => a * b, 1);
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)]!;
  const t: TensorProto = { name, dataType, dims };
  const bits = BITS[dataType];
  if (rng.float() < 0.4 && dataType !== DataType.STRING) {
    const size = { 7: 8, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16 }[dataType as number] ?? 0;
    t.rawData = Uint8Array.from({ length: bits ? Math.ceil((n * bits) / 8) : n * size }, () => rng.int(256));
  } else if (dataType === DataType.FLOAT || dataType === DataType.COMPLEX64) {
    t.floatData = Array.from({ length: n * (dataType === DataType.FLOAT ? 1 : 2) }, () => Math.fround(pick([0, -0, NaN, Infinity, 1e-40, rng.float() * 1e6 - 5e5])));
  } else if (dataType === DataType.DOUBLE || dataType === DataType.COMPLEX128) {
    t.doubleData = Array.from({ length: n * (dataType === DataType.DOUBLE ? 1 : 2) }, () => pick([-0, NaN, -Infinity, 5e-324, Number.MAX_VALUE, rng.float()]));
  } else if (dataType === DataType.INT64) {
    t.int64Data = Array.from({ length: n }, () => pick([0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, BigInt(rng.int(1000) - 500)]));
  } else if (dataType === DataType.UINT64 || dataType === DataType.UINT32) {
    t.uint64Data = Array.from({ length: n }, () => pick([0n, 2n ** 32n - 1n, dataType === DataType.UINT64 ? 2n ** 64n - 1n : 7n]));
  } else if (dataType === DataType.STRING) {
    t.stringData = Array.from({ length: n }, () => Uint8Array.from({ length: rng.int(5) }, () => rng.int(256)));
  } else {
    const count = bits === 4 ? Math.ceil(n / 2) : n;
    t.int32Data = Array.from({ length: count }, () => pick([0, -1, -(2 ** 31), 2 ** 31 - 1, rng.int(256)]));
  }
  // Canonical form: an empty typed field is absent (a packed run of zero values is not written).
  for (const k of ['floatData', 'doubleData', 'int64Data', 'uint64Data', 'stringData', 'int32Data'] as const) if (t[k]?.length === 0) delete t[k];
  return t;
}

function randomAttribute(rng: Rng, name: string, depth: number): AttributeProto {
  const ints = () => Array.from({ length: rng.int(4) }, () => [0, -1, 2 ** 53 - 1, -(2 ** 53) + 1, 300][rng.int(5)]!);
  switch (rng.int(depth > 0 ? 7 : 6)) {
    case 0: return { name, type: AttributeType.INT, i: ints()[0] ?? 0 };
    case 1: return { name, type: AttributeType.INTS, ints: ints() };
    case 2: return { name, type: AttributeType.FLOATS, floats: [Math.fround(rng.float()), -0] };
    case 3: return { name, type: AttributeType.STRING, s: Uint8Array.from({ length: rng.int(6) }, () => rng.int(256)) };
    case 4: return { name, type: AttributeType.TENSOR, t: randomTensor(rng, `${name}_t`) };
    case 5: return { name, type: AttributeType.TENSORS, tensors: [randomTensor(rng, `${name}_t0`), randomTensor(rng, '')] };
    default: return { name, type: AttributeType.GRAPH, g: randomGraph(rng, `${name}_g`, depth - 1) };
  }
}

function randomGraph(rng: Rng, name: string, depth: number): GraphProto {
  const g: GraphProto = { node: [], name, initializer: [], sparseInitializer: [], input: [], output: [], valueInfo: [], quantizationAnnotation: [] };
  for (let i = rng.int(4); i > 0; i--) g.initializer.push(randomTensor(rng, `${name}_w${i}`));
  for (let i = rng.int(4); i > 0; i--)
    g.node.push({ input: [`${name}_w${i}`, ''], output: [`${name}_n${i}`], opType: 'Op', attribute: Array.from({ length: rng.int(3) }, (_, k) => randomAttribute(rng, `a${k}`, depth)) });
  return g;
}

test('property: decode(encode(p)) deep-equals p and load→save keeps p, for 300 random models', () => {
  const rng = new Rng(20261125);
  for (let i = 0; i < 300; i++) {
    const p: ModelProto = { irVersion: 9, opsetImport: [{ domain: '', version: 13 + rng.int(9) }], metadataProps: [], functions: [], graph: randomGraph(rng, `g${i}`, 2) };
    const bytes = encodeModelBytes(p);
    assert.deepStrictEqual(decodeModel(bytes), p, `model ${i}`);
    assert.deepStrictEqual(decodeModel(serializeModel(loadModel(bytes))), p, `model ${i} through the IR`);
  }
});


test('ops lithe does not know (com.microsoft, model-local functions) pass through and still run in ORT', async () => {
  const g = new GraphBuilder({ opset: 17 });
  const x = g.input('x', DataType.FLOAT, [2, 3]);
  const gelu = g.op('Gelu', [x], {}, { domain: 'com.microsoft' });
  const y = g.op('Scale2', [gelu], {}, { domain: 'local' });
  y.setTensorType(DataType.FLOAT, [2, 3]);
  g.output(y, 'y');
  const model = g.model({ irVersion: 10 });
  model.opsetImports.set('com.microsoft', 1);
  model.opsetImports.set('local', 1);
  model.functions = [{
    name: 'Scale2', domain: 'local', input: ['a'], output: ['b'], attribute: [], attributeProto: [], valueInfo: [],
    opsetImport: [{ domain: '', version: 17 }],
    node: [{ input: ['a', 'a'], output: ['b'], opType: 'Add', attribute: [] }],
  }];
  const saved = serializeModel(loadModel(serializeModel(model)));
  const feeds = { x: float32([2, 3], Float32Array.of(-2, -1, 0, 0.5, 1, 3)) };
  const run = async (m: Uint8Array | Model) => {
    const s = await createSession(m);
    const out = await s.run(feeds);
    await s.release();
    return out;
  };
  const [want, got] = [await run(model), await run(saved)];
  assert.equal(outputDifference(want, got), undefined);
  assert.ok(Math.abs((got.y!.data as Float32Array)[4]! - 2 * 0.8413447) < 1e-5, 'Gelu(1)·2 from ORT');
});
