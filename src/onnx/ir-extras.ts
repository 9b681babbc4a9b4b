/**
 * The few proto details that src/graph/ir.ts has no field for, kept beside the IR objects they
 * belong to (weakly, so they live and die with them) so that load→save stays lossless:
 *   - a value_info entry's unknown fields, and the fact that an entry existed at all (one with
 *     no type, doc or metadata would otherwise vanish);
 *   - the ValueInfoProto of a graph output that is also a graph input (one Value, two
 *     descriptions: Loop bodies pass `cond` straight through);
 *   - an opset import's unknown fields (Model.opsetImports is a plain domain → version map).
 * If the IR grows these fields, this module goes away.
 */
import type { Graph, Model, Value } from '../graph/ir.js';
import type { UnknownFields, ValueInfoProto } from './proto.js';

interface ValueExtras {
  /** The file had a value_info (or input/output) entry for this value. */
  listed: boolean;
  unknown?: UnknownFields;
}

const values = new WeakMap<Value, ValueExtras>();
const outputInfos = new WeakMap<Graph, Map<Value, ValueInfoProto>>();
const opsets = new WeakMap<Model, Map<string, UnknownFields>>();

export function markListed(v: Value, unknown: UnknownFields | undefined): void {
  values.set(v, unknown ? { listed: true, unknown } : { listed: true });
}
export function valueExtras(v: Value): ValueExtras | undefined {
  return values.get(v);
}

export function setOutputInfo(g: Graph, v: Value, info: ValueInfoProto): void {
  (outputInfos.get(g) ?? outputInfos.set(g, new Map()).get(g)!).set(v, info);
}
export function outputInfo(g: Graph, v: Value): ValueInfoProto | undefined {
  return outputInfos.get(g)?.get(v);
}

export function setOpsetUnknown(m: Model, domain: string, unknown: UnknownFields): void {
  (opsets.get(m) ?? opsets.set(m, new Map()).get(m)!).set(domain, unknown);
}
export function opsetUnknown(m: Model, domain: string): UnknownFields | undefined {
  return opsets.get(m)?.get(domain);
}
