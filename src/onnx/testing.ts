/**
 * Helpers shared by the codec's tests (not a test file itself): proto comparison up to the one
 * thing load→save legitimately reorders, test-data tensors, and bitwise output comparison.
 */
import { readFileSync } from 'node:fs';
import type { HostTensor } from '../runtime/tensors.js';
import { tensorToHost } from '../runtime/tensors.js';
import { decodeTensor } from './decode.js';
import { tensorFromProto } from './from-proto.js';
import type { AttributeProto, GraphProto, ModelProto, NodeProto } from './proto.js';

/**
 * A copy of `p` with every graph's value_info sorted by name. Saving rebuilds value_info from the
 * IR (typed initializers first, then node outputs in node order, then entries that described
 * nothing), so its order is the one thing load→save may change.
 */
export function sortValueInfo(p: ModelProto): ModelProto {
  const graph = (g: GraphProto): GraphProto => ({
    ...g,
    node: g.node.map(node),
    valueInfo: [...g.valueInfo].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  });
  const node = (n: NodeProto): NodeProto => ({ ...n, attribute: n.attribute.map(attr) });
  const attr = (a: AttributeProto): AttributeProto => {
    const out = { ...a };
    if (a.g) out.g = graph(a.g);
    if (a.graphs) out.graphs = a.graphs.map(graph);
    return out;
  };
  const out = { ...p };
  if (p.graph) out.graph = graph(p.graph);
  return out;
}

/** A TensorProto file (test_data_set_N/input_K.pb) as a feed for onnxruntime. */
export function readTensorFile(path: string): { name: string; tensor: HostTensor } {
  const proto = decodeTensor(readFileSync(path), path);
  const t = tensorFromProto(proto, () => {
    throw new Error(`${path}: external data in a test tensor`);
  });
  return { name: proto.name, tensor: tensorToHost(t) };
}

/** Why two output sets differ bit for bit (any NaN equals any NaN), or undefined when they do not. */
export function outputDifference(a: Record<string, HostTensor>, b: Record<string, HostTensor>): string | undefined {
  const names = Object.keys(a);
  if (names.join() !== Object.keys(b).join()) return `outputs ${names.join()} vs ${Object.keys(b).join()}`;
  for (const name of names) {
    const x = a[name]!;
    const y = b[name]!;
    if (x.dtype !== y.dtype || x.dims.join() !== y.dims.join())
      return `${name}: ${x.dtype}[${x.dims.join(',')}] vs ${y.dtype}[${y.dims.join(',')}]`;
    if (Array.isArray(x.data) || Array.isArray(y.data)) {
      if (JSON.stringify(x.data) !== JSON.stringify(y.data)) return `${name}: strings differ`;
      continue;
    }
    if (x.data.length !== y.data.length) return `${name}: ${x.data.length} vs ${y.data.length} elements`;
    const bx = new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength);
    const by = new Uint8Array(y.data.buffer, y.data.byteOffset, y.data.byteLength);
    if (bx.every((v, i) => v === by[i])) continue;
    const isFloat = x.data instanceof Float32Array || x.data instanceof Float64Array;
    for (let i = 0; i < x.data.length; i++) {
      const u = x.data[i]!;
      const v = y.data[i]!;
      if (Object.is(u, v) || (isFloat && Number.isNaN(u) && Number.isNaN(v))) continue;
      if (!isFloat && u === v) continue;
      return `${name}[${i}]: ${u} vs ${v}`;
    }
    if (!isFloat) return `${name}: bytes differ`;
  }
  return undefined;
}
