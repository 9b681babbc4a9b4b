/**
 * A ModelProto that uses every part of onnx.proto, built in code for the codec's tests: every
 * dtype (raw_data and typed fields), every attribute type, subgraphs reading outer values,
 * model-local functions, metadata and doc strings at every level, value_info of every type kind,
 * several opset domains, quantization annotations, sparse initializers, and fields unknown to
 * onnx.proto at every message that can carry them. It is in decode.ts's canonical form, so a
 * decode(encode(p)) that loses or changes anything fails a deep-equality check.
 */
import {
  AttributeType as A,
  DataType as D,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type StringStringEntryProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from './proto.js';
import { WT_I32, WT_I64, WT_LEN, WT_VARINT, Writer, concatChunks } from './wire.js';

const utf8 = new TextEncoder();

/** The encoded bytes of one field with a tag onnx.proto does not define (≥ 1000 here). */
export function unknownField(field: number, wt: number, value: number | Uint8Array): Uint8Array {
  const w = new Writer();
  w.tag(field, wt);
  if (wt === WT_VARINT) w.int64(value as number);
  else if (wt === WT_I32) w.float(value as number);
  else if (wt === WT_I64) w.double(value as number);
  else (w.uvarint((value as Uint8Array).length), w.raw(value as Uint8Array));
  return concatChunks(w.finish(), w.length);
}
let nextUnknown = 1000;
/** A fresh unknown field of each wire type, so every message's unknowns are distinguishable. */
function unknowns(): Uint8Array[] {
  const f = nextUnknown;
  nextUnknown += 4;
  return [unknownField(f, WT_VARINT, -5), unknownField(f + 1, WT_LEN, utf8.encode(`x${f}`)), unknownField(f + 2, WT_I32, 1.5), unknownField(f + 3, WT_I64, -2.25)];
}
const meta = (what: string): StringStringEntryProto[] => [
  { key: 'owner', value: what },
  { key: 'ünïcode ✓', value: '', unknown: [unknownField(3, WT_VARINT, 1)] },
];
const bytes = (...xs: number[]) => new Uint8Array(xs);
const f32 = (xs: number[]) => xs.map(Math.fround);

function t(name: string, dataType: D, dims: number[], payload: Partial<TensorProto>): TensorProto {
  return { name, dataType, dims, ...payload };
}

/** One tensor per dtype and storage: raw_data and the typed field onnx.proto assigns to it. */
export function everyDtypeTensors(): TensorProto[] {
  const nanBits = bytes(0x01, 0x00, 0xc0, 0x7f); // a float32 NaN with a payload: raw keeps its bits
  return [
    t('f32_raw', D.FLOAT, [2], { rawData: bytes(0, 0, 0x80, 0x3f, ...nanBits) }),
    t('f32_typed', D.FLOAT, [2, 2], { floatData: f32([1.5, -0, NaN, -Infinity]) }),
    t('f64_typed', D.DOUBLE, [3], { doubleData: [Math.PI, -0, NaN] }),
    t('f64_raw', D.DOUBLE, [1], { rawData: new Uint8Array(new Float64Array([Math.E]).buffer) }),
    t('f16_typed', D.FLOAT16, [3], { int32Data: [0x3c00, 0x7e00, 0xfc00] }),
    t('f16_raw', D.FLOAT16, [1], { rawData: bytes(0x00, 0x3c) }),
    t('bf16_typed', D.BFLOAT16, [2], { int32Data: [0x3f80, 0xff81] }),
    t('bf16_raw', D.BFLOAT16, [1], { rawData: bytes(0x80, 0x3f) }),
    t('i8_typed', D.INT8, [3], { int32Data: [-128, 0, 127] }),
    t('i8_raw', D.INT8, [2], { rawData: bytes(0x80, 0x7f) }),
    t('u8_typed', D.UINT8, [2], { int32Data: [0, 255] }),
    t('u8_raw', D.UINT8, [3], { rawData: bytes(1, 2, 3) }),
    t('i16_typed', D.INT16, [2], { int32Data: [-32768, 32767] }),
    t('u16_typed', D.UINT16, [1], { int32Data: [65535] }),
    t('i32_typed', D.INT32, [2], { int32Data: [-(2 ** 31), 2 ** 31 - 1] }),
    t('i32_raw', D.INT32, [1], { rawData: bytes(0xff, 0xff, 0xff, 0xff) }),
    t('i64_typed', D.INT64, [3], { int64Data: [-(2n ** 63n), 2n ** 63n - 1n, -1n] }),
    t('i64_raw', D.INT64, [1], { rawData: bytes(1, 0, 0, 0, 0, 0, 0, 0x80) }),
    t('u32_typed', D.UINT32, [1], { uint64Data: [2n ** 32n - 1n] }),
    t('u64_typed', D.UINT64, [2], { uint64Data: [0n, 2n ** 64n - 1n] }),
    t('bool_typed', D.BOOL, [2], { int32Data: [1, 0] }),
    t('bool_raw', D.BOOL, [2], { rawData: bytes(0, 1) }),
    t('str', D.STRING, [3], { stringData: [utf8.encode('héllo'), bytes(0xff, 0xfe), bytes()] }),
    t('c64_typed', D.COMPLEX64, [1], { floatData: f32([1, -2]) }),
    t('c128_typed', D.COMPLEX128, [2], { doubleData: [1, 2, 3, 4] }),
    t('c64_raw', D.COMPLEX64, [1], { rawData: new Uint8Array(8) }),
    t('e4m3fn_typed', D.FLOAT8E4M3FN, [2], { int32Data: [0x38, 0x7f] }),
    t('e4m3fnuz_raw', D.FLOAT8E4M3FNUZ, [1], { rawData: bytes(0x80) }),
    t('e5m2_typed', D.FLOAT8E5M2, [1], { int32Data: [0x3c] }),
    t('e5m2fnuz_raw', D.FLOAT8E5M2FNUZ, [1], { rawData: bytes(0x40) }),
    t('e8m0_raw', D.FLOAT8E8M0, [2], { rawData: bytes(127, 255) }),
    // 4-bit types: two per byte, low nibble first; an odd count leaves the last high nibble 0.
    t('u4_typed', D.UINT4, [3], { int32Data: [0x21, 0x03] }),
    t('i4_raw', D.INT4, [3], { rawData: bytes(0xf8, 0x07) }),
    t('f4_typed', D.FLOAT4E2M1, [2], { int32Data: [0x72] }),
    t('empty', D.FLOAT, [0, 3], {}),
    t('scalar', D.INT64, [], { int64Data: [42n] }),
  ];
}

const tensorType = (elemType: D, dims: (number | string | undefined)[]): TypeProto => ({
  tensorType: {
    elemType,
    shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) },
  },
});
const vi = (name: string, type?: TypeProto): ValueInfoProto => (type ? { name, type } : { name });
const attr = (a: Partial<AttributeProto> & { name: string; type: A }): AttributeProto => a as AttributeProto;
const node = (opType: string, input: string[], output: string[], extra: Partial<NodeProto> = {}): NodeProto => ({
  input, output, opType, attribute: [], ...extra,
});
function graph(name: string, g: Partial<GraphProto>): GraphProto {
  return { node: [], name, initializer: [], sparseInitializer: [], input: [], output: [], valueInfo: [], quantizationAnnotation: [], ...g };
}

