import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { EXIT_CODES } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { DataType } from '../onnx/proto.js';
import { FASHION_MNIST_CLASSES, sampleAt } from '../data/dataset.js';
import { createSession } from '../runtime/session.js';
import { imageGeometry } from '../runtime/model-input.js';
import { softmax, topK } from './run.js';
import { argmax, assertErrors, centroidFixture, centroidScores, lithe, litheJson, tempDir, writeNpy, type ErrorCase } from './testing.js';

const dir = tempDir();

interface RunJson {
  probabilities: string;
  labels: string;
  results: { input: string; predictions: { class: number; label?: string; probability: number }[] }[];
}

const runJson = (...argv: string[]) => litheJson<RunJson>('run', ...argv);

/** Softmax of the model's logits for raw pixels, straight from an onnxruntime session. */
async function directProbabilities(file: string, pixels: Uint8Array[]): Promise<Float64Array[]> {
  const session = await createSession(file);
  const x = new Float32Array(pixels.length * 784);
  pixels.forEach((p, i) => x.set(Float32Array.from(p, (v) => v / 255), i * 784));
  const y = (await session.run({ input: { dtype: DataType.FLOAT, dims: [pixels.length, 1, 28, 28], data: x } })).logits!;
  await session.release();
  return pixels.map((_, i) => softmax(Float64Array.from((y.data as Float32Array).subarray(i * 10, i * 10 + 10))));
}

async function pngOf(pixels: Uint8Array, name: string): Promise<string> {
  const file = join(dir, name);
  await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(file);
  return file;
}

function assertClose(actual: number, expected: number, tol: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

test('image geometry is read off the model input shape', () => {
  assert.deepEqual(imageGeometry(['N', 1, 28, 28]), { layout: 'nchw', channels: 1, size: [28, 28] });
  assert.deepEqual(imageGeometry([1, 224, 224, 3]), { layout: 'nhwc', channels: 3, size: [224, 224] });
  assert.deepEqual(imageGeometry(['N', 3, 'H', 'W']), { layout: 'nchw', channels: 3, size: undefined });
  assert.deepEqual(imageGeometry(['N', 784]), { layout: 'nchw' });
});

test('topK ranks by value, ties to the lower index', () => {
  assert.deepEqual(topK([0.1, 0.5, 0.5, 0.2], 3), [1, 2, 3]);
});

test('run on PNGs of real test images: top-k agrees with a direct session and the plain-JS classifier', async () => {
  const { file, centroids, test: ds } = await centroidFixture();
  // start at the first test image the plain-JS classifier gets right, so the top class is the truth
  let first = 0;
  while (argmax(centroidScores(centroids, sampleAt(ds, first).pixels)) !== sampleAt(ds, first).label) first++;
  const samples = [first, first + 1, first + 2].map((i) => sampleAt(ds, i));
  const pngs = await Promise.all(samples.map((s, i) => pngOf(s.pixels, `sample${i}.png`)));
  const direct = await directProbabilities(file, samples.map((s) => s.pixels));
  const r = await runJson(file, ...pngs, '--top', '3');
  assert.equal(r.probabilities, 'softmax');
  assert.match(r.labels, /^Fashion-MNIST/);
  assert.deepEqual(r.results.map((x) => x.input), pngs);
  for (const [i, res] of r.results.entries()) {
    assert.equal(res.predictions.length, 3);
    assert.deepEqual(res.predictions.map((p) => p.class), topK(direct[i]!, 3));
    for (const p of res.predictions) {
      assertClose(p.probability, direct[i]![p.class]!, 1e-6, `${pngs[i]} class ${p.class}`);
      assert.equal(p.label, FASHION_MNIST_CLASSES[p.class]);
    }
    assert.equal(res.predictions[0]!.class, argmax(centroidScores(centroids, samples[i]!.pixels)));
  }
  const truth = FASHION_MNIST_CLASSES[samples[0]!.label]!;
  assert.equal(r.results[0]!.predictions[0]!.label, truth);

  const text = await lithe('run', file, pngs[0]!, '--top', '2');
  assert.equal(text.code, 0);
  const best = r.results[0]!.predictions[0]!;
  const escaped = truth.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  assert.match(text.out, new RegExp(`1\\.\\s+${escaped}\\s+\\(${best.class}\\)\\s+${best.probability.toFixed(4)}`));
  assert.match(text.out, /softmax applied/);
});

test('run on .npy (with and without batch dim, batch of 2) and JSON gives the same numbers as the PNG', async () => {
  const { file, test: ds } = await centroidFixture();
  const a = sampleAt(ds, 0).pixels;
  const b = sampleAt(ds, 1).pixels;
  const direct = await directProbabilities(file, [a, b]);
  const floats = (p: Uint8Array) => Float32Array.from(p, (v) => v / 255);
  const batch = join(dir, 'batch.npy');
  writeNpy(batch, [2, 1, 28, 28], Float32Array.from([...floats(a), ...floats(b)]));
  const single = join(dir, 'single.npy');
  writeNpy(single, [1, 28, 28], floats(a));
  const json = join(dir, 'sample.json');
  const rows = Array.from({ length: 28 }, (_, y) => Array.from(floats(a).subarray(y * 28, y * 28 + 28)));
  writeFileSync(json, JSON.stringify([[rows]]));

  const r = await runJson(file, batch, single, json, '--top', '10');
  assert.deepEqual(r.results.map((x) => x.input), [`${batch}[0]`, `${batch}[1]`, single, json]);
  const expected = [direct[0]!, direct[1]!, direct[0]!, direct[0]!];
  for (const [i, res] of r.results.entries()) {
    const sum = res.predictions.reduce((s, p) => s + p.probability, 0);
    assertClose(sum, 1, 1e-9, 'probabilities of all 10 classes');
    for (const p of res.predictions) assertClose(p.probability, expected[i]![p.class]!, 1e-6, `${res.input} class ${p.class}`);
  }
});

test('a model that outputs probabilities is not softmaxed again; --labels names the classes', async () => {
  const { file, test: ds } = await centroidFixture();
  const m = loadModel(file);
  const g = GraphBuilder.edit(m);
  const logits = m.graph.outputs[0]!;
  m.graph.outputs.length = 0;
  g.output(g.Softmax(logits, { axis: 1, name: 'softmax' }), 'probs');
  const probsFile = join(dir, 'probs.onnx');
  saveModel(m, probsFile);
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `item-${i}`).join('\n') + '\n');
  const png = await pngOf(sampleAt(ds, 0).pixels, 'probs.png');
  const [direct] = await directProbabilities(file, [sampleAt(ds, 0).pixels]);
  const r = await runJson(probsFile, png, '--labels', labels);
  assert.equal(r.probabilities, 'model output');
  assert.equal(r.labels, labels);
  for (const p of r.results[0]!.predictions) {
    assert.equal(p.label, `item-${p.class}`);
    assertClose(p.probability, direct![p.class]!, 1e-6, `class ${p.class}`);
  }
});

