/**
 * Bytes → ModelProto (the plain objects of proto.ts). Every field of proto.ts is read; anything
 * else is kept, tag included, in `unknown` and re-emitted by encode.ts. `raw_data` and bytes
 * fields are views into the input, never copies.
 *
 * The result is canonical, so that decode(encode(decode(b))) deep-equals decode(b):
 *   - keys are only set for fields present (never `key: undefined`); optional repeated fields
 *     only when non-empty;
 *   - where ONNX's proto2/proto3-compatible subset makes "absent" and "default" the same thing and
 *     the IR cannot tell them apart: NodeProto name/domain '' and data_location DEFAULT are absent;
 *   - an attribute without `type` (IR v1) gets it from the field present, and a scalar or list
 *     attribute whose value field is absent (a proto3 writer omits 0, '' and []) gets the default.
 *
 * Hostile input fails with E_BAD_MODEL '<file>: <problem>' (see wire.ts for the byte-level checks,
 * tensor-check.ts for shape/payload consistency). Graphs may nest at most 64 deep.
 */
import { badModel } from '../errors.js';
import {
  AttributeType,
  type AttributeProto,
  type DimensionProto,
  type FunctionProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type OperatorSetIdProto,
  type SparseTensorProto,
  type StringStringEntryProto,
  type TensorAnnotation,
  type TensorProto,
  type TensorShapeProto,
  type TypeProto,
  type ValueInfoProto,
} from './proto.js';
import { tensorProblem } from './tensor-check.js';
import { Reader, WT_LEN } from './wire.js';

export const MAX_GRAPH_DEPTH = 64;

/** Decodes a model; `file` names the source in errors ('<bytes>' when not given). */
export function decodeModel(bytes: Uint8Array, file = '<bytes>'): ModelProto {
  // Plain Uint8Array views (not Buffer) so decoded protos compare equal however they were read.
  const buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw badModel(file, 'empty file, not an ONNX model');
  const r = new Reader(buf, file);
  const m = model(r);
  if (m.irVersion === 0 && !m.graph) throw badModel(file, 'no ir_version and no graph: not an ONNX model');
  return m;
}

/** Decodes a lone TensorProto (the .pb files of ONNX test data sets). */
export function decodeTensor(bytes: Uint8Array, file = '<bytes>'): TensorProto {
  const buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, file);
  r.msg = 'TensorProto';
  return tensor(r);
}

type WithUnknown = { unknown?: Uint8Array[] };
function keep(m: WithUnknown, raw: Uint8Array): void {
  (m.unknown ??= []).push(raw);
}

/** Reads a nested message with `body`, bounded by its length prefix. */
function sub<T>(r: Reader, wt: number, field: number, name: string, body: (r: Reader) => T): T {
  const saved = r.enter(wt, field, name);
  const v = body(r);
  r.leave(saved);
  return v;
}

/** Runs `on` for each field; unknown fields (on returns false) are captured into `m.unknown`. */
function fields(r: Reader, m: WithUnknown, on: (field: number, wt: number) => boolean | void): void {
  while (r.more()) {
    const start = r.pos;
    const { field, wt } = r.tag();
    if (on(field, wt) === false) keep(m, r.skip(wt, start));
  }
}

function entry(r: Reader): StringStringEntryProto {
  const m: StringStringEntryProto = { key: '', value: '' };
  fields(r, m, (f, wt) => {
    if (f === 1) m.key = r.string(wt, f);
    else if (f === 2) m.value = r.string(wt, f);
    else return false;
  });
  return m;
}
const entries = (r: Reader, wt: number, f: number, out: StringStringEntryProto[] | undefined) =>
  [...(out ?? []), sub(r, wt, f, 'StringStringEntryProto', entry)];

function opset(r: Reader): OperatorSetIdProto {
  const m: OperatorSetIdProto = { domain: '', version: 0 };
  fields(r, m, (f, wt) => {
    if (f === 1) m.domain = r.string(wt, f);
    else if (f === 2) (r.expect(wt, 0, f), (m.version = r.int64('opset version')));
    else return false;
  });
  return m;
}

