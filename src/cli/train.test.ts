import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModel } from '../onnx/io.js';
import { runCommand } from './testing.js';
import { trainCommand } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const train = (argv: string[]) => runCommand(trainCommand, argv);

test('lithe train --augment --schedule onecycle --optimizer adamw --json: one record per epoch, a loadable model', async () => {
  const out = join(dir, 'ref-cnn.onnx');
  const io = await train([
    'ref-cnn',
    '--data',
    'fashion-mnist-mini',
    '--limit',
    '256',
    '--epochs',
    '2',
    '--augment',
    '--schedule',
    'onecycle',
    '--optimizer',
    'adamw',
    '--lr',
    '3e-3',
    '--weight-decay',
    '0.01',
    '--json',
    '-o',
    out,
  ]);
  const records = io.stdout.map((l) => JSON.parse(l) as { epoch: number; testTop1: number; lr: number });
  assert.deepEqual(
    records.map((r) => r.epoch),
    [1, 2],
  );
  assert.ok(records[1]!.lr < 1e-6, `one-cycle ends near lr/25/1e4, got ${records[1]!.lr}`);
  assert.ok(
    records.every((r) => r.testTop1 > 0.1),
    `test top-1 ${records.map((r) => r.testTop1)}`,
  );
  assert.equal(loadModel(out).graph.outputs[0]!.name, 'logits');
});

test('lithe train: a bad --augment-pad is a usage error and writes nothing', async () => {
  const out = join(dir, 'bad.onnx');
  await assert.rejects(train(['ref-cnn', '--data', 'fashion-mnist-mini', '--augment', '--augment-pad', '-1', '-o', out]), /augment-pad/);
  assert.equal(existsSync(out), false);
});
