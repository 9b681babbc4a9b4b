/**
 * Sensitivity against the full static run: a row must be exactly what quantizeStatic gives with
 * every other node excluded (same plan, same calibrated ranges, same ORT kernels), measured on
 * the same batches; `all` must be quantizeStatic with nothing excluded. Bundled (trained) teacher,
 * real Fashion-MNIST images. Reduce-range keeps the comparison clear of u8s8 saturation, which
 * on CPUs without VNNI would make every row's error depend on kernel details rather than on the
 * plan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, serializeModel } from '../onnx/io.js';
import { quantizeStatic } from './static.js';
import { analyzeSensitivity, outputError } from './sensitivity.js';
import { fashionBatches, runAll } from './testing.js';

const teacher = loadModel(join(fileURLToPath(import.meta.url), '../../../data/teacher/teacher.onnx'));
const calib = await fashionBatches(10, 50, 2); // 100 real images
const source = () => calib.map((x) => ({ input: x }));
const opts = { reduceRange: true, threads: 1 };

test('teacher: one row per quantized unit, most sensitive first, each equal to quantizeStatic with the rest excluded', async () => {
  const seen: string[] = [];
  const r = await analyzeSensitivity(teacher, source, { ...opts, onUnit: (_d, _t, row) => seen.push(row.node) });
  // 6 Conv (+Relu), 3 MaxPool, Flatten, 2 Gemm
  assert.equal(r.rows.length, 12);
  assert.equal(seen.length, 12);
  assert.deepEqual({ batches: r.batches, samples: r.samples, method: r.method }, { batches: 2, samples: 100, method: 'minmax' });
  for (let i = 1; i < r.rows.length; i++) assert.ok(r.rows[i - 1]!.sqnrDb <= r.rows[i]!.sqnrDb);
  const conv0 = r.rows.find((x) => x.node === 'features.0')!;
  assert.deepEqual(conv0.members, ['features.0', 'features.2']);
  assert.deepEqual(r.rows.find((x) => x.node === 'classifier.4')!.members, ['classifier.4']);
  // one unit is closer to float than all of them together; 8-bit rounding of one layer ≥ 30 dB
  for (const row of r.rows) assert.ok(row.sqnrDb > 30 && row.sqnrDb >= r.all.sqnrDb - 0.5, `${row.node}: ${row.sqnrDb} dB vs all ${r.all.sqnrDb} dB`);
  assert.ok(r.all.sqnrDb > 25 && r.all.top1Agreement > 0.97);

  const y = await runAll(teacher, calib);
  const check = async (exclude: string[]) => {
    const q = await quantizeStatic(teacher, source, { ...opts, exclude });
    return outputError(y, await runAll(q.model, calib), 10);
  };
  const most = r.rows[0]!;
  const alone = await check(teacher.graph.nodes.map((n) => n.name).filter((n) => !most.members.includes(n)));
  assert.ok(Math.abs(alone.sqnrDb - most.sqnrDb) < 1e-6, `${most.node}: ${alone.sqnrDb} vs ${most.sqnrDb}`);
  assert.ok(Math.abs(alone.mse - most.mse) <= 1e-9 * Math.max(1, most.mse));
  const all = await check([]);
  assert.ok(Math.abs(all.sqnrDb - r.all.sqnrDb) < 1e-6);
});

test('quantizeStatic with the ranges sensitivity measured runs no calibration and gives the same bytes (minmax, entropy)', async () => {
  for (const method of ['minmax', 'entropy'] as const) {
    const r = await analyzeSensitivity(teacher, source, { ...opts, method });
    const fresh = await quantizeStatic(teacher, source, { ...opts, method });
    let passes = 0;
    const counted = () => (passes++, source());
    const reused = await quantizeStatic(teacher, counted, { ...opts, method, calibration: r.calibration });
    assert.equal(passes, 0, method);
    assert.deepEqual(Buffer.from(serializeModel(reused.model)), Buffer.from(serializeModel(fresh.model)), method);
    assert.deepEqual(reused.report.calibration, fresh.report.calibration, method);
  }
  const r = await analyzeSensitivity(teacher, source, opts);
  await assert.rejects(quantizeStatic(teacher, source, { ...opts, method: 'entropy', calibration: r.calibration }), /measured with minmax reused for entropy/);
});

test('an unknown --exclude name is an error before any work', async () => {
  await assert.rejects(analyzeSensitivity(teacher, source, { exclude: ['nope'] }), /--exclude: no node named 'nope'/);
});