/** Every TypeProto kind, for value_info and TYPE_PROTO(S) attributes. */
function everyTypeKind(): TypeProto[] {
  const f = tensorType(D.FLOAT, [2, 'N', undefined]);
  f.tensorType!.shape!.dim[1]!.denotation = 'DATA_BATCH';
  f.tensorType!.shape!.unknown = unknowns();
  f.tensorType!.shape!.dim[0]!.unknown = unknowns();
  f.tensorType!.unknown = unknowns();
  return [
    { ...f, denotation: 'TENSOR', unknown: unknowns() },
    { sparseTensorType: { elemType: D.INT64, shape: { dim: [{ dimValue: 10 }] } } },
    { sequenceType: { elemType: tensorType(D.STRING, []), unknown: unknowns() } },
    { mapType: { keyType: D.INT64, valueType: { sequenceType: { elemType: tensorType(D.FLOAT, [1]) } }, unknown: unknowns() } },
    { optionalType: { elemType: { sequenceType: { elemType: tensorType(D.UINT8, []) } } } },
    { tensorType: { elemType: D.BFLOAT16 } }, // rank unknown: no shape at all
  ];
}

function sparseTensor(name: string): SparseTensorProto {
  return {
    values: t(name, D.FLOAT, [2], { floatData: [1, 2] }),
    indices: t(`${name}_idx`, D.INT64, [2], { int64Data: [1n, 5n] }),
    dims: [10],
    unknown: unknowns(),
  };
}

