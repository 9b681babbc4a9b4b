/**
 * ReportData → one self-contained `report.html`: CSS, Chart.js and the page's script inline, a
 * Content-Security-Policy that forbids every fetch, and the data as escaped JSON.
 *
 *   renderReport(data)        the HTML text (pure: same data, same page)
 *   writeReport(path, data)   writes it to `<path>.<pid>.tmp`, then renames over `path`
 *
 * Charts: accuracy against gzip size and against p50 latency, each step a labelled point and
 * the Pareto frontier (pareto.ts) marked; per-layer sensitivity and sparsity as bar charts.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { pct, thousands } from './format.js';
import { LitheError } from '../errors.js';
import { chartLibrarySource, inlineScript } from './chart-lib.js';
import { CLIENT_SCRIPT } from './client.js';
import { esc, jsonForScript } from './html.js';
import { paretoFrontier } from './pareto.js';
import { renderConfusion, renderMetadata, renderStepTable, renderSummary } from './sections.js';
import { REPORT_CSS } from './style.js';
import type { LayerSensitivity, LayerSparsity, ReportData, StepReport } from './types.js';

/** What the page's script draws (client.ts reads exactly this shape). */
export interface ParetoChartSpec {
  id: string;
  title: string;
  xTitle: string;
  xUnit: 'bytes' | 'ms';
  /** y is top-1 in percent. */
  points: { x: number; y: number; label: string; frontier: boolean }[];
}

export interface BarChartSpec {
  id: string;
  title: string;
  xTitle: string;
  log: boolean;
  max?: number;
  bars: { label: string; value: number; flag: boolean; detail: string }[];
  barLabel: string;
  /** Legend text for flagged bars; no legend when absent. */
  flagLabel?: string;
}

export interface ChartSpecs {
  pareto: ParetoChartSpec[];
  bars: BarChartSpec[];
}

const PARETO_AXES = [
  { id: 'pareto-size', title: 'Accuracy vs size (gzip)', xTitle: 'model size, gzip (log scale)', xUnit: 'bytes', cost: (s: StepReport) => s.sizeBytes.gzip },
  {
    id: 'pareto-latency',
    title: 'Accuracy vs latency (p50, batch 1)',
    xTitle: 'latency p50 at batch 1 (log scale)',
    xUnit: 'ms',
    cost: (s: StepReport) => s.latencyMs.p50,
  },
] as const;

export function chartSpecs(data: ReportData): ChartSpecs {
  const pareto = PARETO_AXES.map(({ cost, ...axis }) => {
    const onFrontier = paretoFrontier(data.steps.map((s) => ({ accuracy: s.top1, cost: cost(s) })));
    return { ...axis, points: data.steps.map((s, i) => ({ x: cost(s), y: 100 * s.top1, label: s.name, frontier: onFrontier[i]! })) };
  });
  const bars: BarChartSpec[] = [];
  if (data.sensitivity?.length) bars.push(sensitivitySpec(data.sensitivity));
  if (data.sparsity?.length) bars.push(sparsitySpec(data.sparsity));
  return { pareto, bars };
}

