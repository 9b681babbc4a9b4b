/**
 * ModelProto (the plain objects of proto.ts) → protobuf bytes; the inverse of decode.ts, so that
 * decode(encode(m)) deep-equals m for every m that decode produced.
 *
 * Fields are written in field-number order, as protobuf's reference encoders do; fields kept in
 * `unknown` are re-emitted verbatim after the known ones. Repeated scalars are written packed
 * (proto3's default; proto2 readers accept both). Large byte payloads (raw_data) are not copied:
 * the result is a list of chunks that reference them (see Writer in wire.ts).
 */
import {
  AttributeType,
  type AttributeProto,
  type FunctionProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type OperatorSetIdProto,
  type SparseTensorProto,
  type StringStringEntryProto,
  type TensorProto,
  type TensorShapeProto,
  type TypeProto,
  type ValueInfoProto,
} from './proto.js';
import { WT_VARINT, Writer, concatChunks } from './wire.js';

export interface Encoded {
  chunks: Uint8Array[];
  length: number;
}

export function encodeModel(m: ModelProto): Encoded {
  const w = new Writer();
  model(w, m);
  const length = w.length;
  return { chunks: w.finish(), length };
}

/** The encoded model as one contiguous buffer. */
export function encodeModelBytes(m: ModelProto): Uint8Array {
  const { chunks, length } = encodeModel(m);
  return concatChunks(chunks, length);
}

const str = (w: Writer, f: number, s: string | undefined) => s !== undefined && w.stringField(f, s);
const unknown = (w: Writer, u: Uint8Array[] | undefined) => u?.forEach((b) => w.raw(b));
const entries = (w: Writer, f: number, es: StringStringEntryProto[] | undefined) =>
  es?.forEach((e) => w.message(f, () => (w.stringField(1, e.key), w.stringField(2, e.value), unknown(w, e.unknown))));
const opsets = (w: Writer, f: number, os: OperatorSetIdProto[]) =>
  os.forEach((o) => w.message(f, () => (w.stringField(1, o.domain), w.int64Field(2, o.version), unknown(w, o.unknown))));
/** An enum or int field that proto2 writers emit even when zero (decode keeps what it saw). */
const int = (w: Writer, f: number, n: number | undefined) => n !== undefined && w.int64Field(f, n);

function tensor(w: Writer, t: TensorProto): void {
  if (t.dims.length) w.packedInt64(1, t.dims);
  int(w, 2, t.dataType);
  if (t.segment) {
    const s = t.segment;
    w.message(3, () => (w.int64Field(1, s.begin), w.int64Field(2, s.end), unknown(w, s.unknown)));
  }
  if (t.floatData) w.packedFloats(4, t.floatData);
  if (t.int32Data) w.packedInt64(5, t.int32Data);
  t.stringData?.forEach((b) => w.bytesField(6, b));
  if (t.int64Data) w.packedBig(7, t.int64Data);
  w.stringField(8, t.name);
  if (t.rawData) w.bytesField(9, t.rawData);
  if (t.doubleData) w.packedDoubles(10, t.doubleData);
  if (t.uint64Data) w.packedBig(11, t.uint64Data);
  str(w, 12, t.docString);
  entries(w, 13, t.externalData);
  int(w, 14, t.dataLocation);
  entries(w, 16, t.metadataProps);
  unknown(w, t.unknown);
}

function sparse(w: Writer, s: SparseTensorProto): void {
  if (s.values) w.message(1, () => tensor(w, s.values!));
  if (s.indices) w.message(2, () => tensor(w, s.indices!));
  if (s.dims.length) w.packedInt64(3, s.dims);
  unknown(w, s.unknown);
}

function shape(w: Writer, s: TensorShapeProto): void {
  for (const d of s.dim) {
    w.message(1, () => {
      int(w, 1, d.dimValue);
      str(w, 2, d.dimParam);
      str(w, 3, d.denotation);
      unknown(w, d.unknown);
    });
  }
  unknown(w, s.unknown);
}

function typeProto(w: Writer, t: TypeProto): void {
  const tensorLike = (f: number, tt: NonNullable<TypeProto['tensorType']>) =>
    w.message(f, () => {
      int(w, 1, tt.elemType);
      if (tt.shape) w.message(2, () => shape(w, tt.shape!));
      unknown(w, tt.unknown);
    });
  const elemOnly = (f: number, e: { elemType?: TypeProto; unknown?: Uint8Array[] }) =>
    w.message(f, () => {
      if (e.elemType) w.message(1, () => typeProto(w, e.elemType!));
      unknown(w, e.unknown);
    });
  if (t.tensorType) tensorLike(1, t.tensorType);
  if (t.sequenceType) elemOnly(4, t.sequenceType);
  if (t.mapType) {
    const m = t.mapType;
    w.message(5, () => {
      int(w, 1, m.keyType);
      if (m.valueType) w.message(2, () => typeProto(w, m.valueType!));
      unknown(w, m.unknown);
    });
  }
  str(w, 6, t.denotation);
  if (t.sparseTensorType) tensorLike(8, t.sparseTensorType);
  if (t.optionalType) elemOnly(9, t.optionalType);
  unknown(w, t.unknown);
}

