/**
 * Architecture registry: name → builder. Every builder returns a fresh Model with input `input`
 * ([N,1,28,28] float; MobileNetV2 [N,C,S,S]) and output `logits`, weights drawn from a seeded RNG.
 */
import { LitheError } from '../errors.js';
import type { Model } from '../graph/ir.js';
import { buildMobileNetV2, type MobileNetV2Options } from './mobilenetv2.js';
import { buildRefCnn } from './ref-cnn.js';
import { buildStudent } from './student.js';
import { buildTeacher } from './teacher.js';

export { buildMobileNetV2, makeDivisible, type MobileNetV2Options } from './mobilenetv2.js';
export { buildRefCnn, type SmallCnnOptions } from './ref-cnn.js';
export { buildStudent } from './student.js';
export { buildTeacher, TEACHER_PARAMS } from './teacher.js';
export { Rng } from './layers.js';

/** Options understood by every architecture (each ignores what does not apply to it). */
export type ArchitectureOptions = MobileNetV2Options;

export interface Architecture {
  name: string;
  description: string;
  build(opts?: ArchitectureOptions): Model;
}

export const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  'ref-cnn': { name: 'ref-cnn', description: 'reference CNN, input normalised in the graph, 2 conv + 2 dense, 206,922 params, 28×28×1', build: buildRefCnn },
  student: { name: 'student', description: 'tiny student CNN, 1 conv + 1 dense, 27,210 params, 28×28×1', build: buildStudent },
  teacher: { name: 'teacher', description: 'VGG-style teacher, 3 blocks of 2×(Conv+BN+ReLU), 585,066 params, 28×28×1', build: buildTeacher },
  mobilenetv2: { name: 'mobilenetv2', description: 'MobileNetV2 as torchvision (width, input size, classes configurable)', build: buildMobileNetV2 },
};

/** Builds a registered architecture; unknown names get an error listing the known ones. */
export function buildArchitecture(name: string, opts: ArchitectureOptions = {}): Model {
  const arch = ARCHITECTURES[name];
  if (!arch) throw new LitheError('E_USAGE', `unknown architecture '${name}'. Known: ${Object.keys(ARCHITECTURES).join(', ')}`);
  return arch.build(opts);
}