/** SQNR in dB when every node has it (an exact node, +∞ dB, gets a bar past the longest); else MSE on a log axis. */
function sensitivitySpec(layers: readonly LayerSensitivity[]): BarChartSpec {
  const flagLabel = layers.some((l) => l.excluded) ? 'kept in float' : undefined;
  const kept = (l: LayerSensitivity) => (l.excluded ? ' · kept in float' : '');
  if (layers.every((l) => l.sqnrDb !== undefined)) {
    const finite = layers.map((l) => l.sqnrDb!).filter(Number.isFinite);
    const cap = Math.max(10, ...finite) * 1.1;
    const bars = layers.map((l) => ({
      label: l.node,
      value: Number.isFinite(l.sqnrDb!) ? l.sqnrDb! : cap,
      flag: !!l.excluded,
      detail: `${l.op} · ${Number.isFinite(l.sqnrDb!) ? `${l.sqnrDb!.toFixed(1)} dB` : 'exact (∞ dB)'} SQNR${kept(l)}`,
    }));
    return {
      id: 'sensitivity',
      title: 'Quantization sensitivity per layer',
      xTitle: 'SQNR of the node output, dB (higher is better)',
      log: false,
      bars,
      barLabel: 'quantized',
      flagLabel,
    };
  }
  const bars = layers.map((l) => ({ label: l.node, value: l.mse!, flag: !!l.excluded, detail: `${l.op} · MSE ${l.mse!.toExponential(2)}${kept(l)}` }));
  return {
    id: 'sensitivity',
    title: 'Quantization sensitivity per layer',
    xTitle: 'MSE of the node output (log scale, lower is better)',
    log: bars.every((b) => b.value > 0),
    bars,
    barLabel: 'quantized',
    flagLabel,
  };
}

function sparsitySpec(layers: readonly LayerSparsity[]): BarChartSpec {
  const bars = layers.map((l) => ({
    label: l.node,
    value: 100 * l.sparsity,
    flag: false,
    detail: `${l.op ? `${l.op} · ` : ''}${pct(l.sparsity, 1)} zero · ${thousands(l.params)} weights, ${thousands(Math.round(l.params * (1 - l.sparsity)))} non-zero`,
  }));
  return { id: 'sparsity', title: 'Sparsity per layer', xTitle: 'weights that are zero (%)', log: false, max: 100, bars, barLabel: 'sparsity' };
}