function tensor(r: Reader): TensorProto {
  const m: TensorProto = { dims: [], dataType: 0, name: '' };
  const int64 = () => r.int64('dim');
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return r.varints(wt, f, m.dims, int64);
      case 2: return r.expect(wt, 0, f), void (m.dataType = r.int32());
      case 3: return void (m.segment = sub(r, wt, f, 'TensorProto.Segment', segment));
      case 4: return r.floats(wt, f, (m.floatData ??= []));
      case 5: return r.varints(wt, f, (m.int32Data ??= []), () => r.int32());
      case 6: return void (m.stringData ??= []).push(r.bytes(wt, f));
      case 7: return r.varints(wt, f, (m.int64Data ??= []), () => r.bigInt64());
      case 8: return void (m.name = r.string(wt, f));
      case 9: return void (m.rawData = r.bytes(wt, f));
      case 10: return r.doubles(wt, f, (m.doubleData ??= []));
      case 11: return r.varints(wt, f, (m.uint64Data ??= []), () => r.bigUint64());
      case 12: return void (m.docString = r.string(wt, f));
      case 13: return void (m.externalData = entries(r, wt, f, m.externalData));
      case 14: return r.expect(wt, 0, f), void (m.dataLocation = r.int32());
      case 16: return void (m.metadataProps = entries(r, wt, f, m.metadataProps));
      default: return false;
    }
  });
  // A packed run may be empty; canonical form omits empty optional arrays.
  for (const k of ['floatData', 'int32Data', 'stringData', 'int64Data', 'doubleData', 'uint64Data'] as const)
    if (m[k]?.length === 0) delete m[k];
  if (m.dataLocation === 0) delete m.dataLocation;
  const problem = tensorProblem(m);
  if (problem) r.fail(problem);
  return m;
}

function segment(r: Reader): NonNullable<TensorProto['segment']> {
  const m: NonNullable<TensorProto['segment']> = { begin: 0, end: 0 };
  fields(r, m, (f, wt) => {
    if (f === 1) (r.expect(wt, 0, f), (m.begin = r.int64('segment.begin')));
    else if (f === 2) (r.expect(wt, 0, f), (m.end = r.int64('segment.end')));
    else return false;
  });
  return m;
}

function sparse(r: Reader): SparseTensorProto {
  const m: SparseTensorProto = { dims: [] };
  fields(r, m, (f, wt) => {
    if (f === 1) m.values = sub(r, wt, f, 'TensorProto', tensor);
    else if (f === 2) m.indices = sub(r, wt, f, 'TensorProto', tensor);
    else if (f === 3) r.varints(wt, f, m.dims, () => r.int64('dim'));
    else return false;
  });
  if (m.dims.some((d) => d < 0)) r.fail(`sparse tensor has a negative dim in [${m.dims.join(',')}]`);
  return m;
}

function shape(r: Reader): TensorShapeProto {
  const m: TensorShapeProto = { dim: [] };
  fields(r, m, (f, wt) => {
    if (f !== 1) return false;
    m.dim.push(sub(r, wt, f, 'TensorShapeProto.Dimension', dimension));
  });
  return m;
}
function dimension(r: Reader): DimensionProto {
  const m: DimensionProto = {};
  fields(r, m, (f, wt) => {
    if (f === 1) (r.expect(wt, 0, f), (m.dimValue = r.int64('dim_value')));
    else if (f === 2) m.dimParam = r.string(wt, f);
    else if (f === 3) m.denotation = r.string(wt, f);
    else return false;
  });
  return m;
}

function typeProto(r: Reader): TypeProto {
  const m: TypeProto = {};
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return void (m.tensorType = sub(r, wt, f, 'TypeProto.Tensor', tensorType));
      case 8: return void (m.sparseTensorType = sub(r, wt, f, 'TypeProto.SparseTensor', tensorType));
      case 4: return void (m.sequenceType = sub(r, wt, f, 'TypeProto.Sequence', elemOnly));
      case 9: return void (m.optionalType = sub(r, wt, f, 'TypeProto.Optional', elemOnly));
      case 5: return void (m.mapType = sub(r, wt, f, 'TypeProto.Map', mapType));
      case 6: return void (m.denotation = r.string(wt, f));
      default: return false;
    }
  });
  return m;
}
function tensorType(r: Reader): NonNullable<TypeProto['tensorType']> {
  const m: NonNullable<TypeProto['tensorType']> = { elemType: 0 };
  fields(r, m, (f, wt) => {
    if (f === 1) (r.expect(wt, 0, f), (m.elemType = r.int32()));
    else if (f === 2) m.shape = sub(r, wt, f, 'TensorShapeProto', shape);
    else return false;
  });
  return m;
}
function elemOnly(r: Reader): { elemType?: TypeProto; unknown?: Uint8Array[] } {
  const m: { elemType?: TypeProto; unknown?: Uint8Array[] } = {};
  fields(r, m, (f, wt) => {
    if (f !== 1) return false;
    m.elemType = sub(r, wt, f, 'TypeProto', typeProto);
  });
  return m;
}
function mapType(r: Reader): NonNullable<TypeProto['mapType']> {
  const m: NonNullable<TypeProto['mapType']> = { keyType: 0 };
  fields(r, m, (f, wt) => {
    if (f === 1) (r.expect(wt, 0, f), (m.keyType = r.int32()));
    else if (f === 2) m.valueType = sub(r, wt, f, 'TypeProto', typeProto);
    else return false;
  });
  return m;
}

