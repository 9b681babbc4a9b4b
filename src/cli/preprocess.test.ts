/**
 * A model trained on normalised images, x = (pixel/255 − μ)/σ (PyTorch's Normalize), must be
 * evaluated, calibrated, fine-tuned, trained and distilled on those inputs: --mean/--std reach every
 * batch of every command. The fixture is the bundled (trained) teacher behind an input layer that
 * undoes the normalisation, x·σ + μ, so it is the teacher for normalised inputs; fed plain
 * pixels/255 instead, its first Conv would see values in [μ, μ + σ] instead of [0, 1].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '../graph/builder.js';
import type { Model } from '../graph/ir.js';
import { cloneModel, loadModel, saveModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { compressCommand } from './compress.js';
import { distillCommand } from './distill.js';
import { pruneCommand } from './prune.js';
import { quantizeCommand } from './quantize.js';
import { trainCommand } from './train.js';
import { litheJson, runCommand, tempDir } from './testing.js';

const MEAN = 0.286;
const STD = 0.353;
const NORM = ['--mean', String(MEAN), '--std', String(STD)];
const teacherFile = join(fileURLToPath(import.meta.url), '../../../data/teacher/teacher.onnx');
const dir = tempDir();

/** `m` for inputs (p/255 − μ)/σ: a new input "input", then x·σ + μ ("pixels") into the old one. */
function forNormalizedInputs(m: Model): Model {
  const out = cloneModel(m);
  const old = out.graph.inputs[0]!;
  old.name = 'pixels';
  const g = new GraphBuilder({ graph: out.graph });
  g.insertBefore(out.graph.nodes[0]!);
  const x = g.input('input', DataType.FLOAT, old.shape!);
  const pixels = g.Add(g.Mul(x, g.scalar(STD)), g.scalar(MEAN));
  old.replaceAllUsesWith(pixels);
  out.graph.inputs.splice(out.graph.inputs.indexOf(old), 1);
  return out;
}

const normalized = join(dir, 'teacher.normalized.onnx');
saveModel(forNormalizedInputs(loadModel(teacherFile)), normalized);
const json = async (cmd: Parameters<typeof runCommand>[0], argv: string[]) => JSON.parse((await runCommand(cmd, [...argv, '--json'])).stdout.at(-1)!);
const plain = (await litheJson<{ top1: number }>('eval', teacherFile, '--data', 'fashion-mnist-mini')).top1;

test('the fixture: with --mean/--std the wrapped teacher scores what the teacher does on pixels/255', async () => {
  const r = await litheJson<{ top1: number; samples: number }>('eval', normalized, '--data', 'fashion-mnist-mini', ...NORM);
  // x·σ + μ rounds differently from p/255 in the last bit: at most a near-tie or two may flip
  assert.ok(Math.abs(r.top1 - plain) <= 2 / r.samples, `${r.top1} vs ${plain}`);
  const raw = await litheJson<{ top1: number }>('eval', normalized, '--data', 'fashion-mnist-mini');
  assert.ok(raw.top1 < plain - 0.05, `without the flags the inputs are wrong: ${raw.top1} vs ${plain}`);
});

test('quantize --mode static: calibration on normalised inputs gives the first Conv the range [0, 1]', async () => {
  const out = join(dir, 'q.onnx');
  const s = await json(quantizeCommand, [normalized, '-o', out, '--mode', 'static', '--calib', 'fashion-mnist-mini', '--calib-size', '256', '--eval', 'fashion-mnist-mini', ...NORM]);
  assert.ok(s.evaluation.dropPp < 1, `drop ${s.evaluation.dropPp} pp`);
  assert.ok(Math.abs(s.evaluation.floatTop1 - plain) <= 0.001);
  const q = loadModel(out);
  const pixels = q.graph.nodes.find((n) => n.opType === 'QuantizeLinear' && n.input(0)!.producer()?.opType === 'Add')!;
  const scale = (q.graph.initializers.get(pixels.input(1)!.name)?.initializer ?? pixels.input(1)!.producer()!.getTensor('value')!).toArray()[0] as number;
  // uint8 over [0, 1] (calibrated on /255 pixels it would be [0, μ + σ] = [0, 0.639])
  assert.ok(Math.abs(scale * 255 - 1) < 0.01, `input range ${scale * 255}`);
});

test('prune --finetune-epochs: fine-tuning on normalised inputs is fine-tuning the teacher (was a usage error)', async () => {
  const args = ['--sparsity', '0.5', '--finetune-epochs', '1', '--data', 'fashion-mnist-mini', '--limit', '256'];
  const s = await json(pruneCommand, [normalized, '-o', join(dir, 'p.onnx'), ...args, ...NORM]);
  const ref = await json(pruneCommand, [teacherFile, '-o', join(dir, 'p.ref.onnx'), ...args]);
  assert.ok(Math.abs(s.before.top1 - plain) <= 0.001);
  // the same masks and steps on the same inputs, up to float rounding of x·σ + μ
  assert.ok(Math.abs(s.after.top1 - ref.after.top1) <= 0.005, `after fine-tuning ${s.after.top1}, teacher pruned and fine-tuned the same way ${ref.after.top1}`);
});

test('train: the per-epoch test accuracy is lithe eval of the written model with the same flags', async () => {
  const out = join(dir, 't.onnx');
  const io = await runCommand(trainCommand, ['ref-cnn', '--data', 'fashion-mnist-mini', '--epochs', '1', '--limit', '512', '--threads', '1', '-o', out, '--json', ...NORM]);
  const epoch = JSON.parse(io.stdout[0]!) as { testTop1: number };
  const r = await litheJson<{ top1: number; samples: number }>('eval', out, '--data', 'fashion-mnist-mini', ...NORM);
  assert.ok(Math.abs(epoch.testTop1 - r.top1) <= 1 / r.samples, `${epoch.testTop1} vs ${r.top1}`);
  assert.ok(r.top1 > 0.5, `${r.top1}`);
});

test('distill: the teacher is evaluated (and its logits cached) on the normalised inputs', async () => {
  const s = await json(distillCommand, ['--teacher', normalized, '--student', 'student', '--data', 'fashion-mnist-mini', '--epochs', '1', '--limit', '256', '--threads', '1', '-o', join(dir, 'd.onnx'), ...NORM]);
  assert.ok(Math.abs(s.teacherTop1 - plain) <= 0.001, `${s.teacherTop1} vs ${plain}`);
  assert.ok(s.top1 > 0.5, `${s.top1}`);
});

test('compress: every step (prune fine-tuning, calibration) and every measurement uses the flags', async () => {
  const recipe = join(dir, 'pq.yaml');
  writeFileSync(recipe, 'steps:\n  - kind: prune\n    sparsity: 0.3\n    finetune-epochs: 1\n    limit: 128\n  - kind: quantize\n    calib-size: 128\n    sensitivity: false\n');
  const s = await json(compressCommand, [normalized, '--recipe', recipe, '--data', 'fashion-mnist-mini', '-o', join(dir, 'pq'), '--runs', '2', ...NORM]);
  const [input, pruned, quant] = s.stages as { top1: number }[];
  assert.ok(Math.abs(input!.top1 - plain) <= 0.001, `input ${input!.top1} vs ${plain}`);
  assert.ok(pruned!.top1 > plain - 0.03 && quant!.top1 > pruned!.top1 - 0.01, `prune ${pruned!.top1}, quantize ${quant!.top1}, float ${plain}`);
});
