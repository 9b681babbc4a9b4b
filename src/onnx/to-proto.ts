/**
 * IR → ModelProto, the inverse of from-proto.ts. Links become names again:
 *   graph.input     every graph input (initializers that are also inputs included), with its type
 *   initializer     graph.initializers in order; payloads as loaded (raw_data or typed fields),
 *                   or moved to external data by `placeTensor`
 *   value_info      every typed (or described-in-the-file) intermediate: initializers, node
 *                   outputs and undefined names that are neither graph inputs nor outputs, then
 *                   entries kept from the file that described nothing here
 *   node.input      the Value's name, '' for an omitted optional input
 *
 * Shape inference types values in place, so a saved model carries the shapes lithe computed,
 * which is what onnx's own tools do (onnx.shape_inference writes value_info).
 */
import { Graph, Model, Node, Value, type Attribute } from '../graph/ir.js';
import type { Tensor } from '../graph/tensor.js';
import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
} from './proto.js';
import { opsetUnknown, outputInfo, valueExtras } from './ir-extras.js';

/** Where a tensor's payload goes: the default keeps it in the file (raw_data or typed fields). */
export type TensorPlacer = (t: Tensor) => Pick<TensorProto, 'rawData' | 'externalData' | 'dataLocation'> | undefined;

export function tensorToProto(t: Tensor, place?: TensorPlacer): TensorProto {
  const p: TensorProto = { dims: [...t.dims], dataType: t.dtype, name: t.name };
  if (t.segment) p.segment = t.segment;
  const placed = place?.(t);
  if (placed) Object.assign(p, placed);
  else if (t.isRaw) p.rawData = t.bytes();
  else if (t.fieldPayload) Object.assign(p, t.fieldPayload);
  if (t.docString !== undefined) p.docString = t.docString;
  if (t.metadataProps) p.metadataProps = t.metadataProps;
  if (t.unknown) p.unknown = t.unknown;
  return p;
}

function valueInfo(v: Value): ValueInfoProto {
  const p: ValueInfoProto = { name: v.name };
  if (v.type) p.type = v.type;
  if (v.docString !== undefined) p.docString = v.docString;
  if (v.metadataProps) p.metadataProps = v.metadataProps;
  const unknown = valueExtras(v)?.unknown;
  if (unknown) p.unknown = unknown;
  return p;
}

/** Whether a value gets a value_info entry: it has a type, or the file described it. */
const describable = (v: Value) => v.type !== undefined || valueExtras(v)?.listed === true;

function attributeToProto(a: Attribute, place?: TensorPlacer): AttributeProto {
  const { t, g, tensors, graphs, ...rest } = a;
  const p: AttributeProto = { ...rest };
  if (t) p.t = tensorToProto(t, place);
  if (tensors) p.tensors = tensors.map((x) => tensorToProto(x, place));
  if (g) p.g = graphToProto(g, place);
  if (graphs) p.graphs = graphs.map((x) => graphToProto(x, place));
  return p;
}

function nodeToProto(n: Node, place?: TensorPlacer): NodeProto {
  const p: NodeProto = {
    input: n.inputs.map((v) => v?.name ?? ''),
    output: n.outputs.map((v) => v.name),
    opType: n.opType,
    attribute: [...n.attributes.values()].map((a) => attributeToProto(a, place)),
  };
  if (n.name) p.name = n.name;
  if (n.domain) p.domain = n.domain;
  if (n.overload !== undefined) p.overload = n.overload;
  if (n.docString !== undefined) p.docString = n.docString;
  if (n.metadataProps) p.metadataProps = n.metadataProps;
  if (n.unknown) p.unknown = n.unknown;
  return p;
}

export function graphToProto(g: Graph, place?: TensorPlacer): GraphProto {
  const outputs = new Set(g.outputs);
  const inputs = new Set(g.inputs);
  const described: ValueInfoProto[] = [];
  const intermediate = (v: Value) => describable(v) && v.name !== '' && !inputs.has(v) && !outputs.has(v);
  for (const v of g.initializers.values()) if (intermediate(v)) described.push(valueInfo(v));
  for (const n of g.nodes) for (const v of n.outputs) if (intermediate(v)) described.push(valueInfo(v));
  // Names nothing defines here (a sparse initializer's, or an invalid reference) may be described too.
  for (const v of g.unresolved) if (intermediate(v)) described.push(valueInfo(v));
  const p: GraphProto = {
    node: g.nodes.map((n) => nodeToProto(n, place)),
    name: g.name,
    initializer: [...g.initializers.values()].map((v) => tensorToProto(v.initializer!, place)),
    sparseInitializer: g.sparseInitializers,
    input: g.inputs.map(valueInfo),
    output: g.outputs.map((v) => outputInfo(g, v) ?? valueInfo(v)),
    valueInfo: [...described, ...g.danglingValueInfo.map(valueInfo)],
    quantizationAnnotation: g.quantizationAnnotation,
  };
  if (g.docString !== undefined) p.docString = g.docString;
  if (g.metadataProps) p.metadataProps = g.metadataProps;
  if (g.unknown) p.unknown = g.unknown;
  return p;
}

export function modelToProto(m: Model, place?: TensorPlacer): ModelProto {
  const p: ModelProto = {
    irVersion: m.irVersion,
    opsetImport: [...m.opsetImports].map(([domain, version]) => {
      const unknown = opsetUnknown(m, domain);
      return unknown ? { domain, version, unknown } : { domain, version };
    }),
    metadataProps: m.metadataProps,
    functions: m.functions,
    graph: graphToProto(m.graph, place),
  };
  if (m.producerName !== undefined) p.producerName = m.producerName;
  if (m.producerVersion !== undefined) p.producerVersion = m.producerVersion;
  if (m.domain !== undefined) p.domain = m.domain;
  if (m.modelVersion !== undefined) p.modelVersion = m.modelVersion;
  if (m.docString !== undefined) p.docString = m.docString;
  if (m.trainingInfo) p.trainingInfo = m.trainingInfo;
  if (m.configuration) p.configuration = m.configuration;
  if (m.unknown) p.unknown = m.unknown;
  return p;
}
