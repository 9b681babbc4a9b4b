/**
 * Host tensors: the plain {dtype, dims, data} shape that crosses the runtime boundary, and the
 * mapping between ONNX DataType codes and onnxruntime's element-type names. Nothing here imports
 * onnxruntime, so any module may use it.
 */
import { LitheError } from '../errors.js';
import { DataType } from '../onnx/proto.js';
import { dtypeName, elementCount, type Tensor, type TensorArray } from '../graph/tensor.js';

export interface HostTensor {
  dtype: DataType;
  dims: number[];
  data: TensorArray | string[];
}

/** onnxruntime's names for the element types it can exchange with JS. */
export const ORT_TYPE: Partial<Record<DataType, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.UINT4]: 'uint4',
  [DataType.INT4]: 'int4',
};

export function dataTypeFromOrt(type: string): DataType {
  for (const [k, v] of Object.entries(ORT_TYPE)) if (v === type) return Number(k) as DataType;
  throw new LitheError('E_RUNTIME', `onnxruntime returned a tensor of unsupported type '${type}'`);
}

/**
 * An IR tensor as a feed. float16 stays as its bit patterns (Uint16Array), as onnxruntime wants;
 * 4-bit types are passed as their packed bytes.
 */
export function tensorToHost(t: Tensor): HostTensor {
  if (t.dtype === DataType.STRING) {
    const dec = new TextDecoder();
    return { dtype: t.dtype, dims: [...t.dims], data: t.strings().map((s) => dec.decode(s)) };
  }
  const bytes = t.bytes();
  const copy = bytes.slice(); // aligned, and the session may not alias the model's buffer
  const buf = copy.buffer;
  let data: TensorArray;
  switch (t.dtype) {
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      data = new Uint16Array(buf);
      break;
    case DataType.UINT4:
      data = copy;
      break;
    case DataType.INT4:
      data = new Int8Array(buf);
      break;
    default:
      data = t.toArray().slice() as TensorArray;
  }
  if (!ORT_TYPE[t.dtype]) throw new LitheError('E_UNSUPPORTED_OP', `tensor "${t.name}": onnxruntime cannot take ${dtypeName(t.dtype)} inputs from JS`);
  return { dtype: t.dtype, dims: [...t.dims], data };
}

/** A float32 host tensor; checks that the data fills the shape. */
export function float32(dims: number[], data: Float32Array): HostTensor {
  if (data.length !== elementCount(dims)) throw new Error(`float32 tensor: ${data.length} values for shape [${dims.join(',')}]`);
  return { dtype: DataType.FLOAT, dims, data };
}
