/**
 * `lithe compress` end to end on the bundled Fashion-MNIST subset, with a student trained here
 * for one epoch (seconds): every stage's file exists and loads in onnxruntime, every figure in
 * summary.json is what a fresh measurement of the saved file gives, the --max-drop budget
 * rejects a step and says so, and recipe errors are one line naming the step and option.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { countMacs, countParams } from '../analysis/profile.js';
import { batches } from '../data/batcher.js';
import { openDataset, type Dataset } from '../data/dataset.js';
import { LitheError } from '../errors.js';
import { buildArchitecture } from '../models/index.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { sparsityOf } from '../prune/unstructured.js';
import { evaluate } from '../runtime/evaluate.js';
import { createSession } from '../runtime/session.js';
import { Trainer } from '../train/trainer.js';
import { compressCommand } from '../cli/compress.js';
import { parse } from '../cli/command.js';
import { captureIO } from '../cli/main.js';
import { tempDir } from '../cli/testing.js';
import type { PipelineSummary } from './report.js';

/** Runs `lithe compress …` in-process as main() does (exit code, one-line user errors). */
async function compress(...argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const io = captureIO();
  let code = 0;
  try {
    await compressCommand.run(parse(compressCommand, argv), io);
  } catch (e) {
    if (!(e instanceof LitheError)) throw e;
    io.err(`lithe: ${e.message}`);
    code = e.exitCode;
  }
  return { code, out: io.stdout.join('\n'), err: io.stderr };
}

let dir: string;
let modelFile: string;
let test_: Dataset;

before(async () => {
  dir = tempDir();
  modelFile = join(dir, 'student.onnx');
  const [train, t] = await Promise.all([openDataset('fashion-mnist-mini', { split: 'train' }), openDataset('fashion-mnist-mini', { split: 'test' })]);
  test_ = t;
  const trainer = new Trainer(buildArchitecture('student'), { epochs: 1, batch: 64, lr: 2e-3, seed: 0, evaluate: false });
  try {
    await trainer.fit(train, undefined);
    saveModel(trainer.exportInference(), modelFile);
  } finally {
    await trainer.close();
  }
});

