/**
 * One measurement of the large-model benchmark, in a process of its own so that its peak RSS
 * (getrusage maxRSS, which never goes down) belongs to that measurement alone. Prints one JSON
 * line: { ms, rssBeforeBytes, peakRssBytes, ... }. Untimed set-up (reading the source of a write,
 * loading the model to be saved) happens before `rssBeforeBytes` is taken.
 *
 * Peak RSS is VmHWM from /proc/self/status, the high-water mark of this process's own address
 * space. getrusage's maxRSS will not do on Linux: exec carries the parent's peak over into the
 * child's, so every child of a 130 MB parent reports at least 130 MB.
 *
 * Usage: node --import tsx bench/large-model-child.ts '<json Job>'
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadModel, saveModel, serializeModel } from '../src/onnx/io.js';
import { peakRss } from '../src/runtime/memory.js';

export type Job =
  /** Baseline: fs.readFileSync of every file of the model (model and data file). */
  | { op: 'read'; files: string[] }
  | { op: 'load'; file: string }
  /** Baseline: fs.writeFileSync of the same bytes, then fsync (saveModel fsyncs too). */
  | { op: 'write'; files: string[]; outs: string[] }
  | { op: 'save'; file: string; out: string; externalLocation?: string }
  /** onnxruntime session creation (through src/runtime) from the file path. */
  | { op: 'ort-path'; file: string }
  /** onnxruntime session creation from serializeModel bytes (load and serialize untimed). */
  | { op: 'ort-bytes'; file: string };

export interface ChildResult {
  ms: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  /** write: the writeFileSync part alone, without fsync. */
  writeOnlyMs?: number;
  /** ort-bytes: the untimed serializeModel step. */
  serializeMs?: number;
}

/** onnxruntime only for the jobs that use it, so that the others start with a smaller RSS. */
const createSession = async (...args: Parameters<typeof import('../src/runtime/session.js').createSession>) =>
  (await import('../src/runtime/session.js')).createSession(...args);
/** Keeps results alive until peak RSS is read, so that nothing is freed early. */
const keep: unknown[] = [];

async function main(job: Job): Promise<ChildResult> {
  switch (job.op) {
    case 'read': {
      const rssBeforeBytes = process.memoryUsage().rss;
      const t0 = performance.now();
      for (const f of job.files) keep.push(readFileSync(f));
      return { ms: performance.now() - t0, rssBeforeBytes, peakRssBytes: peakRss() };
    }
    case 'load': {
      const rssBeforeBytes = process.memoryUsage().rss;
      const t0 = performance.now();
      keep.push(loadModel(job.file));
      return { ms: performance.now() - t0, rssBeforeBytes, peakRssBytes: peakRss() };
    }
    case 'write': {
      const data = job.files.map((f) => readFileSync(f));
      const rssBeforeBytes = process.memoryUsage().rss;
      const t0 = performance.now();
      data.forEach((d, i) => writeFileSync(job.outs[i]!, d));
      const t1 = performance.now();
      for (const out of job.outs) {
        const fd = openSync(out, 'r+');
        fsyncSync(fd);
        closeSync(fd);
      }
      return { ms: performance.now() - t0, writeOnlyMs: t1 - t0, rssBeforeBytes, peakRssBytes: peakRss() };
    }
    case 'save': {
      const model = loadModel(job.file);
      const rssBeforeBytes = process.memoryUsage().rss;
      const t0 = performance.now();
      saveModel(model, job.out, { externalData: job.externalLocation ? { location: job.externalLocation } : false });
      return { ms: performance.now() - t0, rssBeforeBytes, peakRssBytes: peakRss() };
    }
    case 'ort-path': {
      const rssBeforeBytes = process.memoryUsage().rss;
      const session = await createSession(job.file, { threads: 1 });
      const r = { ms: session.loadMs, rssBeforeBytes, peakRssBytes: peakRss() };
      await session.release();
      return r;
    }
    case 'ort-bytes': {
      const t0 = performance.now();
      const bytes = serializeModel(loadModel(job.file));
      const serializeMs = performance.now() - t0;
      const rssBeforeBytes = process.memoryUsage().rss;
      const session = await createSession(bytes, { threads: 1 });
      const r = { ms: session.loadMs, serializeMs, rssBeforeBytes, peakRssBytes: peakRss() };
      await session.release();
      return r;
    }
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const result = await main(job);
process.stdout.write(JSON.stringify(result) + '\n');
