/**
 * The teacher side of distillation: compatibility checks, and three ways to get the teacher's
 * outputs for a training batch.
 *
 *   cache   one onnxruntime pass over the (un-augmented) training samples before training; logits
 *           stored as float32 [N, C] (60,000 × 10 → 2.4 MB) and fed per batch by sample index.
 *           The teacher is frozen, so every epoch would compute the same numbers.
 *   run     a separate onnxruntime run of the teacher on each batch as the student sees it
 *           (augmented batches, feature maps, which are too big to cache: 60k × 32×14×14 floats
 *           would be 1.5 GB)
 *   graph   the teacher's nodes copied into the student's training-step graph, reading the same
 *           input: one session run per step. Its weights stay constants and the autodiff driver
 *           skips nodes no trainable value depends on, so it adds forward work only.
 */
import { LitheError } from '../errors.js';
import type { GraphBuilder } from '../graph/builder.js';
import { Node, Value, type Dim, type Model } from '../graph/ir.js';
import { computeShapes, inferNode } from '../graph/shape-inference.js';
import { Tensor } from '../graph/tensor.js';
import { makeBatch, type Preprocess } from '../data/batcher.js';
import type { Dataset } from '../data/dataset.js';
import { DataType } from '../onnx/proto.js';
import { createSession, type Session } from '../runtime/session.js';
import type { HostTensor } from '../runtime/tensors.js';
import { cloneModel as clone } from '../onnx/io.js';

export type TeacherMode = 'cache' | 'run' | 'graph';

/** The model's one data input (the first graph input that is not an initializer). */
export function dataInput(m: Model, label: string): Value {
  const inputs = m.graph.inputs.filter((v) => !v.initializer);
  if (inputs.length !== 1) throw new LitheError('E_BAD_MODEL', `${label}: distillation needs one data input, found ${inputs.map((v) => `"${v.name}"`).join(', ') || 'none'}`);
  return inputs[0]!;
}

/** Shapes of every value with the batch dimension bound to `batch`, by value name. */
export function shapesAt(m: Model, batch: number, label: string): Map<string, Dim[] | undefined> {
  const input = dataInput(m, label);
  const s = input.shape;
  if (!s || s.length === 0) throw new LitheError('E_BAD_MODEL', `${label}: input "${input.name}" has no shape`);
  const types = computeShapes(m, { inputShapes: new Map([[input, [batch, ...s.slice(1)]]]) });
  const out = new Map<string, Dim[] | undefined>();
  for (const [v, t] of types) out.set(v.name, t.shape);
  return out;
}

export interface ModelSignature {
  /** Input shape without the batch dim, e.g. [1, 28, 28]. */
  sample: Dim[];
  classes: number;
}

/** The per-sample input shape and the class count of a classifier with output [N, C]. */
export function signature(m: Model, label: string): ModelSignature {
  const input = dataInput(m, label);
  const out = m.graph.outputs[0];
  if (!out) throw new LitheError('E_BAD_MODEL', `${label}: model has no output`);
  const shape = shapesAt(m, 1, label).get(out.name) ?? out.shape;
  const classes = shape?.length === 2 ? shape[1] : undefined;
  if (typeof classes !== 'number') throw new LitheError('E_BAD_MODEL', `${label}: output "${out.name}" must be logits [N, C] with a known C, is [${shape?.join(', ') ?? '?'}]`);
  return { sample: (input.shape ?? []).slice(1), classes };
}

/** Throws, naming both models, when teacher and student disagree on classes or input shape (or with the data). */
export function checkCompatible(teacher: Model, student: Model, labels: { teacher: string; student: string }, data?: Dataset): void {
  const t = signature(teacher, labels.teacher);
  const s = signature(student, labels.student);
  if (t.classes !== s.classes) throw new LitheError('E_BAD_INPUT', `teacher ${labels.teacher} has ${t.classes} classes but student ${labels.student} has ${s.classes}`);
  const known = (d: Dim): d is number => typeof d === 'number';
  const same = t.sample.length === s.sample.length && t.sample.every((d, i) => !known(d) || !known(s.sample[i]!) || d === s.sample[i]);
  if (!same) throw new LitheError('E_BAD_INPUT', `teacher ${labels.teacher} takes input [N, ${t.sample.join(', ')}] but student ${labels.student} takes [N, ${s.sample.join(', ')}]`);
  if (!data) return;
  if (data.classes.length !== s.classes) throw new LitheError('E_BAD_INPUT', `${data.name} has ${data.classes.length} classes but the models have ${s.classes}`);
  const fits = data.sampleShape.length === s.sample.length && data.sampleShape.every((d, i) => !known(s.sample[i]!) || d === s.sample[i]);
  if (!fits) throw new LitheError('E_BAD_INPUT', `${data.name} has samples [${data.sampleShape.join(', ')}] but the models take [${s.sample.join(', ')}]`);
}

/** The teacher model with `extra` values (feature maps) appended to its outputs, shapes inferred. */
function withOutputs(teacher: Model, extra: readonly string[], label: string): Model {
  const m = clone(teacher);
  const shapes = shapesAt(m, 1, label);
  for (const name of extra) {
    if (m.graph.outputs.some((o) => o.name === name)) continue;
    const v = m.graph.findValue(name);
    if (!v) throw new LitheError('E_USAGE', `${label}: no value "${name}"`);
    const s = shapes.get(name);
    v.setTensorType(DataType.FLOAT, s ? ['N', ...s.slice(1)] : undefined);
    m.graph.outputs.push(v);
  }
  return m;
}