/** One attribute of every AttributeType (and a few encodings of defaults). */
function everyAttribute(body: () => GraphProto): AttributeProto[] {
  const types = everyTypeKind();
  return [
    attr({ name: 'f', type: A.FLOAT, f: Math.fround(0.1), docString: 'a float', unknown: unknowns() }),
    attr({ name: 'f0', type: A.FLOAT, f: 0 }),
    attr({ name: 'i', type: A.INT, i: -(2 ** 53) + 1 }),
    attr({ name: 's', type: A.STRING, s: bytes(0xc3, 0x28) }), // not UTF-8: bytes survive
    attr({ name: 't', type: A.TENSOR, t: t('attr_t', D.UINT4, [4], { rawData: bytes(0x21, 0x43) }) }),
    attr({ name: 'g', type: A.GRAPH, g: body() }),
    attr({ name: 'sp', type: A.SPARSE_TENSOR, sparseTensor: sparseTensor('attr_sp') }),
    attr({ name: 'tp', type: A.TYPE_PROTO, tp: types[3]! }),
    attr({ name: 'floats', type: A.FLOATS, floats: f32([1e-3, -0, Infinity]) }),
    attr({ name: 'ints', type: A.INTS, ints: [-1, 0, 2 ** 40] }),
    attr({ name: 'no_ints', type: A.INTS, ints: [] }),
    attr({ name: 'strings', type: A.STRINGS, strings: [utf8.encode('a'), bytes()] }),
    attr({ name: 'tensors', type: A.TENSORS, tensors: [t('tt0', D.INT8, [1], { int32Data: [-1] }), t('tt1', D.STRING, [1], { stringData: [bytes(0)] })] }),
    attr({ name: 'graphs', type: A.GRAPHS, graphs: [body(), graph('second', {})] }),
    attr({ name: 'sps', type: A.SPARSE_TENSORS, sparseTensors: [sparseTensor('sps0')] }),
    attr({ name: 'tps', type: A.TYPE_PROTOS, typeProtos: types }),
  ];
}

/** A subgraph body that reads `outer` (an outer-scope value) and has its own initializer. */
function body(outer: string, out: string): GraphProto {
  return graph(`body_${out}`, {
    node: [node('Add', [outer, `${out}_one`], [out], { name: `add_${out}` })],
    initializer: [t(`${out}_one`, D.FLOAT, [], { floatData: [1] })],
    output: [vi(out, tensorType(D.FLOAT, [2]))],
    metadataProps: meta(`subgraph ${out}`),
    docString: `then/else body ${out}`,
  });
}

