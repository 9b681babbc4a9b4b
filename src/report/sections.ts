/**
 * The report's tables, rendered on the server side as static HTML (they need no script):
 * the headline numbers, the per-step table, the confusion matrix and the run's metadata.
 *
 * Deltas are against the first step (the reference):
 *   ×smaller = gzip₀ / gzipᵢ      ×faster = p50₀ / p50ᵢ      Δpp = 100 · (top1ᵢ − top1₀)
 */
import { bytes, pct, si, thousands } from './format.js';
import { esc, htmlTable } from './html.js';
import type { ConfusionReport, ReportData, StepReport } from './types.js';

export function times(ratio: number): string {
  return `×${ratio >= 100 ? ratio.toFixed(0) : ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}`;
}

export function deltaPp(now: number, ref: number): string {
  const d = 100 * (now - ref);
  return `${d < 0 ? '−' : '+'}${Math.abs(d).toFixed(2)} pp`;
}

export function ms(x: number): string {
  return x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1);
}

/** The first step against the last, in four numbers. */
export function renderSummary(steps: readonly StepReport[]): string {
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const d = last.top1 - first.top1;
  const card = (value: string, label: string, detail: string, tone = '') =>
    `<div class="card ${tone}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div><div class="detail">${esc(detail)}</div></div>`;
  return [
    '<div class="cards">',
    card(pct(last.top1), `top-1 of ${last.name}`, `${pct(first.top1)} for ${first.name}`),
    card(deltaPp(last.top1, first.top1), 'accuracy change', `${pct(last.top1 / first.top1, 1)} of ${first.name}'s top-1 kept`, d < 0 ? 'bad' : 'good'),
    card(times(first.sizeBytes.gzip / last.sizeBytes.gzip), 'smaller (gzip)', `${bytes(first.sizeBytes.gzip)} → ${bytes(last.sizeBytes.gzip)}`, 'good'),
    card(times(first.latencyMs.p50 / last.latencyMs.p50), 'faster (p50, batch 1)', `${ms(first.latencyMs.p50)} ms → ${ms(last.latencyMs.p50)} ms`, 'good'),
    card(times(first.params / last.params), 'fewer parameters', `${si(first.params)} → ${si(last.params)}`),
    '</div>',
  ].join('\n');
}

/** One row per step; `frontier` names the charts on whose Pareto frontier each step lies. */
export function renderStepTable(steps: readonly StepReport[], frontier: readonly string[][]): string {
  const ref = steps[0]!;
  const num = (s: string) => `<span class="num">${esc(s)}</span>`;
  const vsRef = (i: number, s: string, tone = '') => (i === 0 ? '<span class="muted">ref</span>' : `<span class="num ${tone}">${esc(s)}</span>`);
  const rows = steps.map((s, i) => {
    const dpp = s.top1 - ref.top1;
    const badges = `<span class="badges">${frontier[i]!.map((f) => `<span class="badge">${esc(f)}</span>`).join(' ')}</span>`;
    const notes = (s.notes ?? []).map((n) => `<div>${esc(n)}</div>`).join('');
    const kind = `<span class="kind kind-${esc(s.kind.replace(/[^a-z0-9-]/gi, ''))}">${esc(s.kind)}</span>`;
    return [
      `${esc(s.name)} ${kind}${s.file ? `<div class="file">${esc(s.file)}</div>` : ''}`,
      num(pct(s.top1)),
      vsRef(i, deltaPp(s.top1, ref.top1), dpp < 0 ? 'bad' : 'good'),
      num(s.top5 === undefined ? '–' : pct(s.top5)),
      num(thousands(s.params)),
      num(si(s.macs)),
      num(bytes(s.sizeBytes.raw)),
      num(bytes(s.sizeBytes.gzip)),
      vsRef(i, times(ref.sizeBytes.gzip / s.sizeBytes.gzip)),
      num(ms(s.latencyMs.p50)),
      num(ms(s.latencyMs.p99)),
      vsRef(i, times(ref.latencyMs.p50 / s.latencyMs.p50)),
      badges,
      `<div class="notes">${notes}</div>`,
    ];
  });
  const head = ['step', 'top-1', 'Δ top-1', 'top-5', 'params', 'MACs', 'size', 'gzip', 'smaller', 'p50 ms', 'p99 ms', 'faster', 'frontier', 'notes'];
  return htmlTable('steps', head, rows);
}

/**
 * Heat map of counts[true][pred]. A cell's shade is its share of the true class's samples
 * (row-normalised): blue on the diagonal (correct), red off it (errors, ×3 so that a 10%
 * confusion already shows). Recall per row, precision per column.
 */
export function renderConfusion(c: ConfusionReport): string {
  const k = c.classes.length;
  const rowTotal = c.counts.map((r) => r.reduce((a, b) => a + b, 0));
  const colTotal = c.classes.map((_, p) => c.counts.reduce((a, r) => a + r[p]!, 0));
  const correct = c.classes.map((_, t) => c.counts[t]![t]!);
  const share = (n: number, total: number) => (total ? n / total : 0);
  const cell = (t: number, p: number) => {
    const n = c.counts[t]![p]!;
    const f = share(n, rowTotal[t]!);
    const alpha = Math.min(1, t === p ? f : 3 * f);
    const rgb = t === p ? '37, 99, 235' : '220, 38, 38';
    const ink = alpha > 0.55 ? ' ink-light' : n === 0 ? ' zero' : '';
    const title = `${c.classes[t]} predicted as ${c.classes[p]}: ${n} (${pct(f, 1)} of ${c.classes[t]})`;
    return `<span class="hm${ink}" style="background: rgba(${rgb}, ${alpha.toFixed(3)})" title="${esc(title)}">${n}</span>`;
  };
  const rows = c.classes.map((name, t) => [
    esc(name),
    ...c.classes.map((_, p) => cell(t, p)),
    `<span class="num">${esc(pct(share(correct[t]!, rowTotal[t]!), 1))}</span>`,
  ]);
  rows.push([
    '<span class="muted">precision</span>',
    ...c.classes.map((_, p) => `<span class="num">${esc(pct(share(correct[p]!, colTotal[p]!), 1))}</span>`),
    '',
  ]);
  const head = ['true \\ predicted', ...c.classes.map((n) => `<span class="rot">${esc(n)}</span>`), 'recall'];
  const total = rowTotal.reduce((a, b) => a + b, 0);
  const acc = share(
    correct.reduce((a, b) => a + b, 0),
    total,
  );
  return `${htmlTable(`confusion k${k}`, head, rows)}\n<p class="caption">${esc(`${thousands(total)} samples, ${pct(acc)} correct. Rows: true class; columns: predicted class; shade: share of the row.`)}</p>`;
}

export function renderMetadata(meta: ReportData['meta']): string {
  const pairs: [string, string][] = [
    ['dataset', meta.dataset],
    ['date', meta.date],
    ['machine', meta.machine],
    ['lithe', meta.litheVersion],
    ...Object.entries(meta.extra ?? {}),
  ];
  const dl = pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n');
  const commands = meta.commands.length
    ? `<pre class="commands"><code>${meta.commands.map((c) => `<span class="prompt">$ </span>${esc(c)}`).join('\n')}</code></pre>`
    : '';
  return `<dl class="meta">\n${dl}\n</dl>\n${commands}`;
}
