/**
 * External data: saving moves tensors of at least `sizeThreshold` bytes into one data file
 * (those ≥ 1 MiB at offsets aligned to 4096), loading maps them back as views of that file's
 * bytes, and ORT gives the same outputs for the original, the external and the re-embedded model
 * (loaded from bytes or by path, where ORT reads the data file itself).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../data/rng.js';
import { LitheError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import { Graph, type Model } from '../graph/ir.js';
import { Tensor } from '../graph/tensor.js';
import { createSession } from '../runtime/session.js';
import { float32, type HostTensor } from '../runtime/tensors.js';
import { decodeModel } from './decode.js';
import { loadModel, saveModel, serializeModel } from './io.js';
import { DataType, type TensorProto } from './proto.js';
import { outputDifference, sortValueInfo } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'lithe-external-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * x[1,256] → MatMul W1[256,1030] (1.05 MB: aligned) + b1 (4 KB) → Relu → MatMul W2[1030,8] (33 KB)
 * → If(cond) whose branches add their own 2 KB initializer to the outer value: subgraph tensors
 * go external too.
 */
function mlp(): Model {
  const rng = new Rng(3);
  const g = new GraphBuilder({ opset: 17 });
  const x = g.input('x', DataType.FLOAT, [1, 256]);
  const cond = g.input('cond', DataType.BOOL, []);
  const w2 = g.initializer('w2', rng.uniform(1030 * 8, 0.1), [1030, 8]); // first in the file: offset 0
  const w1 = g.initializer('w1', rng.uniform(256 * 1030, 0.1), [256, 1030]);
  const b1 = g.initializer('b1', rng.uniform(1030, 0.1), [1030]);
  const tiny = g.initializer('tiny', [0.5], [1]); // under the threshold: stays in the model
  const h = g.Mul(g.Relu(g.Add(g.MatMul(x, w1), b1)), tiny);
  const y = g.MatMul(h, w2);
  const branch = (name: string, scale: number) => {
    const b = new GraphBuilder({ graph: new Graph(name) });
    const k = b.initializer(`${name}_k`, Tensor.fromArray(DataType.FLOAT, [512], new Float32Array(512).fill(scale)));
    const s = b.op('ReduceSum', [k], { keepdims: 0 });
    b.output(b.Add(y, s), `${name}_out`);
    return b.graph;
  };
  const out = g.op('If', [cond], { then_branch: branch('then', 1), else_branch: branch('else', -1) });
  out.setTensorType(DataType.FLOAT, [1, 8]);
  g.output(out, 'y');
  return g.model();
}

const feeds = (cond: boolean): Record<string, HostTensor> => ({
  x: float32([1, 256], Float32Array.from({ length: 256 }, (_, i) => Math.sin(i))),
  cond: { dtype: DataType.BOOL, dims: [], data: Uint8Array.of(cond ? 1 : 0) },
});

async function run(model: Model | string | Uint8Array): Promise<Record<string, HostTensor>[]> {
  const s = await createSession(model);
  try {
    return [await s.run(feeds(true)), await s.run(feeds(false))];
  } finally {
    await s.release();
  }
}
async function assertSameOutputs(a: Model | string | Uint8Array, b: Model | string | Uint8Array, what: string) {
  const [x, y] = [await run(a), await run(b)];
  for (const i of [0, 1]) assert.equal(outputDifference(x[i]!, y[i]!), undefined, `${what} (cond ${i === 0})`);
}

const externalOf = (t: TensorProto) => Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));