export interface TeacherRunner {
  /** Teacher outputs for one float batch: logits [n, C], then each extra value. */
  run(x: Float32Array, dims: number[]): Promise<HostTensor[]>;
  release(): Promise<void>;
}

/** An onnxruntime session of the teacher that returns its logits and the `extra` values. */
export async function teacherRunner(teacher: Model, extra: readonly string[], opts: { label: string; threads?: number }): Promise<TeacherRunner> {
  const m = withOutputs(teacher, extra, opts.label);
  const input = dataInput(m, opts.label).name;
  const names = [m.graph.outputs[0]!.name, ...extra];
  const session: Session = await createSession(m, { label: `teacher ${opts.label}`, threads: opts.threads, allowSpinning: false });
  return {
    async run(x, dims) {
      const out = await session.run({ [input]: { dtype: DataType.FLOAT, dims, data: x } }, names);
      return names.map((n) => out[n]!);
    },
    release: () => session.release(),
  };
}

/**
 * Teacher logits for `indices` (default: every sample) of the un-augmented dataset, in one pass:
 * row i of the [ds.size, C] result holds sample i's logits (rows outside `indices` stay zero).
 */
export async function cacheTeacherLogits(
  runner: TeacherRunner,
  ds: Dataset,
  classes: number,
  opts: { indices?: Uint32Array; batch?: number; preprocess?: Preprocess; onBatch?: (n: number) => void } = {},
): Promise<Float32Array> {
  const indices = opts.indices ?? Uint32Array.from({ length: ds.size }, (_, i) => i);
  const size = opts.batch ?? 500;
  const cache = new Float32Array(ds.size * classes);
  for (let start = 0; start < indices.length; start += size) {
    const idx = indices.subarray(start, Math.min(indices.length, start + size));
    const b = makeBatch(ds, idx, opts.preprocess);
    const [logits] = await runner.run(b.x, b.dims);
    const d = logits!.data as Float32Array;
    if (logits!.dims[1] !== classes) throw new LitheError('E_BAD_MODEL', `teacher returned logits [${logits!.dims.join(', ')}], expected [${idx.length}, ${classes}]`);
    for (let k = 0; k < idx.length; k++) cache.set(d.subarray(k * classes, (k + 1) * classes), idx[k]! * classes);
    opts.onBatch?.(idx.length);
  }
  return cache;
}

/** The cached rows of `indices`, as a [n, C] feed. */
export function cachedRows(cache: Float32Array, classes: number, indices: Uint32Array): HostTensor {
  const out = new Float32Array(indices.length * classes);
  for (let k = 0; k < indices.length; k++) out.set(cache.subarray(indices[k]! * classes, (indices[k]! + 1) * classes), k * classes);
  return { dtype: DataType.FLOAT, dims: [indices.length, classes], data: out };
}

/**
 * Copies the teacher's nodes into the graph `g` builds, reading `input` instead of the teacher's
 * own input, under the prefix `teacher/`. Weights become constant initializers (never trainable:
 * they are added after the training graph chose its parameters). Returns the copies of the
 * teacher's logits and of each `extra` value.
 */
export function embedTeacher(g: GraphBuilder, teacher: Model, input: Value, extra: readonly string[], label: string): Value[] {
  const opset = teacher.opset('') ?? 17;
  if (opset !== g.opset) throw new LitheError('E_USAGE', `teacher ${label} is opset ${opset} and the student opset ${g.opset}: the teacher cannot run inside the student's graph (use --teacher-mode run)`);
  const t = clone(teacher);
  const graph = g.graph;
  const map = new Map<Value, Value>([[dataInput(t, label), input]]);
  const rename = (name: string) => graph.uniqueName(`teacher/${name}`);
  for (const [name, v] of t.graph.initializers) {
    const tensor = v.initializer!;
    map.set(v, graph.addInitializer(Tensor.fromArray(tensor.dtype, [...tensor.dims], tensor.toArray()), rename(name)));
  }
  for (const n of t.graph.nodes) {
    if (n.subgraphs().length) throw new LitheError('E_UNSUPPORTED_OP', `teacher ${label}: ${n.describe()} has a subgraph; use --teacher-mode run`);
    const inputs = n.inputs.map((v) => {
      if (!v) return null;
      const m = map.get(v);
      if (!m) throw new LitheError('E_BAD_MODEL', `teacher ${label}: ${n.describe()} reads "${v.name}", which nothing defines`);
      return m;
    });
    const outputs = n.outputs.map((o) => {
      const copy = new Value(o.name ? rename(o.name) : '');
      map.set(o, copy);
      return copy;
    });
    const node = new Node({ opType: n.opType, domain: n.domain, name: `teacher/${n.name}`, inputs, outputs, attributes: [...n.attributes.values()] });
    graph.append(node);
    inferNode(node, g.opset);
  }
  return [t.graph.outputs[0]!.name, ...extra].map((name) => {
    const v = t.graph.findValue(name);
    const copy = v && map.get(v);
    if (!copy) throw new LitheError('E_USAGE', `teacher ${label}: no value "${name}"`);
    return copy;
  });
}