export function renderReport(data: ReportData): string {
  validateReport(data);
  const specs = chartSpecs(data);
  const title = data.title ?? 'lithe report';
  const frontierOf = data.steps.map((_, i) => specs.pareto.filter((p) => p.points[i]!.frontier).map((p) => (p.id === 'pareto-size' ? 'size' : 'latency')));
  const chartPanel = (s: { id: string; title: string }, height: number) =>
    `<div class="panel"><h3>${esc(s.title)}</h3><div class="chart" style="height: ${height}px"><canvas data-chart="${esc(s.id)}" role="img" aria-label="${esc(s.title)}"></canvas></div></div>`;
  const barHeight = (s: BarChartSpec) => Math.max(180, 64 + 26 * s.bars.length);
  const confusionStep = data.confusion ? (data.confusion.step ?? data.steps[data.steps.length - 1]!.name) : '';
  const chartVersion = /Chart\.js v([\w.-]+)/.exec(chartLibrarySource())?.[1] ?? '?';

  const body = [
    `<header><h1>${esc(title)}</h1><p class="sub">${esc(`${data.meta.dataset} · ${data.meta.date} · ${data.meta.machine}`)}</p></header>`,
    renderSummary(data.steps),
    `<h2>Trade-off<span class="hint">each point is a step; a step is on the Pareto frontier when no other step is at least as accurate and at most as costly, and better in one</span></h2>`,
    `<div class="grid2">${specs.pareto.map((s) => chartPanel(s, 380)).join('\n')}</div>`,
    `<h2>Steps<span class="hint">deltas against ${esc(data.steps[0]!.name)}; latency at batch 1</span></h2>`,
    `<div class="panel">${renderStepTable(data.steps, frontierOf)}</div>`,
    ...(specs.bars.length ? [`<h2>Per layer</h2>`, `<div class="grid2">${specs.bars.map((s) => chartPanel(s, barHeight(s))).join('\n')}</div>`] : []),
    ...(data.confusion
      ? [`<h2>Confusion matrix<span class="hint">${esc(confusionStep)}</span></h2>`, `<div class="panel">${renderConfusion(data.confusion)}</div>`]
      : []),
    `<h2>Run</h2>`,
    `<div class="panel">${renderMetadata(data.meta)}</div>`,
    `<footer>${esc(`Generated by lithe ${data.meta.litheVersion}. Charts by Chart.js ${chartVersion} (MIT), inlined: this page loads nothing from the network.`)}</footer>`,
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No fetch of any kind: scripts and styles only inline, images only as data: URLs.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...body,
    '</main>',
    `<script type="application/json" id="report-data">${jsonForScript(specs)}</script>`,
    `<script>${chartLibrarySource()}</script>`,
    `<script>${inlineScript(CLIENT_SCRIPT)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Renders first, so that bad data leaves any existing report untouched; then temp file + rename. */
export function writeReport(path: string, data: ReportData): void {
  const html = renderReport(data);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new LitheError('E_IO', `cannot write report ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Throws E_BAD_INPUT naming the step, layer or field; the charts need positive costs (log axes). */
export function validateReport(data: ReportData): void {
  const fail = (what: string) => {
    throw new LitheError('E_BAD_INPUT', `report: ${what}`);
  };
  const fraction = (x: number | undefined) => x !== undefined && Number.isFinite(x) && x >= 0 && x <= 1;
  const positive = (x: number) => Number.isFinite(x) && x > 0;
  const count = (x: number) => Number.isFinite(x) && x >= 0;
  if (!data.steps.length) fail('no steps to report');
  const names = new Set<string>();
  for (const s of data.steps) {
    const where = `step "${s.name}"`;
    if (names.has(s.name)) fail(`${where} appears twice; step names label the points and must differ`);
    names.add(s.name);
    if (!fraction(s.top1)) fail(`${where}: top1 ${s.top1} is not a fraction in [0, 1]`);
    if (s.top5 !== undefined && !fraction(s.top5)) fail(`${where}: top5 ${s.top5} is not a fraction in [0, 1]`);
    if (!count(s.params) || !count(s.macs)) fail(`${where}: params ${s.params} and MACs ${s.macs} must be non-negative numbers`);
    if (!positive(s.sizeBytes.raw) || !positive(s.sizeBytes.gzip))
      fail(`${where}: sizes raw ${s.sizeBytes.raw}, gzip ${s.sizeBytes.gzip} must be positive byte counts`);
    if (!positive(s.latencyMs.p50) || !positive(s.latencyMs.p99))
      fail(`${where}: latency p50 ${s.latencyMs.p50}, p99 ${s.latencyMs.p99} must be positive milliseconds`);
  }
  for (const l of data.sensitivity ?? []) {
    const ok = (l.sqnrDb !== undefined && !Number.isNaN(l.sqnrDb) && l.sqnrDb !== -Infinity) || (l.mse !== undefined && count(l.mse));
    if (!ok) fail(`sensitivity of node "${l.node}": needs a finite sqnrDb (or +Infinity for an exact node) or a non-negative mse`);
  }
  const sens = data.sensitivity ?? [];
  if (!sens.every((l) => l.sqnrDb !== undefined) && !sens.every((l) => l.mse !== undefined))
    fail('sensitivity: give sqnrDb for every node, or mse for every node, so that the bars compare');
  for (const l of data.sparsity ?? []) {
    if (!fraction(l.sparsity) || !count(l.params))
      fail(`sparsity of node "${l.node}": sparsity ${l.sparsity} must be in [0, 1] and params ${l.params} non-negative`);
  }
  const c = data.confusion;
  if (c) {
    const k = c.classes.length;
    if (c.step !== undefined && !names.has(c.step)) fail(`confusion matrix: step "${c.step}" is not one of the steps (${[...names].join(', ')})`);
    if (!k || c.counts.length !== k || c.counts.some((r) => r.length !== k))
      fail(`confusion matrix: counts must be ${k}×${k}, one row and column per class name`);
    if (c.counts.some((r) => r.some((n) => !Number.isInteger(n) || n < 0))) fail('confusion matrix: counts must be non-negative integers');
  }
}
