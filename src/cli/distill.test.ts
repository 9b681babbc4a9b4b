import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GraphBuilder } from '../graph/builder.js';
import { buildArchitecture } from '../models/index.js';
import { DataType } from '../onnx/proto.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { distillCommand } from './distill.js';
import { LitheError } from '../errors.js';
import { runCommand } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-distill-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const save = (name: string, m = buildArchitecture(name)) => {
  const f = join(dir, `${name}.onnx`);
  saveModel(m, f);
  return f;
};
const teacher = save('ref-cnn');
const out = join(dir, 'out.onnx');

const distill = (argv: string[]) => runCommand(distillCommand, argv);

test('lithe distill --json on the bundled subset: per-epoch records, a summary measured on the written file', async () => {
  const io = await distill(['--teacher', teacher, '--student', 'student', '--data', 'fashion-mnist-mini', '--epochs', '1', '--limit', '256', '--threads', '1', '-o', out, '--json']);
  const records = io.stdout.map((l) => JSON.parse(l));
  assert.equal(records.length, 2);
  assert.equal(records[0].epoch, 1);
  const s = records[1];
  assert.equal(s.output, out);
  assert.equal(s.teacherMode, 'cache');
  assert.equal(s.data.trainSamples, 256);
  assert.ok(s.top1 > 0 && s.top1 <= 1 && s.teacherTop1 >= 0);
  assert.deepEqual(io.stderr, [], '--json prints nothing else');
  assert.deepEqual(loadModel(out).graph.nodes.map((n) => n.name), ['conv1', 'relu1', 'pool1', 'flatten', 'fc']);
  rmSync(out);
});

/** A classifier on [N, 1, 14, 14] images: the wrong input shape for Fashion-MNIST models. */
function smallInput() {
  const g = new GraphBuilder();
  const x = g.input('input', DataType.FLOAT, ['N', 1, 14, 14]);
  g.output(g.Gemm(g.Flatten(x), g.initializer('w', new Float32Array(196 * 10), [196, 10])), 'logits');
  return g.model();
}

test('bad input: one-line errors naming the models, node or flag; nothing written', async () => {
  const five = save('student5', buildArchitecture('student', { numClasses: 5 }));
  const small = save('small', smallInput());
  const cases: [string[], RegExp][] = [
    [['--student', five], /^teacher .*ref-cnn\.onnx has 10 classes but student .*student5\.onnx has 5$/],
    [['--student', small], /^teacher .*ref-cnn\.onnx takes input \[N, 1, 28, 28\] but student .*small\.onnx takes \[N, 1, 14, 14\]$/],
    [['--student', 'student', '--features', 'conv9:conv1'], /^--features: unknown teacher node "conv9" in .*ref-cnn\.onnx\. Nodes: input_norm.sub, input_norm, conv1, relu1, pool1, conv2, /],
    [['--student', 'student', '--features', 'pool1:pool1'], /^--features pool1:pool1: teacher node "pool1" gives \[N, 16, 14, 14\] and student node "pool1" gives \[N, 16, 13, 13\]/],
    [['--student', 'student', '--alpha', '2'], /^--alpha \(weight of the hard labels\) must be in \[0, 1\], got 2$/],
    [['--student', 'nope'], /^'nope' is neither an architecture/],
    [['--student', 'student', '--teacher-mode', 'cache', '--augment'], /^--teacher-mode cache cannot serve --augment/],
  ];
  for (const [extra, want] of cases) {
    const argv = ['--teacher', teacher, '--data', 'fashion-mnist-mini', '--epochs', '1', '--limit', '64', '-o', out, ...extra];
    // main (where the command is registered) prints a LitheError as one line, `lithe: <message>`, with no stack
    await assert.rejects(distill(argv), (e: Error) => {
      assert.ok(e instanceof LitheError, `${extra.join(' ')}: ${e.stack}`);
      assert.match(e.message, want);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    assert.ok(!existsSync(out), `${extra.join(' ')}: nothing written`);
  }
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});