function valueInfo(r: Reader): ValueInfoProto {
  const m: ValueInfoProto = { name: '' };
  fields(r, m, (f, wt) => {
    if (f === 1) m.name = r.string(wt, f);
    else if (f === 2) m.type = sub(r, wt, f, 'TypeProto', typeProto);
    else if (f === 3) m.docString = r.string(wt, f);
    else if (f === 4) m.metadataProps = entries(r, wt, f, m.metadataProps);
    else return false;
  });
  return m;
}

function attribute(r: Reader): AttributeProto {
  const m: AttributeProto = { name: '', type: AttributeType.UNDEFINED };
  const ints = () => r.int64(`attribute "${m.name}"`);
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return void (m.name = r.string(wt, f));
      case 21: return void (m.refAttrName = r.string(wt, f));
      case 13: return void (m.docString = r.string(wt, f));
      case 20: return r.expect(wt, 0, f), void (m.type = r.int32());
      case 2: return r.expect(wt, 5, f), void (m.f = r.float());
      case 3: return r.expect(wt, 0, f), void (m.i = ints());
      case 4: return void (m.s = r.bytes(wt, f));
      case 5: return void (m.t = sub(r, wt, f, 'TensorProto', tensor));
      case 6: return void (m.g = sub(r, wt, f, 'GraphProto', graph));
      case 22: return void (m.sparseTensor = sub(r, wt, f, 'SparseTensorProto', sparse));
      case 14: return void (m.tp = sub(r, wt, f, 'TypeProto', typeProto));
      case 7: return r.floats(wt, f, (m.floats ??= []));
      case 8: return r.varints(wt, f, (m.ints ??= []), ints);
      case 9: return void (m.strings ??= []).push(r.bytes(wt, f));
      case 10: return void (m.tensors ??= []).push(sub(r, wt, f, 'TensorProto', tensor));
      case 11: return void (m.graphs ??= []).push(sub(r, wt, f, 'GraphProto', graph));
      case 23: return void (m.sparseTensors ??= []).push(sub(r, wt, f, 'SparseTensorProto', sparse));
      case 15: return void (m.typeProtos ??= []).push(sub(r, wt, f, 'TypeProto', typeProto));
      default: return false;
    }
  });
  canonicalAttribute(m);
  return m;
}

const VALUE_FIELD: [AttributeType, keyof AttributeProto][] = [
  [AttributeType.FLOAT, 'f'], [AttributeType.INT, 'i'], [AttributeType.STRING, 's'],
  [AttributeType.TENSOR, 't'], [AttributeType.GRAPH, 'g'], [AttributeType.SPARSE_TENSOR, 'sparseTensor'],
  [AttributeType.TYPE_PROTO, 'tp'], [AttributeType.FLOATS, 'floats'], [AttributeType.INTS, 'ints'],
  [AttributeType.STRINGS, 'strings'], [AttributeType.TENSORS, 'tensors'], [AttributeType.GRAPHS, 'graphs'],
  [AttributeType.SPARSE_TENSORS, 'sparseTensors'], [AttributeType.TYPE_PROTOS, 'typeProtos'],
];

function canonicalAttribute(m: AttributeProto): void {
  if (m.refAttrName !== undefined) return; // a reference carries no value
  if (m.type === AttributeType.UNDEFINED) {
    const hit = VALUE_FIELD.find(([, k]) => m[k] !== undefined);
    if (hit) m.type = hit[0];
  }
  switch (m.type) {
    case AttributeType.FLOAT: m.f ??= 0; break;
    case AttributeType.INT: m.i ??= 0; break;
    case AttributeType.STRING: m.s ??= new Uint8Array(0); break;
    case AttributeType.FLOATS: m.floats ??= []; break;
    case AttributeType.INTS: m.ints ??= []; break;
    case AttributeType.STRINGS: m.strings ??= []; break;
    case AttributeType.TENSORS: m.tensors ??= []; break;
    case AttributeType.GRAPHS: m.graphs ??= []; break;
    case AttributeType.SPARSE_TENSORS: m.sparseTensors ??= []; break;
    case AttributeType.TYPE_PROTOS: m.typeProtos ??= []; break;
  }
}

