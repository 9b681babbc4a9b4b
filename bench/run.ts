/**
 * `npm run bench [-- --only NAME[,NAME…]] [--quick] [--list]`
 *
 * Runs the registered benchmarks and prints one JSON document to stdout, also written to
 * bench/results/<timestamp>.json: { startedAt, quick, machine, sections: { NAME: Section } }.
 * Progress goes to stderr. Temporary files live in one folder under os.tmpdir(), removed at the
 * end whatever happens. Exit code 1 when a benchmark fails (its section then holds { error }),
 * 2 for a bad flag; a missed target is reported, not an error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { BENCH_DIR, type Section } from './lib.js';
import { BENCHMARKS } from './registry.js';

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nUsage: npm run bench -- [--only NAME[,NAME…]] [--quick] [--list]\nBenchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean' }, list: { type: 'boolean' } } }).values;
} catch (e) {
  usage((e as Error).message);
}

if (args.list) {
  for (const b of BENCHMARKS) process.stdout.write(`${b.name}\t${b.description}\n`);
  process.exit(0);
}

const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of only ?? []) if (!BENCHMARKS.some((b) => b.name === name)) usage(`unknown benchmark '${name}'`);
const selected = BENCHMARKS.filter((b) => !only || only.includes(b.name));
const quick = args.quick ?? false;

const startedAt = new Date();
const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
const report = {
  startedAt: startedAt.toISOString(),
  quick,
  machine: {
    node: process.version,
    onnxruntimeNode: ortVersion,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    totalMemBytes: totalmem(),
    loadAvgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  },
  sections: {} as Record<string, Section | { error: string }>,
  seconds: 0,
};

const tmpDir = mkdtempSync(join(tmpdir(), 'lithe-bench-'));
const log = (m: string) => process.stderr.write(m + '\n');
let failed = false;
try {
  for (const b of selected) {
    log(`bench: ${b.name}${quick ? ' (quick)' : ''}`);
    const t0 = performance.now();
    try {
      report.sections[b.name] = await b.run({ quick, tmpDir, log });
    } catch (e) {
      failed = true;
      report.sections[b.name] = { error: e instanceof Error ? e.message : String(e) };
      log(`bench: ${b.name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    log(`bench: ${b.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
} finally {
  rmSync(tmpDir, { recursive: true, force: true });
}
report.seconds = Number(((Date.now() - startedAt.getTime()) / 1000).toFixed(1));

const json = JSON.stringify(report, null, 2);
const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, json + '\n');
process.stdout.write(json + '\n');
log(`bench: wrote ${file}`);
process.exitCode = failed ? 1 : 0;
