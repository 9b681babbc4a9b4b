import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LitheError } from '../errors.js';
import { inlineScript } from './chart-lib.js';
import { esc, jsonForScript } from './html.js';
import { paretoFrontier } from './pareto.js';
import { chartSpecs, renderReport, writeReport } from './render.js';
import { HOSTILE, hostileReport, sampleReport } from './testing.js';
import type { ReportData } from './types.js';

test('pareto frontier: dominated points are the ones beaten in both accuracy and cost', () => {
  const pts = [
    { accuracy: 0.9, cost: 100 },
    { accuracy: 0.8, cost: 10 },
    { accuracy: 0.79, cost: 12 }, // beaten by (0.8, 10) in both
    { accuracy: 0.8, cost: 20 }, // as accurate as (0.8, 10) but costlier
    { accuracy: 0.95, cost: 1000 },
    { accuracy: 0.95, cost: 1000 }, // a tie: neither beats the other
  ];
  assert.deepEqual(paretoFrontier(pts), [true, true, false, false, true, true]);
  assert.deepEqual(paretoFrontier([]), []);
});

test('chart specs: the sample pipeline has every step on the size frontier and prune off the latency one', () => {
  const specs = chartSpecs(sampleReport());
  const [size, latency] = specs.pareto;
  assert.deepEqual(
    size!.points.map((p) => p.frontier),
    [true, true, true, true],
  );
  // prune is slower (0.124 ms) and less accurate than distill (0.121 ms)
  assert.deepEqual(
    latency!.points.map((p) => p.frontier),
    [true, true, false, true],
  );
  assert.deepEqual(
    size!.points.map((p) => p.x),
    [1_562_004, 100_817, 61_250, 17_406],
  );
  assert.equal(latency!.points[3]!.y, 89.48);
  assert.deepEqual(
    specs.bars.map((b) => [b.id, b.bars.length]),
    [
      ['sensitivity', 6],
      ['sparsity', 2],
    ],
  );
  assert.equal(specs.bars[1]!.bars[1]!.value, 60);
  assert.match(specs.bars[1]!.bars[1]!.detail, /27,040 weights, 10,816 non-zero/);
});

test('report: tables carry the deltas against the first step', () => {
  const html = renderReport(sampleReport());
  // 1,562,004 / 17,406 = 89.74 (gzip); 1.92 / 0.083 = 23.13 (p50); 89.48 − 91.83 = −2.35 pp
  assert.match(html, /×89\.7</);
  assert.match(html, /×23\.1</);
  assert.match(html, /−2\.35 pp/);
  assert.match(html, /97\.4% of teacher&#39;s top-1 kept/);
  // recall of Shirt: 690 / 1000
  assert.match(html, />69\.0%</);
  assert.match(html, /10,000 samples, 89\.48% correct/);
});

test('report: self-contained, with no URL to fetch', () => {
  const html = renderReport(sampleReport());
  assert.equal((html.match(/<script\b/g) ?? []).length, 3);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i);
  assert.doesNotMatch(html, /sourceMappingURL/);
  assert.match(html, /Chart\.js v4\./);
  assert.ok(html.length > 200_000, `${html.length} characters: Chart.js is inlined`);
});