test('save with external data: large tensors go to the data file, aligned; ORT agrees by bytes and by path', async () => {
  const model = mlp();
  const file = join(dir, 'mlp.onnx');
  saveModel(model, file, { externalData: { location: 'mlp.data', sizeThreshold: 1024 } });
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('mlp')).sort(), ['mlp.data', 'mlp.onnx'], 'no temporaries left');
  const proto = decodeModel(readFileSync(file));
  const inits = new Map(proto.graph!.initializer.map((t) => [t.name, t]));
  assert.deepEqual(Object.keys(externalOf(inits.get('w2')!)), ['location', 'offset', 'length']);
  assert.equal(externalOf(inits.get('w2')!).length, String(1030 * 8 * 4));
  assert.equal(Number(externalOf(inits.get('w1')!).offset) % 4096, 0, 'a ≥ 1 MiB tensor starts at a 4096-aligned offset');
  assert.ok(inits.get('b1')!.dataLocation === 1);
  assert.ok(inits.get('tiny')!.rawData && inits.get('tiny')!.dataLocation === undefined, 'small tensors stay inside');
  const thenK = proto.graph!.node.find((n) => n.opType === 'If')!.attribute.find((a) => a.name === 'then_branch')!.g!.initializer[0]!;
  assert.equal(externalOf(thenK).location, 'mlp.data', 'subgraph initializers go external too');
  // The ranges tile the data file without overlapping (padding only before aligned tensors).
  const ranges = [...inits.values(), thenK].filter((t) => t.dataLocation === 1).map((t) => [Number(externalOf(t).offset), Number(externalOf(t).length)] as const);
  ranges.sort((a, b) => a[0] - b[0]);
  ranges.forEach(([at, n], i) => i && assert.ok(at >= ranges[i - 1]![0] + ranges[i - 1]![1], 'no overlap'));
  assert.equal(statSync(join(dir, 'mlp.data')).size, ranges.at(-1)![0] + ranges.at(-1)![1]);
  assert.ok(statSync(file).size < 10_000, 'the model file holds no weights');

  const loaded = loadModel(file);
  await assertSameOutputs(model, loaded, 'loaded from the external pair');
  await assertSameOutputs(model, file, 'ORT reading the model and its data file by path');
});

test('external tensors are views into one buffer holding the data file (no copies)', () => {
  const file = join(dir, 'views.onnx');
  saveModel(mlp(), file, { externalData: { location: 'views.data' } });
  const g = loadModel(file).graph;
  const bytes = ['w1', 'w2', 'b1'].map((n) => g.initializers.get(n)!.initializer!.bytes());
  const buffer = bytes[0]!.buffer;
  assert.ok(bytes.every((b) => b.buffer === buffer), 'one shared buffer');
  assert.equal(buffer.byteLength, statSync(join(dir, 'views.data')).size, 'the buffer is the data file');
  const then = g.nodes.find((n) => n.opType === 'If')!.attr('then_branch')!.g!;
  assert.equal(then.initializers.get('then_k')!.initializer!.bytes().buffer, buffer, 'subgraph tensors share it');
});

test('external → internal gives back the original model, and ORT agrees', async () => {
  const model = mlp();
  const ext = join(dir, 'roundtrip.onnx');
  const back = join(dir, 'back.onnx');
  saveModel(model, ext, { externalData: { location: 'roundtrip.data', sizeThreshold: 0 } });
  saveModel(loadModel(ext), back);
  const proto = decodeModel(readFileSync(back));
  assert.ok(proto.graph!.initializer.every((t) => t.dataLocation === undefined && t.rawData), 'every tensor embedded');
  assert.deepStrictEqual(sortValueInfo(proto), sortValueInfo(decodeModel(serializeModel(model))));
  await assertSameOutputs(model, back, 'embedded again');
});

test('saving over the model it was loaded from (external data included) works: bytes are in memory', async () => {
  const model = mlp();
  const file = join(dir, 'inplace.onnx');
  saveModel(model, file, { externalData: { location: 'inplace.data' } });
  saveModel(loadModel(file), file, { externalData: { location: 'inplace.data' } });
  await assertSameOutputs(model, file, 'after saving in place');
});

test('the 2 GiB protobuf limit, exercised with a small limit', () => {
  const model = mlp();
  const file = join(dir, 'limit.onnx');
  assert.throws(
    () => saveModel(model, file, { protobufLimit: 100_000 }),
    (e: unknown) => e instanceof LitheError && e.code === 'E_USAGE' && /limit.onnx" is \d+ bytes, past the limit of 100000; store its tensors as external data/.test(e.message),
  );
  assert.equal(existsSync(file), false, 'nothing written');
  assert.throws(() => serializeModel(model, { protobufLimit: 100_000 }), /past the limit of 100000/);
  // With the weights outside, the same model fits.
  saveModel(model, file, { protobufLimit: 100_000, externalData: { location: 'limit.data' } });
  assert.ok(statSync(file).size < 100_000);
});

test('bad external-data options are usage errors, and a folder in the way is E_IO before anything is written', () => {
  const model = mlp();
  const file = join(dir, 'opts.onnx');
  for (const location of ['sub/x.data', '..', '', 'a\\b'])
    assert.throws(() => saveModel(model, file, { externalData: { location } }), (e: unknown) => e instanceof LitheError && e.code === 'E_USAGE');
  assert.throws(() => saveModel(model, file, { externalData: { location: 'opts.onnx' } }), /would overwrite the model itself/);
  assert.throws(() => saveModel(model, dir, {}), (e: unknown) => e instanceof LitheError && e.code === 'E_IO' && /is a folder/.test(e.message));
  assert.equal(existsSync(file), false);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});
