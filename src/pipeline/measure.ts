/**
 * One measurement of one saved model, the same for every stage of a pipeline: parameters and MACs
 * (batch 1), size on disk raw and gzip -9 (cli/model-file.ts), top-1/top-5 and the confusion
 * matrix on the evaluation data, and latency at batch 1 (p50/p99 over `runs` timed runs).
 *
 * The model measured is the one read back from the file, not the one in memory, so that every
 * figure is a figure of the file a user gets (DESIGN: "lithe never reports a figure it did not
 * measure").
 */
import type { Preprocess } from '../data/batcher.js';
import { countMacs, countParams } from '../analysis/profile.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../graph/ir.js';
import { loadModel } from '../onnx/io.js';
import { benchmark } from '../runtime/bench.js';
import { evaluateOnDataset } from '../runtime/dataset-eval.js';
import { diskSize } from '../onnx/disk-size.js';
import { Progress } from '../report/progress.js';

export interface Measurement {
  params: number;
  macs: number;
  bytes: number;
  gzipBytes: number;
  samples: number;
  top1: number;
  top5: number;
  confusion: number[][];
  latency: { p50Ms: number; p99Ms: number; meanMs: number; runs: number };
  throughput: number;
}

export interface MeasureOptions {
  /** Test split of the evaluation data. */
  test: Dataset;
  /** Timed benchmark runs at batch 1. */
  runs: number;
  /** onnxruntime intra-op threads for the benchmark (1: an edge device's single core). */
  threads: number;
  /** Pixels → input for the evaluation (default pixel/255, layout from the model's input). */
  preprocess?: Preprocess;
  /** Draw progress bars (a TTY and no --json). */
  progress: boolean;
}

/** Reads `file` back and measures it; returns the model as read, for the next step. */
export async function measureFile(file: string, label: string, opts: MeasureOptions): Promise<{ model: Model; m: Measurement }> {
  const model = loadModel(file);
  const disk = diskSize(file, model);
  const evalBar = new Progress(`${label}: eval`, opts.test.size, { enabled: opts.progress, unit: 'samples' });
  const r = await evaluateOnDataset(model, file, opts.test, { ...opts.preprocess, batch: 100, onBatch: (n) => evalBar.tick(n) });
  evalBar.finish();
  const benchBar = new Progress(`${label}: bench`, opts.runs, { enabled: opts.progress, unit: 'runs' });
  const b = await benchmark(model, {
    batch: 1,
    runs: opts.runs,
    warmup: Math.min(10, opts.runs),
    threads: opts.threads,
    allowSpinning: opts.threads !== 1,
    label: file,
    onRun: () => benchBar.tick(),
  });
  benchBar.finish();
  return {
    model,
    m: {
      params: countParams(model).total,
      macs: countMacs(model, { batch: 1 }).dense,
      bytes: disk.bytes,
      gzipBytes: disk.gzipBytes,
      samples: r.samples,
      top1: r.top1,
      top5: r.top5,
      confusion: r.confusion,
      latency: { p50Ms: b.latency.p50Ms, p99Ms: b.latency.p99Ms, meanMs: b.latency.meanMs, runs: b.latency.runs },
      throughput: b.throughput,
    },
  };
}
