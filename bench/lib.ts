/**
 * Shared pieces of the benchmark harness: the section contract, robust statistics, and a runner
 * for measurements that need a fresh process (peak RSS is per process and never goes down).
 *
 * Every figure a section reports is a ratio against a baseline measured in the same run:
 * ratio = measured / baseline, and an overhead is ratio − 1. Repeated measurements are combined
 * by their median, which a single slow outlier (another process waking up) cannot move.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = dirname(BENCH_DIR);

export interface BenchContext {
  /** A fast smoke run: smaller inputs, fewer rounds. */
  quick: boolean;
  /** A private folder under os.tmpdir(), removed when the run ends. */
  tmpDir: string;
  /** Progress for humans; goes to stderr so that stdout stays one JSON document. */
  log(message: string): void;
}

/** A ratio with the bound an issue sets for it; `met` is decided here, in the same run. */
export interface Target {
  ratio: number;
  max: number;
  met: boolean;
}

export interface Section {
  description: string;
  config: Record<string, unknown>;
  /** The figures: each one measured / baseline, both from this run. */
  ratios: Record<string, number>;
  targets?: Record<string, Target>;
  /** The raw measurements behind the ratios (ms, bytes). */
  measurements: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Section>;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function target(ratio: number, max: number): Target {
  return { ratio: round(ratio), max, met: ratio <= max };
}

/** Rounds for the report: 4 significant digits is more than the noise allows. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

export const MiB = 2 ** 20;

/**
 * Runs `script` (a .ts file in bench/) in a fresh Node process with `args`, and returns the one
 * JSON object it prints on its last stdout line.
 */
export function runChild<T>(script: string, args: readonly string[]): T {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, script), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * MiB,
  });
  const last = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${script} ${args.join(' ')}: expected a JSON line, got '${last.slice(0, 200)}'`);
  }
}

// ---- timing side by side ----------------------------------------------------------------------

/** Process CPU time in ms (user + system, every thread) since `c0`. */
export function cpuMsSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

/**
 * Wall-clock and process CPU ms of one call. On an oversubscribed machine wall time includes
 * waiting for a core and CPU time does not, so sections report both.
 */
export async function timed(fn: () => Promise<unknown>): Promise<{ wallMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  return { wallMs, cpuMs: cpuMsSince(c0) };
}

/**
 * Measures every side once per round, in `sides` order on even rounds and reversed on odd ones
 * (ABBA), so that drift in machine load (and cache state left by the previous side) hits every
 * side alike. Returns each side's results in round order; `afterRound` sees them as they grow.
 */
export async function alternate<S extends string, T>(
  sides: readonly S[],
  rounds: number,
  measure: (side: S) => Promise<T>,
  afterRound?: (round: number, results: Record<S, T[]>) => void,
): Promise<Record<S, T[]>> {
  const results = Object.fromEntries(sides.map((s) => [s, [] as T[]])) as Record<S, T[]>;
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) results[side].push(await measure(side));
    afterRound?.(r, results);
  }
  return results;
}