function node(r: Reader): NodeProto {
  const m: NodeProto = { input: [], output: [], opType: '', attribute: [] };
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return void m.input.push(r.string(wt, f));
      case 2: return void m.output.push(r.string(wt, f));
      case 3: return void (m.name = r.string(wt, f));
      case 4: return void (m.opType = r.string(wt, f));
      case 7: return void (m.domain = r.string(wt, f));
      case 8: return void (m.overload = r.string(wt, f));
      case 5: return void m.attribute.push(sub(r, wt, f, 'AttributeProto', attribute));
      case 6: return void (m.docString = r.string(wt, f));
      case 9: return void (m.metadataProps = entries(r, wt, f, m.metadataProps));
      default: return false;
    }
  });
  if (m.name === '') delete m.name;
  if (m.domain === '') delete m.domain;
  return m;
}

function annotation(r: Reader): TensorAnnotation {
  const m: TensorAnnotation = { tensorName: '', quantParameterTensorNames: [] };
  fields(r, m, (f, wt) => {
    if (f === 1) m.tensorName = r.string(wt, f);
    else if (f === 2) m.quantParameterTensorNames.push(sub(r, wt, f, 'StringStringEntryProto', entry));
    else return false;
  });
  return m;
}

function graph(r: Reader): GraphProto {
  if (++r.graphDepth > MAX_GRAPH_DEPTH) r.fail(`graphs nested more than ${MAX_GRAPH_DEPTH} deep`);
  const m: GraphProto = {
    node: [], name: '', initializer: [], sparseInitializer: [], input: [], output: [], valueInfo: [], quantizationAnnotation: [],
  };
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return void m.node.push(sub(r, wt, f, 'NodeProto', node));
      case 2: return void (m.name = r.string(wt, f));
      case 5: return void m.initializer.push(sub(r, wt, f, 'TensorProto', tensor));
      case 15: return void m.sparseInitializer.push(sub(r, wt, f, 'SparseTensorProto', sparse));
      case 10: return void (m.docString = r.string(wt, f));
      case 11: return void m.input.push(sub(r, wt, f, 'ValueInfoProto', valueInfo));
      case 12: return void m.output.push(sub(r, wt, f, 'ValueInfoProto', valueInfo));
      case 13: return void m.valueInfo.push(sub(r, wt, f, 'ValueInfoProto', valueInfo));
      case 14: return void m.quantizationAnnotation.push(sub(r, wt, f, 'TensorAnnotation', annotation));
      case 16: return void (m.metadataProps = entries(r, wt, f, m.metadataProps));
      default: return false;
    }
  });
  r.graphDepth--;
  return m;
}

function func(r: Reader): FunctionProto {
  const m: FunctionProto = {
    name: '', input: [], output: [], attribute: [], attributeProto: [], node: [], opsetImport: [], valueInfo: [],
  };
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return void (m.name = r.string(wt, f));
      case 4: return void m.input.push(r.string(wt, f));
      case 5: return void m.output.push(r.string(wt, f));
      case 6: return void m.attribute.push(r.string(wt, f));
      case 11: return void m.attributeProto.push(sub(r, wt, f, 'AttributeProto', attribute));
      case 7: return void m.node.push(sub(r, wt, f, 'NodeProto', node));
      case 8: return void (m.docString = r.string(wt, f));
      case 9: return void m.opsetImport.push(sub(r, wt, f, 'OperatorSetIdProto', opset));
      case 10: return void (m.domain = r.string(wt, f));
      case 13: return void (m.overload = r.string(wt, f));
      case 12: return void m.valueInfo.push(sub(r, wt, f, 'ValueInfoProto', valueInfo));
      case 14: return void (m.metadataProps = entries(r, wt, f, m.metadataProps));
      default: return false;
    }
  });
  return m;
}

function model(r: Reader): ModelProto {
  const m: ModelProto = { irVersion: 0, opsetImport: [], metadataProps: [], functions: [] };
  fields(r, m, (f, wt) => {
    switch (f) {
      case 1: return r.expect(wt, 0, f), void (m.irVersion = r.int64('ir_version'));
      case 8: return void m.opsetImport.push(sub(r, wt, f, 'OperatorSetIdProto', opset));
      case 2: return void (m.producerName = r.string(wt, f));
      case 3: return void (m.producerVersion = r.string(wt, f));
      case 4: return void (m.domain = r.string(wt, f));
      case 5: return r.expect(wt, 0, f), void (m.modelVersion = r.int64('model_version'));
      case 6: return void (m.docString = r.string(wt, f));
      case 7: return void (m.graph = sub(r, wt, f, 'GraphProto', graph));
      case 14: return void m.metadataProps.push(sub(r, wt, f, 'StringStringEntryProto', entry));
      // training_info and configuration are kept as their encoded message bytes.
      case 20: return void (m.trainingInfo ??= []).push(r.bytes(wt, f));
      case 26: return void (m.configuration ??= []).push(r.bytes(wt, f));
      case 25: return void m.functions.push(sub(r, wt, f, 'FunctionProto', func));
      default: return false;
    }
  });
  return m;
}

export { WT_LEN };
