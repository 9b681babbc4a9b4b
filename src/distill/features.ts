/**
 * Feature distillation (FitNets, Romero et al. 2015) through a learned 1×1 adapter:
 *
 *   L_feat = Σᵢ mean((Aᵢ ∗ fˢᵢ − fᵗᵢ)²)      Aᵢ: 1×1 Conv Cs → Ct with bias, trained with the student
 *
 * fˢᵢ [N,Cs,H,W] is the output of a student node, fᵗᵢ [N,Ct,H,W] that of a teacher node. A 1×1
 * convolution maps channels only, so H and W must match. The adapters exist only in the student's
 * training model; `removeAdapters` drops them (nodes and weights) before export, so the written
 * model is the student architecture with its trained weights.
 */
import { LitheError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import type { Dim, Model } from '../graph/ir.js';
import { Rng } from '../data/rng.js';
import { shapesAt } from './teacher.js';

export interface FeaturePair {
  teacher: string;
  student: string;
}

/** `T_NODE:S_NODE,T_NODE:S_NODE` → pairs. */
export function parseFeatures(spec: string): FeaturePair[] {
  return spec.split(',').map((part) => {
    const bits = part.trim().split(':');
    if (bits.length !== 2 || !bits[0] || !bits[1]) throw new LitheError('E_USAGE', `--features: '${part.trim()}' is not TEACHER_NODE:STUDENT_NODE`);
    return { teacher: bits[0], student: bits[1] };
  });
}

export interface ResolvedFeature {
  pair: FeaturePair;
  /** Value names of the two nodes' first outputs. */
  teacherValue: string;
  studentValue: string;
  teacherShape: number[];
  studentShape: number[];
}

/** The first output of the node named `name` (or the value of that name), with its shape at batch 1. */
function resolveNode(m: Model, name: string, role: 'teacher' | 'student', label: string, shapes: Map<string, Dim[] | undefined>): { value: string; shape: Dim[] | undefined } {
  const node = m.graph.nodes.find((n) => n.name === name);
  const value = node ? node.output(0).name : m.graph.findValue(name) && !m.graph.initializers.has(name) ? name : undefined;
  if (!value) {
    const names = m.graph.nodes.map((n) => n.name).filter(Boolean);
    const list = names.length > 24 ? `${names.slice(0, 24).join(', ')}, … (${names.length} nodes)` : names.join(', ');
    throw new LitheError('E_USAGE', `--features: unknown ${role} node "${name}" in ${label}. Nodes: ${list}`);
  }
  return { value, shape: shapes.get(value) };
}

/** Resolves every pair and checks that both sides are [N,C,H,W] with the same H, W. */
export function resolveFeatures(pairs: readonly FeaturePair[], teacher: Model, student: Model, labels: { teacher: string; student: string }): ResolvedFeature[] {
  if (!pairs.length) return [];
  const ts = shapesAt(teacher, 1, labels.teacher);
  const ss = shapesAt(student, 1, labels.student);
  const show = (s: Dim[] | undefined) => (s ? `[N, ${s.slice(1).join(', ')}]` : 'an unknown shape');
  return pairs.map((pair) => {
    const t = resolveNode(teacher, pair.teacher, 'teacher', labels.teacher, ts);
    const s = resolveNode(student, pair.student, 'student', labels.student, ss);
    const ok = (d: Dim[] | undefined): d is number[] => !!d && d.length === 4 && d.every((x) => typeof x === 'number');
    if (!ok(t.shape) || !ok(s.shape) || t.shape[2] !== s.shape[2] || t.shape[3] !== s.shape[3])
      throw new LitheError(
        'E_USAGE',
        `--features ${pair.teacher}:${pair.student}: teacher node "${pair.teacher}" gives ${show(t.shape)} and student node "${pair.student}" gives ${show(s.shape)}; ` +
          'both must be [N, C, H, W] with the same H and W (the 1×1 adapter maps channels only)',
      );
    return { pair, teacherValue: t.value, studentValue: s.value, teacherShape: t.shape, studentShape: s.shape };
  });
}

export interface Adapter {
  node: string;
  weight: string;
  bias: string;
  /** The adapter's output value: the student feature mapped to the teacher's channels. */
  output: string;
}

/**
 * Adds one 1×1 Conv adapter per feature pair to `student` (in place), reading the student value,
 * weights ~ U(±1/√Cs) as nn.Conv2d initialises them. The adapters' outputs are not graph outputs.
 */
export function addAdapters(student: Model, features: readonly ResolvedFeature[], seed: number): Adapter[] {
  const g = GraphBuilder.edit(student);
  const rng = new Rng(seed ^ 0x5eed);
  return features.map((f, i) => {
    const cs = f.studentShape[1]!;
    const ct = f.teacherShape[1]!;
    const bound = 1 / Math.sqrt(cs);
    const name = `distill.adapter.${i}`;
    const w = g.initializer(`${name}.weight`, Float32Array.from({ length: ct * cs }, () => (2 * rng.float() - 1) * bound), [ct, cs, 1, 1]);
    const b = g.initializer(`${name}.bias`, Float32Array.from({ length: ct }, () => (2 * rng.float() - 1) * bound), [ct]);
    const x = student.graph.findValue(f.studentValue)!;
    const y = g.Conv(x, w, b, { name, kernel_shape: [1, 1] });
    return { node: y.producer()!.name, weight: w.name, bias: b.name, output: y.name };
  });
}

/** Removes the adapters' nodes and weights (in place) and returns the model. */
export function removeAdapters(m: Model, adapters: readonly Adapter[]): Model {
  for (const a of adapters) {
    const node = m.graph.nodes.find((n) => n.name === a.node);
    if (node) m.graph.remove(node);
    m.graph.removeInitializer(a.weight);
    m.graph.removeInitializer(a.bias);
  }
  return m;
}
