/**
 * Consistency of a TensorProto's declared shape with the payload it carries. A model file is
 * untrusted: dims must be non-negative, their product must stay below 2^53, and the payload must
 * hold exactly the elements the shape declares (in raw_data: ⌈count·bits/8⌉ bytes; in a typed
 * field: one value per element, two for complex, one per packed byte for 4-bit types).
 *
 * Typed field per data type (onnx.proto): float_data float/complex64; int32_data int32 and every
 * type of 16 bits or fewer; int64_data int64; double_data double/complex128; uint64_data
 * uint32/uint64; string_data string.
 */
import { DTYPE_BITS, dtypeName, rawByteLength } from '../graph/tensor.js';
import { DataType, type TensorProto } from './proto.js';

const TWO53 = 2 ** 53;

/** Element count of `dims`, or a problem description. */
export function countElements(dims: readonly number[]): number | string {
  if (dims.some((d) => d < 0)) return `negative dim in shape [${dims.join(',')}]`;
  if (dims.includes(0)) return 0;
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (n > TWO53) return `shape [${dims.join(',')}] has more than 2^53 elements`;
  }
  return n;
}

type FieldName = 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData';
const FIELD_LABEL: Record<FieldName, string> = {
  floatData: 'float_data',
  int32Data: 'int32_data',
  int64Data: 'int64_data',
  doubleData: 'double_data',
  uint64Data: 'uint64_data',
  stringData: 'string_data',
};

/** The typed field that holds `dtype` and how many values `count` elements take in it. */
export function typedField(dtype: DataType, count: number): { field: FieldName; values: number } | undefined {
  switch (dtype) {
    case DataType.FLOAT: return { field: 'floatData', values: count };
    case DataType.COMPLEX64: return { field: 'floatData', values: 2 * count };
    case DataType.DOUBLE: return { field: 'doubleData', values: count };
    case DataType.COMPLEX128: return { field: 'doubleData', values: 2 * count };
    case DataType.INT64: return { field: 'int64Data', values: count };
    case DataType.UINT32: case DataType.UINT64: return { field: 'uint64Data', values: count };
    case DataType.STRING: return { field: 'stringData', values: count };
    default: {
      const bits = DTYPE_BITS[dtype];
      if (bits === undefined || bits === 0) return undefined;
      if (bits === 4) return { field: 'int32Data', values: Math.ceil(count / 2) };
      if (bits <= 32) return { field: 'int32Data', values: count };
      return undefined;
    }
  }
}

/** Why this tensor's payload does not fit its shape, or undefined when it does. */
export function tensorProblem(t: TensorProto): string | undefined {
  const label = `tensor "${t.name}"`;
  const count = countElements(t.dims);
  if (typeof count === 'string') return `${label}: ${count}`;
  if (t.dataLocation === 1 || t.segment) return undefined; // external: checked when its file is read
  const present = (Object.keys(FIELD_LABEL) as FieldName[]).filter((f) => t[f] !== undefined);
  const known = DTYPE_BITS[t.dataType] !== undefined && t.dataType !== DataType.UNDEFINED;
  if (t.rawData) {
    if (present.length) return `${label}: has both raw_data and ${FIELD_LABEL[present[0]!]}`;
    if (!known || t.dataType === DataType.STRING) return `${label}: raw_data for data type ${dtypeName(t.dataType)}`;
    const need = rawByteLength(t.dataType, count);
    if (t.rawData.length !== need)
      return `${label}: ${dtypeName(t.dataType)}[${t.dims.join(',')}] needs ${need} bytes, raw_data has ${t.rawData.length}`;
    return undefined;
  }
  if (!known) return present.length || count ? `${label}: unknown data type ${t.dataType}` : undefined;
  const want = typedField(t.dataType, count)!;
  for (const f of present)
    if (f !== want.field) return `${label}: ${FIELD_LABEL[f]} given for a ${dtypeName(t.dataType)} tensor`;
  const have = t[want.field]?.length ?? 0;
  if (have !== want.values)
    return `${label}: ${dtypeName(t.dataType)}[${t.dims.join(',')}] needs ${want.values} values in ${FIELD_LABEL[want.field]}, found ${have}`;
  return undefined;
}