function recipe(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** Top-1/top-5 of a saved file through a fresh session, as `lithe eval` measures it. */
async function evaluateFile(file: string): Promise<{ top1: number; top5: number; samples: number }> {
  const session = await createSession(file);
  try {
    return await evaluate(session, batches(test_, { batchSize: 250 }), { numClasses: test_.classes.length });
  } finally {
    await session.release();
  }
}

test('compress prune → quantize: every stage saved, loadable, and re-measured to the same figures', async () => {
  const out = join(dir, 'pq');
  const r = recipe(
    'pq.yaml',
    'name: tiny\nsteps:\n  - kind: prune\n    sparsity: 0.5\n    finetune-epochs: 1\n    limit: 1000\n  - kind: quantize\n    mode: static\n    calib-size: 128\n',
  );
  const res = await compress(modelFile, '--recipe', r, '--data', 'fashion-mnist-mini', '-o', out, '--runs', '5', '--json');
  assert.equal(res.code, 0, res.err.join('\n'));
  assert.deepEqual(res.err, [], 'quiet with --json');
  const s = JSON.parse(res.out) as PipelineSummary;
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), s);
  assert.deepEqual(readdirSync(out).sort(), ['prune.onnx', 'quantize.onnx', 'report.html', 'summary.json'], 'no temporary file left behind');

  assert.deepEqual(
    s.stages.map((x) => [x.name, x.kind, x.status, x.from]),
    [
      ['input', 'input', 'input', ''],
      ['prune', 'prune', 'accepted', 'input'],
      ['quantize', 'quantize', 'accepted', 'prune'],
    ],
  );
  assert.equal(s.stages[0]!.file, modelFile);
  assert.deepEqual(s.final, { name: 'quantize', file: join(out, 'quantize.onnx') });
  assert.deepEqual(s.rejected, []);
  assert.equal(s.data.samples, 2000);
  for (const st of s.stages) {
    const model = loadModel(st.file);
    const bytes = readFileSync(st.file);
    assert.equal(st.bytes, statSync(st.file).size, st.name);
    assert.equal(st.gzipBytes, gzipSync(bytes, { level: 9 }).length, st.name);
    assert.equal(st.params, countParams(model).total, st.name);
    assert.equal(st.macs, countMacs(model, { batch: 1 }).dense, st.name);
    const ev = await evaluateFile(st.file); // loads in onnxruntime
    assert.equal(st.samples, ev.samples, st.name);
    assert.equal(st.top1, ev.top1, st.name);
    assert.equal(st.top5, ev.top5, st.name);
    assert.equal(st.latency.runs, 5);
    assert.ok(st.latency.p50Ms > 0 && st.latency.p50Ms <= st.latency.p99Ms, st.name);
    assert.ok(Math.abs(st.dropPp - 100 * (s.stages[0]!.top1 - st.top1)) < 1e-9, st.name);
  }
  const [input, pruned, quant] = s.stages as [(typeof s.stages)[0], (typeof s.stages)[0], (typeof s.stages)[0]];
  assert.ok(input.top1 > 0.6, `the one-epoch student is a real classifier: ${input.top1}`);
  assert.ok(Math.abs(sparsityOf(loadModel(pruned.file)).sparsity - 0.5) < 0.01, 'half the weights are zero');
  assert.ok(pruned.gzipBytes < 0.75 * input.gzipBytes, `zeros compress: ${pruned.gzipBytes} vs ${input.gzipBytes}`);
  assert.ok(quant.bytes < 0.4 * pruned.bytes, `int8 weights: ${quant.bytes} vs ${pruned.bytes}`);
  assert.ok(
    loadModel(quant.file).graph.nodes.some((n) => n.opType === 'QuantizeLinear'),
    'QDQ model',
  );
  assert.match(pruned.notes.join(' '), /50% unstructured \(l1, global, oneshot\), 1 epoch fine-tuning on 1000 samples/);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const needle of ['prune', 'quantize', 'input', 'conv1', 'fc', 'T-shirt/top', 'tiny', 'Quantization sensitivity per layer']) assert.ok(html.includes(needle), `report mentions ${needle}`);
});

test('compress --max-drop: a step over budget is kept aside, named with its drop, and not used', async () => {
  const out = join(dir, 'budget');
  const r = recipe('absurd.yaml', 'steps:\n  - kind: prune\n    name: prune-99\n    sparsity: 0.99\n  - kind: quantize\n    mode: fp16\n');
  const res = await compress(modelFile, '--recipe', r, '--data', 'fashion-mnist-mini', '-o', out, '--runs', '3', '--max-drop', '1');
  assert.equal(res.code, 0, res.err.join('\n'));
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as PipelineSummary;
  const [input, pruned, fp16] = s.stages;
  assert.equal(pruned!.status, 'rejected');
  assert.ok(pruned!.dropPp > 1, `99% of the weights gone without fine-tuning: ${pruned!.dropPp} pp`);
  assert.equal(pruned!.file, join(out, 'prune-99.rejected.onnx'));
  assert.ok(existsSync(pruned!.file) && !existsSync(join(out, 'prune-99.onnx')));
  assert.deepEqual(s.rejected, [{ step: 1, name: 'prune-99', dropPp: pruned!.dropPp, file: pruned!.file }]);
  // The next step started from the input, not from the rejected model: fp16 of the input keeps its accuracy.
  assert.equal(fp16!.from, 'input');
  assert.equal(fp16!.status, 'accepted');
  assert.ok(Math.abs(fp16!.top1 - input!.top1) <= 0.005, `fp16 of the input: ${fp16!.top1} vs ${input!.top1}`);
  assert.equal(sparsityOf(loadModel(join(out, 'prune-99.rejected.onnx'))).sparsity.toFixed(2), '0.99');
  assert.deepEqual(s.final, { name: 'quantize', file: join(out, 'quantize.onnx') });
  const drop = pruned!.dropPp.toFixed(2);
  assert.ok(
    res.err.some((l) => l.includes(`step 1 (prune-99) rejected`) && l.includes(`${drop} pp below input, over the --max-drop budget of 1 pp`)),
    res.err.join('\n'),
  );
  assert.match(res.out, new RegExp(`rejected: step 1 \\(prune-99\\) dropped top-1 by ${drop} pp, over the 1 pp budget`));
  assert.match(res.out, /prune-99 .*REJECTED/);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /REJECTED: top-1 drop/);
});