test('report: untrusted names are escaped everywhere', () => {
  const html = renderReport(hostileReport());
  assert.equal((html.match(/<script\b/gi) ?? []).length, 3, 'only the three scripts of the page');
  assert.equal((html.match(/<\/script/gi) ?? []).length, 3);
  // outside the scripts no hostile markup survives (attribute values are skipped whole); inside the data script there is no < at all
  const markup = html.replace(/(<script[^>]*>)[^]*?(<\/script>)/g, '$1$2');
  assert.equal(/<img|<svg|<[a-z][a-z0-9]*(\s+[\w-]+(="[^"]*")?)*\s+on\w+=/i.exec(markup)?.[0], undefined, 'no injected element or event-handler attribute');
  assert.match(html, /&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;/);
  // inside the JSON, < is \u003c, and JSON.parse gives the name back unchanged
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
  assert.ok(!json.includes('<'));
  assert.equal(JSON.parse(json).bars[0].bars[1].label, HOSTILE[0]);
  assert.equal(esc(`a&b"c'<d>`), 'a&amp;b&quot;c&#39;&lt;d&gt;');
  assert.equal(jsonForScript('</script>\u2028'), '"\\u003c/script>\\u2028"');
});

test('inlined scripts cannot close their element and fetch no source map', () => {
  assert.equal(inlineScript('var s = "</script>";\n//# sourceMappingURL=chart.umd.min.js.map\n'), 'var s = "<\\/script>";');
});

test('bad data: one-line E_BAD_INPUT naming the step, node or field', () => {
  const cases: [string, (d: ReportData) => void, RegExp][] = [
    ['no steps', (d) => (d.steps = []), /no steps/],
    ['NaN accuracy', (d) => (d.steps[2]!.top1 = NaN), /step "prune": top1 NaN/],
    ['percent, not fraction', (d) => (d.steps[0]!.top5 = 99.8), /step "teacher": top5 99.8/],
    ['zero size', (d) => (d.steps[1]!.sizeBytes.gzip = 0), /step "distill": sizes raw 109402, gzip 0/],
    ['duplicate names', (d) => (d.steps[1]!.name = 'teacher'), /step "teacher" appears twice/],
    ['sparsity > 1', (d) => (d.sparsity![0]!.sparsity = 35), /sparsity of node "\/conv1\/Conv"/],
    ['mixed metrics', (d) => (d.sensitivity![0] = { node: 'a', op: 'Add', mse: 1e-4 }), /sqnrDb for every node, or mse/],
    ['ragged confusion', (d) => d.confusion!.counts[3]!.pop(), /counts must be 10×10/],
    ['unknown confusion step', (d) => (d.confusion!.step = 'final'), /step "final" is not one of the steps \(teacher, distill, prune, quantize\)/],
  ];
  for (const [what, spoil, message] of cases) {
    const d = sampleReport();
    spoil(d);
    assert.throws(
      () => renderReport(d),
      (e: unknown) => e instanceof LitheError && e.code === 'E_BAD_INPUT' && message.test(e.message) && !e.message.includes('\n'),
      what,
    );
  }
});

test('sensitivity: MSE on a log axis, exact nodes (+∞ dB) past the longest bar', () => {
  const d = sampleReport();
  d.sensitivity = [
    { node: 'a', op: 'Conv', mse: 2e-3, excluded: true },
    { node: 'b', op: 'Gemm', mse: 4e-5 },
  ];
  const mse = chartSpecs(d).bars[0]!;
  assert.equal(mse.log, true);
  assert.equal(mse.flagLabel, 'kept in float');
  assert.match(mse.bars[0]!.detail, /MSE 2\.00e-3 · kept in float/);
  d.sensitivity = [
    { node: 'a', op: 'Conv', sqnrDb: 30 },
    { node: 'b', op: 'Flatten', sqnrDb: Infinity },
  ];
  const db = chartSpecs(d).bars[0]!;
  assert.deepEqual(
    db.bars.map((b) => b.value),
    [30, 33],
  );
  assert.match(db.bars[1]!.detail, /exact \(∞ dB\)/);
  renderReport(d); // Infinity never reaches the JSON
});

test('writeReport: temp file and rename; bad data leaves the old report as it was', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lithe-report-'));
  try {
    const file = join(dir, 'report.html');
    writeReport(file, sampleReport());
    assert.match(readFileSync(file, 'utf8'), /^<!doctype html>/);
    assert.deepEqual(readdirSync(dir), ['report.html']);
    writeFileSync(file, 'previous');
    const bad = sampleReport();
    bad.steps[0]!.latencyMs.p50 = -1;
    assert.throws(() => writeReport(file, bad), /latency p50 -1/);
    assert.equal(readFileSync(file, 'utf8'), 'previous');
    assert.throws(
      () => writeReport(join(dir, 'missing', 'report.html'), sampleReport()),
      (e: unknown) => e instanceof LitheError && e.code === 'E_IO',
    );
    assert.deepEqual(readdirSync(dir), ['report.html']);
    assert.ok(!existsSync(join(dir, 'missing')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