export function everythingModel(): ModelProto {
  nextUnknown = 1000;
  const initializers = everyDtypeTensors();
  initializers[0]!.docString = 'tensor doc';
  initializers[0]!.metadataProps = meta('tensor');
  initializers[0]!.unknown = unknowns();
  initializers[1]!.segment = { begin: 0, end: 4, unknown: unknowns() };
  const types = everyTypeKind();
  let k = 0;
  const main = graph('main', {
    input: [
      { name: 'x', type: tensorType(D.FLOAT, [2]), docString: 'the input', metadataProps: meta('input'), unknown: unknowns() },
      vi('cond', tensorType(D.BOOL, [])),
      vi('trip', tensorType(D.INT64, [])),
    ],
    initializer: initializers,
    sparseInitializer: [sparseTensor('sparse_w')],
    node: [
      node('Relu', ['x'], ['r'], { name: 'relu', docString: 'node doc', metadataProps: meta('node'), unknown: unknowns() }),
      node('If', ['cond'], ['y'], {
        name: 'if',
        attribute: [
          attr({ name: 'then_branch', type: A.GRAPH, g: body('r', 'then_out') }),
          attr({ name: 'else_branch', type: A.GRAPH, g: body('x', 'else_out') }),
        ],
      }),
      node('Loop', ['trip', '', 'y'], ['loop_y'], {
        name: 'loop',
        attribute: [
          attr({
            name: 'body',
            type: A.GRAPH,
            g: graph('loop_body', {
              input: [vi('i', tensorType(D.INT64, [])), vi('c', tensorType(D.BOOL, [])), vi('acc', tensorType(D.FLOAT, [2]))],
              node: [node('Add', ['acc', 'r'], ['acc_out'])], // 'r' is main's
              // `c` goes straight from input to output, described differently on each side.
              output: [{ name: 'c', type: tensorType(D.BOOL, []), docString: 'cond out' }, vi('acc_out', tensorType(D.FLOAT, [2]))],
            }),
          }),
        ],
      }),
      node('Custom', ['loop_y', 'sparse_w'], ['z', ''], { name: 'custom', domain: 'com.example', overload: 'v2', attribute: everyAttribute(() => body('r', `attr_body_${k++}`)) }),
      node('FusedMatMul', ['z', 'f32_typed'], ['w'], { domain: 'com.microsoft' }),
      node('LocalFn', ['w'], ['out'], { name: 'fn_call', domain: 'local', attribute: [attr({ name: 'alpha', type: A.FLOAT, f: 2 })] }),
    ],
    // An initializer can be a graph output too.
    output: [vi('out', types[0]), vi('i8_raw', tensorType(D.INT8, [2]))],
    valueInfo: [
      vi('out', tensorType(D.FLOAT, [2])), // value_info may repeat a graph output
      vi('sparse_w', tensorType(D.FLOAT, [10])), // or describe a sparse initializer
      { name: 'r', type: tensorType(D.FLOAT, [2]), docString: 'relu out', metadataProps: meta('value_info') },
      ...types.slice(1).map((type, i) => vi(`vi_${i}`, type)), // describe nothing in the graph
      vi('z'), // a value_info without a type
    ],
    quantizationAnnotation: [{ tensorName: 'z', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 'f32_raw' }], unknown: unknowns() }],
    docString: 'main graph doc',
    metadataProps: meta('graph'),
    unknown: unknowns(),
  });
  return {
    irVersion: 10,
    opsetImport: [
      { domain: '', version: 21 },
      { domain: 'ai.onnx.ml', version: 5 },
      { domain: 'com.microsoft', version: 1, unknown: unknowns() },
      { domain: 'local', version: 1 },
      { domain: 'ai.onnx.preview.training', version: 1 },
    ],
    producerName: 'lithe-test',
    producerVersion: '0.0.1',
    domain: 'org.example',
    modelVersion: 7,
    docString: 'model doc',
    graph: main,
    metadataProps: meta('model'),
    functions: [
      {
        name: 'LocalFn',
        domain: 'local',
        overload: '',
        input: ['a'],
        output: ['b'],
        attribute: ['beta'],
        attributeProto: [attr({ name: 'alpha', type: A.FLOAT, f: 1, docString: 'default alpha' })],
        node: [
          node('Constant', [], ['k'], { attribute: [attr({ name: 'value_float', type: A.FLOAT, refAttrName: 'alpha' })] }),
          node('Mul', ['a', 'k'], ['b'], { name: 'mul' }),
        ],
        docString: 'function doc',
        opsetImport: [{ domain: '', version: 21 }],
        valueInfo: [vi('k', tensorType(D.FLOAT, []))],
        metadataProps: meta('function'),
        unknown: unknowns(),
      },
    ],
    trainingInfo: [unknownField(1, WT_LEN, bytes(8, 1))],
    configuration: [bytes(0x0a, 0x01, 0x61)],
    unknown: unknowns(),
  };
}