test('compress structured Taylor step: channels ranked by gradients, fine-tuned with an lr schedule, smaller and loadable', async () => {
  const out = join(dir, 'taylor');
  const r = recipe(
    'taylor.yaml',
    'steps:\n  - kind: prune\n    structured: true\n    method: taylor\n    taylor-batches: 2\n    sparsity: 0.5\n    finetune-epochs: 1\n    lr-schedule: cosine\n    limit: 500\n',
  );
  const res = await compress(modelFile, '--recipe', r, '--data', 'fashion-mnist-mini', '-o', out, '--runs', '3', '--json');
  assert.equal(res.code, 0, res.err.join('\n'));
  const s = JSON.parse(res.out) as PipelineSummary;
  const [input, pruned] = s.stages;
  assert.equal(pruned!.status, 'accepted');
  assert.match(pruned!.notes.join('\n'), /structured: 50% of channels removed \(taylor\), 1 epoch fine-tuning on 500 samples/);
  assert.ok(pruned!.macs < 0.6 * input!.macs, `MACs ${pruned!.macs} vs ${input!.macs}`);
  assert.equal((await evaluateFile(pruned!.file)).top1, pruned!.top1);
});

test('compress usage and recipe errors: one line, exit code 2, naming the step and option', async () => {
  const bad = (text: string) => recipe(`bad-${Math.random().toString(36).slice(2)}.yaml`, text);
  const out = join(dir, 'never');
  const base = ['--data', 'fashion-mnist-mini', '-o', out];
  const cases: [string[], number, RegExp][] = [
    [
      [modelFile, '--recipe', bad('steps:\n  - kind: prune\n  - kind: sharpen\n'), ...base],
      2,
      /recipe .*: step 2: unknown kind "sharpen"\. Kinds: distill, prune, quantize$/,
    ],
    [
      [modelFile, '--recipe', bad('steps:\n  - kind: quantize\n    calib_size: 64\n'), ...base],
      2,
      /step 1 \(quantize\): unknown option 'calib_size'\. Options: mode, calib-size, /,
    ],
    [
      [modelFile, '--recipe', bad('steps:\n  - kind: prune\n    sparsity: lots\n'), ...base],
      2,
      /step 1 \(prune\): option 'sparsity' must be a number ≥ 0 and ≤ 1, got string "lots"/,
    ],
    [[modelFile, '--recipe', join(dir, 'missing.yaml'), ...base], 3, /cannot read recipe .*missing\.yaml: ENOENT/],
    [[modelFile, ...base], 2, /missing --recipe RECIPE/],
    [[modelFile, '--recipe', bad('steps:\n  - kind: prune\n'), '-o', out], 2, /missing --data DATASET/],
    [[modelFile, '--recipe', bad('steps:\n  - kind: prune\n'), '--data', 'fashion-mnist-mini'], 2, /missing -o OUTDIR/],
    [[modelFile, '--recipe', bad('steps:\n  - kind: prune\n'), ...base, '--max-drop', 'x'], 2, /--max-drop must be a number/],
    [
      [modelFile, '--recipe', bad('steps:\n  - kind: prune\n    name: student\n'), '--data', 'fashion-mnist-mini', '-o', dir],
      2,
      /step 1 \(student\) would write .*student\.onnx, which is the input model/,
    ],
    [[join(dir, 'nope.onnx'), '--recipe', bad('steps:\n  - kind: prune\n'), ...base], 3, /cannot read model .*nope\.onnx/],
  ];
  for (const [argv, code, re] of cases) {
    const r = await compress(...argv);
    assert.equal(r.code, code, `${argv.join(' ')}: ${r.err.join('\n')}`);
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0]!, re);
    assert.equal(r.out, '');
  }
  assert.ok(!existsSync(out), 'nothing written when the recipe is invalid');
});
