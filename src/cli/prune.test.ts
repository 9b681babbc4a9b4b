import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { runCommand } from './testing.js';
import { pruneCommand } from './prune.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-prune-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const save = (arch: string) => {
  const f = join(dir, `${arch}.onnx`);
  saveModel(buildArchitecture(arch), f);
  return f;
};
async function prune(argv: string[]) {
  const io = await runCommand(pruneCommand, argv);
  return { io, json: io.stdout.length === 1 ? JSON.parse(io.stdout[0]!) : undefined };
}

test('lithe prune ref-cnn --sparsity 0.9 --json: exact zeros, dense file, gzip well under the dense one', async () => {
  const f = save('ref-cnn');
  const out = join(dir, 'ref-cnn.s90.onnx');
  const { json } = await prune([f, '-o', out, '--sparsity', '0.9', '--json']);
  assert.equal(json.weights.zeros, Math.round(0.9 * 206_736));
  assert.equal(json.after.params, json.before.params, 'dense: same parameter count');
  assert.ok(json.after.gzipBytes / json.before.gzipBytes < 0.2, `gzip ratio ${json.after.gzipBytes / json.before.gzipBytes}`);
  assert.equal(loadModel(out).graph.nodes.length, loadModel(f).graph.nodes.length);
});

test('lithe prune teacher --structured --target-macs 0.5: MACs halved, text summary', async () => {
  const f = save('teacher');
  const out = join(dir, 'teacher.half.onnx');
  const { io } = await prune([f, '-o', out, '--structured', '--target-macs', '0.5']);
  const text = io.stdout.join('\n');
  assert.match(text, /features\.0 +32 +\d+/);
  assert.match(text, /classifier\.4 +10 +10 +graph output "logits"/);
  const macs = text.match(/MACs +([\d.]+ M) +([\d.]+ M) +([\d.]+)/)!;
  assert.ok(Number(macs[3]) <= 0.5, macs[0]);
});

test('user errors name the flag or node', async () => {
  const f = save('student');
  const out = join(dir, 'x.onnx');
  await assert.rejects(prune([f, '-o', out, '--exclude', 'fc9']), /--exclude: no node named 'fc9'. Prunable layers: conv1, fc/);
  await assert.rejects(prune([f, '-o', out, '--finetune-epochs', '1']), /--finetune-epochs needs --data/);
  await assert.rejects(prune([f, '-o', out, '--method', 'taylor']), /--method taylor needs --data/);
  await assert.rejects(prune([f, '-o', out, '--structured', '--method', 'random']), /--structured ranks channels by l1, l2 or taylor/);
  await assert.rejects(prune([f, '-o', out, '--finetune-epochs', '1', '--data', 'fashion-mnist-mini', '--mean', '0.1,0.2']), /mean has 2 values for 1 channels/);
  await assert.rejects(prune([f, '-o', f]), /would overwrite the input model/);
});

test('lithe prune teacher --structured --method taylor --finetune-epochs 1: MACs ≤ 0.5, top-1 before, after pruning and after fine-tuning', async () => {
  const out = join(dir, 'teacher.taylor.onnx');
  const argv = ['data/teacher/teacher.onnx', '--structured', '--target-macs', '0.5', '--method', 'taylor', '--taylor-batches', '2'];
  const { json } = await prune([...argv, '-o', out, '--finetune-epochs', '1', '--lr-schedule', 'constant', '--limit', '128', '--data', 'fashion-mnist-mini', '--eval-limit', '300', '--json']);
  assert.equal(json.method, 'taylor');
  assert.deepEqual(json.finetune, { batch: 64, lr: 2e-3, lrSchedule: 'constant', optimizer: 'adam', samples: 128 });
  assert.ok(json.after.macs <= 0.5 * json.before.macs, `MACs ${json.after.macs}/${json.before.macs}`);
  assert.ok(json.before.top1 > 0.85, `bundled teacher on 300 real test images: ${json.before.top1}`);
  assert.equal(typeof json.prunedTop1, 'number');
  // the pruned model without fine-tuning, written and measured by the CLI: the same top-1
  const { json: plain } = await prune([...argv, '-o', join(dir, 'teacher.taylor0.onnx'), '--data', 'fashion-mnist-mini', '--eval-limit', '300', '--json']);
  assert.equal(plain.after.top1, json.prunedTop1);
  assert.notEqual(json.after.top1, json.prunedTop1, 'fine-tuning changed the model');
});
