import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { countMacs, countParams } from '../analysis/profile.js';
import { loadModel } from '../onnx/io.js';
import { buildArchitecture } from '../models/index.js';
import { captureIO, main } from './main.js';
import type { StageReport } from './demo.js';
import type { evalReport } from './eval.js';
import { tempDir } from './fixtures.test.js';

interface DemoReport {
  data: { name: string; split: string; source: string; samples: number };
  stages: StageReport[];
}

test('demo end to end: saves the stage, and every figure it reports can be measured again', async () => {
  const out = join(tempDir(), 'demo');
  const io = captureIO();
  assert.equal(await main(['demo', '--out', out, '--runs', '5', '--json'], io), 0, io.stderr.join('\n'));
  assert.deepEqual(io.stderr, [], 'quiet with --json');
  const report = JSON.parse(io.stdout.join('\n')) as DemoReport;

  assert.deepEqual(readdirSync(out).sort(), ['ref-cnn.onnx', 'report.json'], 'nothing half-written left behind');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')), report);
  assert.equal(report.data.name, 'fashion-mnist-mini');
  assert.equal(report.data.split, 'test');
  assert.equal(report.data.samples, 2000);
  assert.match(report.data.source, /^bundled subset/);

  assert.equal(report.stages.length, 1);
  const s = report.stages[0]!;
  assert.equal(s.stage, 'ref-cnn');
  assert.match(s.note, /UNTRAINED/);
  assert.equal(s.file, join(out, 'ref-cnn.onnx'));
  const saved = loadModel(s.file);
  assert.equal(s.params, 206_922);
  assert.equal(s.params, countParams(saved).total);
  assert.equal(s.macs, countMacs(buildArchitecture('ref-cnn'), { batch: 1 }).total);
  const bytes = readFileSync(s.file);
  assert.equal(s.bytes, statSync(s.file).size);
  assert.equal(s.gzipBytes, gzipSync(bytes, { level: 9 }).length);
  assert.equal(s.samples, 2000);
  assert.equal(s.latency.runs, 5);
  assert.ok(s.latency.p50Ms > 0 && s.latency.p50Ms <= s.latency.p99Ms);

  // The accuracy the demo reports is what `lithe eval` measures on the saved file.
  const evalIO = captureIO();
  assert.equal(await main(['eval', s.file, '--data', 'fashion-mnist-mini', '--json'], evalIO), 0);
  const ev = JSON.parse(evalIO.stdout.join('\n')) as ReturnType<typeof evalReport>;
  assert.equal(ev.samples, s.samples);
  assert.equal(ev.top1, s.top1);
  assert.equal(ev.top5, s.top5);
  assert.ok(s.top1 < 0.3, `untrained ref-cnn is near chance: ${s.top1}`);
});

test('demo text output: one table, the untrained caveat, the data source', async () => {
  const out = join(tempDir(), 'demo');
  const io = captureIO();
  assert.equal(await main(['demo', '--out', out, '--runs', '3'], io), 0, io.stderr.join('\n'));
  const text = io.stdout.join('\n');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as DemoReport;
  const s = report.stages[0]!;
  assert.match(text, /source: bundled subset/);
  assert.match(text, /stage\s+params\s+MACs\s+size\s+gzip\s+top-1\s+top-5\s+p50 ms\s+p99 ms\s+samples\/s/);
  assert.match(text, new RegExp(`ref-cnn\\s+206,922\\s+.*${(100 * s.top1).toFixed(2)}%\\s+${(100 * s.top5).toFixed(2)}%`));
  assert.match(text, /UNTRAINED/);
});

test('demo rejects stray arguments', async () => {
  const io = captureIO();
  assert.equal(await main(['demo', 'extra'], io), 2);
  assert.match(io.stderr[0]!, /unexpected argument 'extra'/);
});
