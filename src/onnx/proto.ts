/**
 * Plain-data mirror of onnx.proto (ONNX 1.17, IR version 10). The codec in `decode.ts` /
 * `encode.ts` maps bytes <-> these objects losslessly: every known field is kept, and any field
 * this file does not know is kept as its raw encoded bytes in `unknown`, so load→save never
 * drops data. int64 scalars are JS numbers (the decoder rejects values outside ±2^53); int64
 * arrays of tensor payloads stay bigint because they are data, not sizes.
 *
 * Field numbers are given as `// = N` for the codec.
 */

/** TensorProto.DataType */
export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
}

/** Raw encoded bytes of fields the codec does not know (tag included), re-emitted verbatim. */
export type UnknownFields = Uint8Array[];

export interface StringStringEntryProto {
  key: string; // = 1
  value: string; // = 2
  unknown?: UnknownFields;
}

export interface OperatorSetIdProto {
  domain: string; // = 1
  version: number; // = 2
  unknown?: UnknownFields;
}

export interface TensorProto {
  dims: number[]; // = 1 (packed or not)
  dataType: DataType; // = 2
  segment?: { begin: number; end: number; unknown?: UnknownFields }; // = 3
  floatData?: number[]; // = 4 (also complex64 pairs)
  int32Data?: number[]; // = 5 (int32/16/8, uint16/8, bool, float16/bfloat16 bits, float8, int4/uint4 packed)
  stringData?: Uint8Array[]; // = 6
  int64Data?: bigint[]; // = 7
  name: string; // = 8
  docString?: string; // = 12
  /** raw_data = 9; a view into the file's bytes, never a copy. */
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[]; // = 13
  dataLocation?: number; // = 14 (0 DEFAULT, 1 EXTERNAL)
  doubleData?: number[]; // = 10 (also complex128 pairs)
  uint64Data?: bigint[]; // = 11 (uint32, uint64)
  metadataProps?: StringStringEntryProto[]; // = 16
  unknown?: UnknownFields;
}

export interface SparseTensorProto {
  values?: TensorProto; // = 1
  indices?: TensorProto; // = 2
  dims: number[]; // = 3
  unknown?: UnknownFields;
}

export interface DimensionProto {
  dimValue?: number; // = 1
  dimParam?: string; // = 2
  denotation?: string; // = 3
  unknown?: UnknownFields;
}

export interface TensorShapeProto {
  dim: DimensionProto[]; // = 1
  unknown?: UnknownFields;
}

/** TypeProto: exactly one of the value fields is set. */
export interface TypeProto {
  tensorType?: { elemType: DataType; shape?: TensorShapeProto; unknown?: UnknownFields }; // = 1
  sequenceType?: { elemType?: TypeProto; unknown?: UnknownFields }; // = 4
  mapType?: { keyType: DataType; valueType?: TypeProto; unknown?: UnknownFields }; // = 5
  sparseTensorType?: { elemType: DataType; shape?: TensorShapeProto; unknown?: UnknownFields }; // = 8
  optionalType?: { elemType?: TypeProto; unknown?: UnknownFields }; // = 9
  denotation?: string; // = 6
  unknown?: UnknownFields;
}

export interface ValueInfoProto {
  name: string; // = 1
  type?: TypeProto; // = 2
  docString?: string; // = 3
  metadataProps?: StringStringEntryProto[]; // = 4
  unknown?: UnknownFields;
}

/** AttributeProto.AttributeType */
export enum AttributeType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  SPARSE_TENSOR = 11,
  TYPE_PROTO = 13,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSORS = 12,
  TYPE_PROTOS = 14,
}

export interface AttributeProto {
  name: string; // = 1
  refAttrName?: string; // = 21 (inside functions)
  docString?: string; // = 13
  type: AttributeType; // = 20
  f?: number; // = 2 (float32)
  i?: number; // = 3 (int64, checked to be a safe integer)
  s?: Uint8Array; // = 4 (bytes; most ops store UTF-8)
  t?: TensorProto; // = 5
  g?: GraphProto; // = 6
  sparseTensor?: SparseTensorProto; // = 22
  tp?: TypeProto; // = 14
  floats?: number[]; // = 7
  ints?: number[]; // = 8
  strings?: Uint8Array[]; // = 9
  tensors?: TensorProto[]; // = 10
  graphs?: GraphProto[]; // = 11
  sparseTensors?: SparseTensorProto[]; // = 23
  typeProtos?: TypeProto[]; // = 15
  unknown?: UnknownFields;
}

export interface NodeProto {
  input: string[]; // = 1
  output: string[]; // = 2
  name?: string; // = 3
  opType: string; // = 4
  domain?: string; // = 7
  overload?: string; // = 8
  attribute: AttributeProto[]; // = 5
  docString?: string; // = 6
  metadataProps?: StringStringEntryProto[]; // = 9
  unknown?: UnknownFields;
}

export interface TensorAnnotation {
  tensorName: string; // = 1
  quantParameterTensorNames: StringStringEntryProto[]; // = 2
  unknown?: UnknownFields;
}

export interface GraphProto {
  node: NodeProto[]; // = 1
  name: string; // = 2
  initializer: TensorProto[]; // = 5
  sparseInitializer: SparseTensorProto[]; // = 15
  docString?: string; // = 10
  input: ValueInfoProto[]; // = 11
  output: ValueInfoProto[]; // = 12
  valueInfo: ValueInfoProto[]; // = 13
  quantizationAnnotation: TensorAnnotation[]; // = 14
  metadataProps?: StringStringEntryProto[]; // = 16
  unknown?: UnknownFields;
}

export interface FunctionProto {
  name: string; // = 1
  input: string[]; // = 4
  output: string[]; // = 5
  attribute: string[]; // = 6
  attributeProto: AttributeProto[]; // = 11
  node: NodeProto[]; // = 7
  docString?: string; // = 8
  opsetImport: OperatorSetIdProto[]; // = 9
  domain?: string; // = 10
  overload?: string; // = 13
  valueInfo: ValueInfoProto[]; // = 12
  metadataProps?: StringStringEntryProto[]; // = 14
  unknown?: UnknownFields;
}

export interface ModelProto {
  irVersion: number; // = 1
  opsetImport: OperatorSetIdProto[]; // = 8
  producerName?: string; // = 2
  producerVersion?: string; // = 3
  domain?: string; // = 4
  modelVersion?: number; // = 5
  docString?: string; // = 6
  graph?: GraphProto; // = 7
  metadataProps: StringStringEntryProto[]; // = 14
  /** training_info = 20 and configuration = 26: rarely used, kept verbatim as encoded bytes. */
  trainingInfo?: Uint8Array[];
  configuration?: Uint8Array[];
  functions: FunctionProto[]; // = 25
  unknown?: UnknownFields;
}