test('run errors: exit code and a message that names the file or flag', async () => {
  const { file, test: ds } = await centroidFixture();
  const wrong = join(dir, 'rgb.npy');
  writeNpy(wrong, [1, 3, 28, 28], new Float32Array(3 * 784));
  const png = await pngOf(sampleAt(ds, 0).pixels, 'err.png');
  const shortLabels = join(dir, 'short.txt');
  writeFileSync(shortLabels, 'a\nb\n');
  const cases: ErrorCase[] = [
    { argv: ['run', join(dir, 'missing.onnx'), png], code: EXIT_CODES.E_IO, message: /missing\.onnx: cannot read \(no such file\)/ },
    { argv: ['run', file, join(dir, 'missing.png')], code: EXIT_CODES.E_IO, message: /missing\.png: cannot read/ },
    { argv: ['run', file, png, '--bogus'], code: EXIT_CODES.E_USAGE, message: /Unknown option '--bogus'/ },
    { argv: ['run', file], code: EXIT_CODES.E_USAGE, message: /missing INPUT/ },
    { argv: ['run', file, png, '--top', '0'], code: EXIT_CODES.E_USAGE, message: /--top must be an integer ≥ 1/ },
    { argv: ['run', file, png, '--size', '28x'], code: EXIT_CODES.E_USAGE, message: /--size must be N or HxW/ },
    { argv: ['run', file, wrong], code: EXIT_CODES.E_BAD_INPUT, message: /rgb\.npy: shape \[1,3,28,28\] does not fit input "input" float\[N,1,28,28\]/ },
    { argv: ['run', file, png, '--size', '32'], code: EXIT_CODES.E_BAD_INPUT, message: /err\.png: shape \[1,1,32,32\] does not fit/ },
    { argv: ['run', file, png, '--labels', shortLabels], code: EXIT_CODES.E_BAD_INPUT, message: /short\.txt: 2 labels, but the model has 10 classes/ },
  ];
  await assertErrors(cases);
});