function valueInfo(w: Writer, v: ValueInfoProto): void {
  w.stringField(1, v.name);
  if (v.type) w.message(2, () => typeProto(w, v.type!));
  str(w, 3, v.docString);
  entries(w, 4, v.metadataProps);
  unknown(w, v.unknown);
}

function attribute(w: Writer, a: AttributeProto): void {
  w.stringField(1, a.name);
  if (a.f !== undefined) w.floatField(2, a.f);
  int(w, 3, a.i);
  if (a.s) w.bytesField(4, a.s);
  if (a.t) w.message(5, () => tensor(w, a.t!));
  if (a.g) w.message(6, () => graph(w, a.g!));
  if (a.floats?.length) w.packedFloats(7, a.floats);
  if (a.ints?.length) w.packedInt64(8, a.ints);
  a.strings?.forEach((s) => w.bytesField(9, s));
  a.tensors?.forEach((t) => w.message(10, () => tensor(w, t)));
  a.graphs?.forEach((g) => w.message(11, () => graph(w, g)));
  str(w, 13, a.docString);
  if (a.tp) w.message(14, () => typeProto(w, a.tp!));
  a.typeProtos?.forEach((t) => w.message(15, () => typeProto(w, t)));
  if (a.type !== AttributeType.UNDEFINED) (w.tag(20, WT_VARINT), w.int64(a.type));
  str(w, 21, a.refAttrName);
  if (a.sparseTensor) w.message(22, () => sparse(w, a.sparseTensor!));
  a.sparseTensors?.forEach((s) => w.message(23, () => sparse(w, s)));
  unknown(w, a.unknown);
}

function node(w: Writer, n: NodeProto): void {
  n.input.forEach((s) => w.stringField(1, s));
  n.output.forEach((s) => w.stringField(2, s));
  str(w, 3, n.name);
  w.stringField(4, n.opType);
  n.attribute.forEach((a) => w.message(5, () => attribute(w, a)));
  str(w, 6, n.docString);
  str(w, 7, n.domain);
  str(w, 8, n.overload);
  entries(w, 9, n.metadataProps);
  unknown(w, n.unknown);
}

function graph(w: Writer, g: GraphProto): void {
  g.node.forEach((n) => w.message(1, () => node(w, n)));
  w.stringField(2, g.name);
  g.initializer.forEach((t) => w.message(5, () => tensor(w, t)));
  str(w, 10, g.docString);
  g.input.forEach((v) => w.message(11, () => valueInfo(w, v)));
  g.output.forEach((v) => w.message(12, () => valueInfo(w, v)));
  g.valueInfo.forEach((v) => w.message(13, () => valueInfo(w, v)));
  g.quantizationAnnotation.forEach((a) =>
    w.message(14, () => {
      w.stringField(1, a.tensorName);
      entries(w, 2, a.quantParameterTensorNames);
      unknown(w, a.unknown);
    }),
  );
  g.sparseInitializer.forEach((s) => w.message(15, () => sparse(w, s)));
  entries(w, 16, g.metadataProps);
  unknown(w, g.unknown);
}

function func(w: Writer, f: FunctionProto): void {
  w.stringField(1, f.name);
  f.input.forEach((s) => w.stringField(4, s));
  f.output.forEach((s) => w.stringField(5, s));
  f.attribute.forEach((s) => w.stringField(6, s));
  f.node.forEach((n) => w.message(7, () => node(w, n)));
  str(w, 8, f.docString);
  opsets(w, 9, f.opsetImport);
  str(w, 10, f.domain);
  f.attributeProto.forEach((a) => w.message(11, () => attribute(w, a)));
  f.valueInfo.forEach((v) => w.message(12, () => valueInfo(w, v)));
  str(w, 13, f.overload);
  entries(w, 14, f.metadataProps);
  unknown(w, f.unknown);
}

function model(w: Writer, m: ModelProto): void {
  w.int64Field(1, m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  str(w, 4, m.domain);
  int(w, 5, m.modelVersion);
  str(w, 6, m.docString);
  if (m.graph) w.message(7, () => graph(w, m.graph!));
  opsets(w, 8, m.opsetImport);
  entries(w, 14, m.metadataProps);
  m.trainingInfo?.forEach((b) => w.bytesField(20, b));
  m.functions.forEach((f) => w.message(25, () => func(w, f)));
  m.configuration?.forEach((b) => w.bytesField(26, b));
  unknown(w, m.unknown);
}
