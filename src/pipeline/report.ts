/**
 * What a pipeline run leaves behind besides the models: summary.json (every stage's figures, as
 * measured), report.html (report/ renders it) and the trade-off table the commands print.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../data/dataset.js';
import { LitheError } from '../errors.js';
import { writeReport, type ReportData, type StepReport } from '../report/index.js';
import { bytes, pct, si, table, thousands } from '../report/format.js';
import type { Recipe } from './recipe.js';
import type { PipelineOptions, PipelineResult, StageSummary } from './run.js';

export interface PipelineSummary {
  recipe: { source: string; name?: string; steps: { name: string; kind: string; options: Record<string, unknown> }[] };
  input: string;
  data: { name: string; split: string; source: string; samples: number };
  bench: { batch: 1; threads: number; runs: number };
  maxDrop?: number;
  stages: StageSummary[];
  rejected: { step: number; name: string; dropPp: number; file: string }[];
  final: { name: string; file: string };
  report: string;
  seconds: number;
}

export function summarize(r: PipelineResult, o: PipelineOptions, report: string, seconds: number): PipelineSummary {
  const recipe: Recipe = o.recipe;
  return {
    recipe: { source: recipe.source, name: recipe.name, steps: recipe.steps.map((s) => ({ name: s.name, kind: s.kind, options: { ...s.options.values } })) },
    input: o.inputFile,
    data: { name: r.test.name, split: r.test.split, source: r.test.source, samples: r.test.size },
    bench: { batch: 1, threads: o.threads, runs: o.runs },
    maxDrop: o.maxDrop,
    stages: r.stages,
    rejected: r.stages.filter((s) => s.status === 'rejected').map((s) => ({ step: s.step, name: s.name, dropPp: s.dropPp, file: s.file })),
    final: { name: r.final.name, file: r.final.file },
    report,
    seconds,
  };
}

export function writeJsonAtomically(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new LitheError('E_IO', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function litheVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function reportData(r: PipelineResult, o: PipelineOptions, command: string): ReportData {
  const hasDistill = o.recipe.steps.some((s) => s.kind === 'distill');
  const steps: StepReport[] = r.stages.map((s) => ({
    name: s.name,
    kind: s.kind === 'input' ? (hasDistill ? 'teacher' : 'baseline') : s.kind,
    top1: s.top1,
    top5: s.top5,
    params: s.params,
    macs: s.macs,
    sizeBytes: { raw: s.bytes, gzip: s.gzipBytes },
    latencyMs: { p50: s.latency.p50Ms, p99: s.latency.p99Ms },
    notes: s.notes,
    file: s.file,
  }));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return {
    title: `${command.split(' ').slice(0, 2).join(' ')} — ${o.recipe.name ?? o.recipe.source}`,
    steps,
    sensitivity: r.sensitivity,
    sparsity: r.sparsity?.layers.map((l) => ({ node: l.layer, op: l.op, sparsity: l.sparsity, params: l.params })),
    confusion: { step: r.final.name, classes: r.test.classes, counts: r.confusion },
    meta: {
      dataset: `${r.test.name} ${r.test.split} split (${thousands(r.test.size)} images): ${r.test.source}`,
      date: new Date().toISOString(),
      machine: `${cpu}, ${cpus().length} cores, ${platform()} ${release()}`,
      litheVersion: litheVersion(),
      commands: [command],
      extra: {
        latency: `batch 1, ${o.threads === 0 ? 'one thread per core' : `${o.threads} thread${o.threads === 1 ? '' : 's'}`}, ${o.runs} timed runs, onnxruntime-node`,
        recipe: o.recipe.source,
        ...(o.maxDrop !== undefined ? { 'max drop': `${o.maxDrop} pp of top-1 vs the input` } : {}),
      },
    },
  };
}

/** Writes summary.json and report.html into the output folder; returns the summary. */
export function writeOutputs(r: PipelineResult, o: PipelineOptions, command: string, seconds: number): PipelineSummary {
  const report = join(o.outDir, 'report.html');
  writeReport(report, reportData(r, o, command));
  const summary = summarize(r, o, report, seconds);
  writeJsonAtomically(join(o.outDir, 'summary.json'), summary);
  return summary;
}

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×` : '-');

/** The trade-off table: one row per stage, with size and speed relative to the input. */
export function renderStages(stages: readonly StageSummary[]): string {
  const base = stages[0]!;
  return table([
    ['stage', 'params', 'MACs', 'size', 'gzip', '×smaller', 'top-1', 'Δ pp', 'top-5', 'p50 ms', 'p99 ms', '×faster', ''],
    ...stages.map((s) => [
      s.name,
      thousands(s.params),
      si(s.macs),
      bytes(s.bytes),
      bytes(s.gzipBytes),
      ratio(base.gzipBytes, s.gzipBytes),
      pct(s.top1),
      s.status === 'input' ? '' : `${s.dropPp > 0 ? '−' : '+'}${Math.abs(s.dropPp).toFixed(2)}`,
      pct(s.top5),
      s.latency.p50Ms.toFixed(3),
      s.latency.p99Ms.toFixed(3),
      ratio(base.latency.p50Ms, s.latency.p50Ms),
      s.status === 'rejected' ? 'REJECTED' : '',
    ]),
  ]);
}

/** The text a command prints after the run: the table, each stage's notes, what was written. */
export function renderSummary(s: PipelineSummary): string[] {
  const lines = [
    `data: ${s.data.name} ${s.data.split} split, ${thousands(s.data.samples)} images; source: ${s.data.source}`,
    'MACs: Conv/Gemm/MatMul multiply-adds at batch 1 (what unstructured zeros do not remove); Δ pp: top-1 change vs the input',
    `latency at batch 1 on onnxruntime-node, ${s.bench.threads === 0 ? 'one thread per core' : `${s.bench.threads} thread${s.bench.threads === 1 ? '' : 's'}`}, ${s.bench.runs} runs; ×smaller (gzip) and ×faster (p50) vs ${s.stages[0]!.name}`,
    '',
    renderStages(s.stages),
    '',
  ];
  for (const st of s.stages) for (const n of st.notes) lines.push(`${st.name}: ${n}`);
  for (const r of s.rejected)
    lines.push(`rejected: step ${r.step} (${r.name}) dropped top-1 by ${r.dropPp.toFixed(2)} pp, over the ${s.maxDrop} pp budget; kept aside as ${r.file}`);
  lines.push(
    '',
    `final model: ${s.final.file} (${s.final.name})`,
    `wrote ${s.stages
      .filter((x) => x.step > 0)
      .map((x) => x.file)
      .join(', ')}, ${s.report}, ${s.report.replace(/report\.html$/, 'summary.json')}`,
  );
  return lines;
}
