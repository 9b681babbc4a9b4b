/**
 * ModelProto → IR. Names become links: every node input is resolved to the Value that defines it
 * (graph input, initializer, node output), looking outward through enclosing graphs for subgraph
 * bodies (ONNX's lexical scoping), so that uses of outer values are recorded on them.
 *
 * Lossless by construction: every proto field has a home in the IR (see ir.ts), fields the codec
 * did not know ride along in `unknown`, and model-local functions are kept as protos. A name that
 * nothing defines (invalid, but ORT is the judge of that) becomes a Value with no producer, so the
 * model still saves as it was loaded.
 *
 * Tensor payloads are not copied: raw_data stays a view into the file's bytes; external data is
 * resolved by `external` (io.ts) into a view of the external file.
 */
import { Attribute, Graph, Model, Node, Value } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { markListed, setOpsetUnknown, setOutputInfo } from './ir-extras.js';
import {
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';

/** Resolves an external tensor's bytes; io.ts supplies it with the file checks. */
export type ExternalResolver = (t: TensorProto) => Uint8Array;

export function tensorFromProto(t: TensorProto, external: ExternalResolver): Tensor {
  let out: Tensor;
  if (t.dataLocation === 1) {
    out = new Tensor(t.dataType, [...t.dims], external(t), t.name);
    out.externalSource = t.externalData;
  } else if (t.rawData) {
    out = new Tensor(t.dataType, [...t.dims], t.rawData, t.name);
  } else {
    const { floatData, int32Data, int64Data, doubleData, uint64Data, stringData } = t;
    const fields = Object.fromEntries(
      Object.entries({ floatData, int32Data, int64Data, doubleData, uint64Data, stringData }).filter(([, v]) => v !== undefined),
    );
    out = new Tensor(t.dataType, [...t.dims], fields, t.name);
  }
  out.docString = t.docString;
  out.metadataProps = t.metadataProps;
  out.segment = t.segment;
  out.unknown = t.unknown;
  return out;
}

class Scope {
  private readonly names = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}
  define(v: Value): void {
    this.names.set(v.name, v);
  }
  lookup(name: string): Value | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  has(name: string): boolean {
    return this.names.has(name);
  }
}

function applyInfo(v: Value, info: ValueInfoProto): void {
  v.type = info.type;
  v.docString = info.docString;
  v.metadataProps = info.metadataProps;
  markListed(v, info.unknown);
}

function attributeFromProto(a: AttributeProto, scope: Scope, external: ExternalResolver): Attribute {
  const { t, g, tensors, graphs, ...rest } = a;
  const out: Attribute = { ...rest };
  if (t) out.t = tensorFromProto(t, external);
  if (tensors) out.tensors = tensors.map((x) => tensorFromProto(x, external));
  if (g) out.g = graphFromProto(g, scope, external);
  if (graphs) out.graphs = graphs.map((x) => graphFromProto(x, scope, external));
  return out;
}

function nodeFromProto(n: NodeProto, scope: Scope, graph: Graph, external: ExternalResolver): Node {
  const inputs = n.input.map((name) => {
    if (name === '') return null;
    let v = scope.lookup(name);
    if (!v) {
      v = new Value(name); // undefined reference, kept so the model saves as it was
      scope.define(v);
      graph.unresolved.push(v);
    }
    return v;
  });
  // Subgraphs see the values defined so far in this graph and outer graphs.
  const attributes = n.attribute.map((a) => attributeFromProto(a, scope, external));
  const node = new Node({ opType: n.opType, domain: n.domain, name: n.name, inputs, attributes, docString: n.docString });
  node.overload = n.overload;
  node.metadataProps = n.metadataProps;
  node.unknown = n.unknown;
  for (const name of n.output) {
    const v = new Value(name);
    node.appendOutput(v);
    if (name !== '') scope.define(v);
  }
  return node;
}

function graphFromProto(p: GraphProto, outer: Scope | null, external: ExternalResolver): Graph {
  const g = new Graph(p.name);
  const scope = new Scope(outer);
  g.docString = p.docString;
  g.metadataProps = p.metadataProps;
  g.sparseInitializers = p.sparseInitializer;
  g.quantizationAnnotation = p.quantizationAnnotation;
  g.unknown = p.unknown;
  for (const t of p.initializer) {
    const v = g.addInitializer(tensorFromProto(t, external), t.name);
    scope.define(v);
  }
  for (const s of p.sparseInitializer) {
    // Sparse initializers are kept as protos; nodes still need a Value to refer to.
    const name = s.values?.name ?? '';
    if (name && !scope.has(name)) {
      const v = new Value(name);
      scope.define(v);
      g.unresolved.push(v);
    }
  }
  for (const info of p.input) {
    const v = g.initializers.get(info.name) ?? new Value(info.name);
    applyInfo(v, info);
    g.addInput(v);
    scope.define(v);
  }
  for (const n of p.node) {
    const node = nodeFromProto(n, scope, g, external);
    g.append(node);
  }
  // value_info describes values of this graph; the IR keeps it on the Value (Value.type), and
  // save writes it back for every typed intermediate. Entries that describe nothing here, repeat
  // a name, or describe a graph input or output (which carry their own ValueInfoProto, and would
  // overwrite or be overwritten by it) are kept aside as they are.
  const described = new Set<Value>();
  const outputNames = new Set(p.output.map((o) => o.name));
  for (const info of p.valueInfo) {
    const v = scope.has(info.name) ? scope.lookup(info.name)! : undefined;
    if (v && !described.has(v) && !g.inputs.includes(v) && !outputNames.has(v.name) && v.name !== '') {
      described.add(v);
      applyInfo(v, info);
    } else {
      const d = new Value(info.name);
      applyInfo(d, info);
      g.danglingValueInfo.push(d);
    }
  }
  for (const info of p.output) {
    let v = scope.lookup(info.name);
    if (!v) {
      v = new Value(info.name);
      scope.define(v);
      g.unresolved.push(v);
    }
    // An output that is also an input is one Value with two descriptions; keep the output's.
    if (g.inputs.includes(v)) setOutputInfo(g, v, info);
    else applyInfo(v, info);
    g.outputs.push(v);
  }
  return g;
}

export function modelFromProto(p: ModelProto, external: ExternalResolver): Model {
  const graph = p.graph ? graphFromProto(p.graph, null, external) : new Graph('');
  const m = new Model(graph, { irVersion: p.irVersion });
  m.opsetImports.clear();
  for (const o of p.opsetImport) {
    m.opsetImports.set(o.domain, o.version);
    if (o.unknown) setOpsetUnknown(m, o.domain, o.unknown);
  }
  m.producerName = p.producerName;
  m.producerVersion = p.producerVersion;
  m.domain = p.domain;
  m.modelVersion = p.modelVersion;
  m.docString = p.docString;
  m.metadataProps = p.metadataProps;
  m.functions = p.functions;
  m.trainingInfo = p.trainingInfo;
  m.configuration = p.configuration;
  m.unknown = p.unknown;
  return m;
}
