/**
 * Large model load/save: what loadModel and saveModel (src/onnx/io.ts) cost on a model of
 * ≥ 200 MB of float weights, against the file system doing the bare byte work on the same files.
 *
 *   load time ratio    = loadModel ms / fs.readFileSync ms (every file of the model)
 *   load memory ratio  = (peak RSS − RSS before loadModel) / bytes on disk, in a process that
 *                        only loads the model (the bound: ≤ ~2; readFileSync's is ~1);
 *                        also gross: peak RSS / bytes on disk
 *   save time ratio    = saveModel ms / (fs.writeFileSync + fsync) ms of the same bytes
 *   ORT bytes/path     = session creation from serializeModel bytes / from the file path
 *
 * The model is an MLP from the builder: `layers` MatMul+Relu blocks of [width, width] float
 * weights drawn from a seeded generator (random bits, so nothing compresses), saved twice: every
 * tensor embedded, and with its weights in an external data file. Each measurement runs in a
 * fresh child process (peak RSS is per process), rounds interleave the operations, and each
 * figure is the median over rounds.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/builder.js';
import type { Model } from '../src/graph/ir.js';
import { saveModel } from '../src/onnx/io.js';
import { DataType } from '../src/onnx/proto.js';
import type { ChildResult, Job } from './large-model-child.js';
import { MiB, median, round, runChild, target, type Benchmark, type BenchContext, type Section } from './lib.js';

interface Plan {
  width: number;
  layers: number;
  rounds: number;
}
/** 4 × 4096² floats = 256 MiB of weights. */
const FULL: Plan = { width: 4096, layers: 4, rounds: 3 };
const QUICK: Plan = { width: 1024, layers: 4, rounds: 1 };

export function buildLargeMlp(width: number, layers: number, seed = 1): Model {
  const g = new GraphBuilder();
  let x = g.input('input', DataType.FLOAT, ['N', width]);
  let state = seed >>> 0 || 1;
  const scale = 2 / Math.sqrt(width);
  for (let l = 0; l < layers; l++) {
    const w = new Float32Array(width * width);
    for (let i = 0; i < w.length; i++) w[i] = ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale;
    x = g.Relu(g.MatMul(x, g.initializer(`fc${l}.weight`, w, [width, width])));
  }
  g.output(x, 'output');
  return g.model({ producerName: 'lithe-bench' });
}

interface Format {
  name: 'embedded' | 'external';
  model: string;
  /** Every file the format writes: the model, then its data file if any. */
  files: string[];
  externalLocation?: string;
}

type Op = 'read' | 'load' | 'write' | 'save' | 'ort-path' | 'ort-bytes';

function jobFor(op: Op, f: Format, outDir: string): Job {
  switch (op) {
    case 'read':
      return { op, files: f.files };
    case 'write':
      return { op, files: f.files, outs: f.files.map((_, i) => join(outDir, `written-${i}`)) };
    case 'save':
      return { op, file: f.model, out: join(outDir, 'saved.onnx'), externalLocation: f.externalLocation && 'saved.onnx.data' };
    default:
      return { op, file: f.model };
  }
}

const fileBytes = (files: string[]) => files.reduce((s, f) => s + statSync(f).size, 0);

