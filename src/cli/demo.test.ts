import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { countParams } from '../analysis/profile.js';
import { packageRoot } from '../data/dataset.js';
import { loadModel } from '../onnx/io.js';
import type { PipelineSummary } from '../pipeline/report.js';
import { captureIO, main } from './main.js';
import { BUNDLED_TEACHER } from './demo.js';
import type { evalReport } from './eval.js';
import { DISTILL_DEFAULTS } from '../distill/distill.js';
import { tempDir } from './testing.js';

const hasTeacher = existsSync(join(packageRoot(), BUNDLED_TEACHER));

test('demo --quick: teacher → distill → prune → quantize through the compress pipeline; every figure re-measured', async () => {
  const out = join(tempDir(), 'demo');
  const io = captureIO();
  assert.equal(await main(['demo', '--quick', '--out', out, '--runs', '5', '--json'], io), 0, io.stderr.join('\n'));
  assert.deepEqual(io.stderr, [], 'quiet with --json');
  const s = JSON.parse(io.stdout.join('\n')) as PipelineSummary;
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), s);

  const written = ['distill.onnx', 'prune.onnx', 'quantize.onnx', 'report.html', 'summary.json', ...(hasTeacher ? [] : ['teacher.onnx'])];
  assert.deepEqual(readdirSync(out).sort(), written.sort(), 'nothing half-written left behind');
  assert.match(s.recipe.source, /recipes\/demo-quick\.yaml$/);
  assert.equal(s.data.name, 'fashion-mnist-mini');
  assert.equal(s.data.samples, 2000);
  assert.deepEqual(
    s.stages.map((x) => [x.name, x.kind, x.status]),
    [
      ['teacher', 'input', 'input'],
      ['distill', 'distill', 'accepted'],
      ['prune', 'prune', 'accepted'],
      ['quantize', 'quantize', 'accepted'],
    ],
  );
  const [teacher, student, , final] = s.stages as [PipelineSummary['stages'][0], PipelineSummary['stages'][0], unknown, PipelineSummary['stages'][0]];
  if (hasTeacher) assert.equal(teacher.file, join(packageRoot(), BUNDLED_TEACHER));
  else assert.match(teacher.notes.join(' '), /STAND-IN: data\/teacher\/teacher\.onnx is missing/);
  assert.equal(teacher.params, 585_066);
  assert.equal(student.params, 27_210, "the seeds' student");
  const { temperature: T, alpha: A } = DISTILL_DEFAULTS;
  assert.match(student.notes[0]!, new RegExp(`student distilled from .*teacher\\.onnx: 1 epoch on 2000 samples, T = ${T}, α = ${A}`));
  assert.ok(final.gzipBytes * 20 < teacher.gzipBytes, `final ≥ 20× smaller (gzip): ${final.gzipBytes} vs ${teacher.gzipBytes}`);

  for (const st of s.stages) {
    const bytes = readFileSync(st.file);
    assert.equal(st.bytes, statSync(st.file).size, st.name);
    assert.equal(st.gzipBytes, gzipSync(bytes, { level: 9 }).length, st.name);
    assert.equal(st.params, countParams(loadModel(st.file)).total, st.name);
    assert.ok(st.latency.runs === 5 && st.latency.p50Ms > 0 && st.latency.p50Ms <= st.latency.p99Ms, st.name);
  }
  // The accuracy the demo reports is what `lithe eval` measures on the saved file.
  const evalIO = captureIO();
  assert.equal(await main(['eval', final.file, '--data', 'fashion-mnist-mini', '--json'], evalIO), 0);
  const ev = JSON.parse(evalIO.stdout.join('\n')) as ReturnType<typeof evalReport>;
  assert.equal(ev.samples, final.samples);
  assert.equal(ev.top1, final.top1);
  assert.equal(ev.top5, final.top5);
  assert.ok(final.top1 > 0.6, `even the quick demo's int8 student classifies: ${final.top1}`);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const name of ['teacher', 'distill', 'prune', 'quantize', 'Ankle boot']) assert.ok(html.includes(name), `report.html mentions ${name}`);
});

test('demo text output: the trade-off table, the notes, where the report is', async () => {
  const out = join(tempDir(), 'demo');
  const io = captureIO();
  assert.equal(await main(['demo', '--quick', '--out', out, '--runs', '3'], io), 0, io.stderr.join('\n'));
  const text = io.stdout.join('\n');
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as PipelineSummary;
  assert.match(text, /^lithe demo: demo \(quick\)/);
  assert.match(text, /source: bundled subset/);
  assert.match(text, /stage\s+params\s+MACs\s+size\s+gzip\s+×smaller\s+top-1\s+Δ pp\s+top-5\s+p50 ms\s+p99 ms\s+×faster/);
  const q = s.stages.at(-1)!;
  assert.match(text, new RegExp(`quantize\\s+27,210\\s+.*${(100 * q.top1).toFixed(2)}%\\s+[−+]\\d+\\.\\d\\d\\s+${(100 * q.top5).toFixed(2)}%`));
  assert.match(text, /distill: student distilled from/);
  assert.match(text, /quantize: static int8 QDQ/);
  assert.ok(text.includes(`Open ${join(out, 'report.html')} in a browser`));
  assert.ok(
    io.stderr.some((l) => /step 1\/3: distill \(distill\) on teacher/.test(l)),
    io.stderr.join('\n'),
  );
});

test('demo rejects stray arguments', async () => {
  const io = captureIO();
  assert.equal(await main(['demo', 'extra'], io), 2);
  assert.match(io.stderr[0]!, /unexpected argument 'extra'/);
});