export const largeModel: Benchmark = {
  name: 'large-model',
  description: 'loadModel / saveModel on a ≥ 200 MB float model against readFileSync / writeFileSync of the same bytes, each in a fresh process',
  async run(ctx: BenchContext): Promise<Section> {
    const plan = ctx.quick ? QUICK : FULL;
    const dir = join(ctx.tmpDir, 'large-model');
    const outDir = join(dir, 'out');
    ctx.log(`  building a ${plan.layers}×[${plan.width},${plan.width}] MLP`);
    const model = buildLargeMlp(plan.width, plan.layers);
    const formats: Format[] = [
      { name: 'embedded', model: join(dir, 'model.onnx'), files: [join(dir, 'model.onnx')] },
      { name: 'external', model: join(dir, 'model-ext.onnx'), files: [join(dir, 'model-ext.onnx'), join(dir, 'model-ext.onnx.data')], externalLocation: 'model-ext.onnx.data' },
    ];
    mkdirSync(dir, { recursive: true });
    for (const f of formats) saveModel(model, f.model, { externalData: f.externalLocation ? { location: f.externalLocation } : false });

    const ops: [Format, Op][] = [];
    for (const f of formats) for (const op of ['read', 'load', 'write', 'save', 'ort-path'] as const) ops.push([f, op]);
    ops.push([formats[0]!, 'ort-bytes']);
    const results = new Map<string, ChildResult[]>();
    for (let r = 0; r < plan.rounds; r++) {
      // Rotate the order each round so that no operation always follows the same one.
      for (let i = 0; i < ops.length; i++) {
        const [f, op] = ops[(i + r) % ops.length]!;
        rmSync(outDir, { recursive: true, force: true });
        mkdirSync(outDir, { recursive: true });
        const res = runChild<ChildResult>('large-model-child.ts', [JSON.stringify(jobFor(op, f, outDir))]);
        const key = `${f.name}.${op}`;
        results.set(key, [...(results.get(key) ?? []), res]);
      }
      ctx.log(`  round ${r + 1}/${plan.rounds} done`);
    }
    rmSync(outDir, { recursive: true, force: true });

    const med = (key: string, field: keyof ChildResult) => median(results.get(key)!.map((x) => x[field] ?? NaN));
    const ratios: Section['ratios'] = {};
    const targets: NonNullable<Section['targets']> = {};
    const measurements: Record<string, unknown> = {};
    for (const f of formats) {
      const size = fileBytes(f.files);
      const m = (op: Op, field: keyof ChildResult = 'ms') => med(`${f.name}.${op}`, field);
      const loadRss = m('load', 'peakRssBytes');
      ratios[`${f.name}.loadTimeOverReadFile`] = round(m('load') / m('read'));
      ratios[`${f.name}.loadPeakRssOverFileSize`] = round(loadRss / size);
      ratios[`${f.name}.loadAddedRssOverFileSize`] = round((loadRss - m('load', 'rssBeforeBytes')) / size);
      ratios[`${f.name}.readFilePeakRssOverFileSize`] = round(m('read', 'peakRssBytes') / size);
      ratios[`${f.name}.saveTimeOverWriteFileFsync`] = round(m('save') / m('write'));
      ratios[`${f.name}.saveTimeOverWriteFileOnly`] = round(m('save') / m('write', 'writeOnlyMs'));
      // The bound is on what loading adds: the Node process's own ~80 MB is not the model's.
      targets[`${f.name}.loadAddedRssOverFileSize`] = target((loadRss - m('load', 'rssBeforeBytes')) / size, 2);
      measurements[f.name] = {
        fileBytes: size,
        readFile: summary(results.get(`${f.name}.read`)!),
        loadModel: summary(results.get(`${f.name}.load`)!),
        writeFileFsync: { ...summary(results.get(`${f.name}.write`)!), writeOnlyMs: round(m('write', 'writeOnlyMs')) },
        saveModel: summary(results.get(`${f.name}.save`)!),
        ortCreateFromPath: summary(results.get(`${f.name}.ort-path`)!),
      };
    }
    const bytesRuns = results.get('embedded.ort-bytes')!;
    ratios['embedded.ortCreateFromBytesOverFromPath'] = round(med('embedded.ort-bytes', 'ms') / med('embedded.ort-path', 'ms'));
    ratios['embedded.ortCreateFromBytesPeakRssOverFromPath'] = round(med('embedded.ort-bytes', 'peakRssBytes') / med('embedded.ort-path', 'peakRssBytes'));
    measurements.ortCreateFromBytes = { ...summary(bytesRuns), serializeMs: round(med('embedded.ort-bytes', 'serializeMs')) };

    return {
      description: this.description,
      config: { ...plan, weightBytes: plan.layers * plan.width * plan.width * 4, weightMiB: round((plan.layers * plan.width * plan.width * 4) / MiB), ortThreads: 1 },
      ratios,
      targets,
      measurements,
    };
  },
};

/** Medians over rounds of one operation's child results. */
function summary(rs: ChildResult[]) {
  return {
    ms: round(median(rs.map((r) => r.ms))),
    rssBeforeBytes: Math.round(median(rs.map((r) => r.rssBeforeBytes))),
    peakRssBytes: Math.round(median(rs.map((r) => r.peakRssBytes))),
  };
}
