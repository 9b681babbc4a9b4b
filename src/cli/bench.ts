import { loadModel } from '../onnx/io.js';
import { benchmark } from '../runtime/bench.js';
import { Progress } from '../report/progress.js';
import { bytes, table } from './format.js';
import { choice, flag, int, positionals, str, UsageError, type Command } from './command.js';

/** `--shape x=1x3x224x224,y=1x10` → { x: [1,3,224,224], y: [1,10] } */
export function parseShapes(spec: string | undefined): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(part.trim());
    if (!m) throw new UsageError(`--shape expects NAME=D1xD2x…, got '${part}'`);
    out[m[1]!] = m[2]!.split('x').map(Number);
  }
  return out;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure latency, throughput, load time and peak memory',
  help: `Usage: lithe bench MODEL [--batch N] [--threads N] [--runs N] [--warmup N] [--backend node|wasm] [--shape NAME=DxD…] [--json]

Runs MODEL on synthetic inputs (uniform floats, zero integers) and reports latency min/p50/p90/
p99/mean over --runs timed runs after --warmup untimed ones, throughput (samples/s = batch ×
1000 / mean ms), session load time, and the process's peak RSS. A symbolic leading dim takes
--batch; other symbolic dims need --shape.

  --batch N        batch size for symbolic leading dims (default 1)
  --threads N      intra-op threads (default: onnxruntime's choice, one per core)
  --runs N         timed runs (default 100)
  --warmup N       untimed runs first (default 10)
  --backend B      node (onnxruntime-node, default) or wasm (onnxruntime-web)
  --shape S        explicit input shapes, e.g. --shape input=1x3x224x224
  --json           print one JSON object

Example: lithe bench mobilenetv2.onnx --batch 1 --threads 1 --runs 200`,
  options: {
    batch: { type: 'string' },
    threads: { type: 'string' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    backend: { type: 'string' },
    shape: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const [file] = positionals(args, this, ['MODEL']);
    const json = flag(args, 'json');
    const runs = int(args, 'runs', 100, { min: 1 });
    const model = loadModel(file!);
    const progress = new Progress('bench', runs, { enabled: io.isTTY && !json, unit: 'runs' });
    const r = await benchmark(model, {
      batch: int(args, 'batch', 1, { min: 1 }),
      threads: int(args, 'threads', 0),
      runs,
      warmup: int(args, 'warmup', 10),
      backend: choice(args, 'backend', ['node', 'wasm'] as const, 'node'),
      shapes: parseShapes(str(args, 'shape')),
      label: file,
      onRun: () => progress.tick(),
    });
    progress.finish();
    if (json) {
      io.out(JSON.stringify({ model: file, ...r }, null, 2));
      return;
    }
    const l = r.latency;
    io.out(`${file} on onnxruntime-${r.backend}, batch ${r.batch}, threads ${r.threads}, ${l.runs} runs`);
    io.out(`inputs: ${r.inputs.map((i) => `${i.name} ${i.dtype}[${i.dims.join(',')}]`).join(', ')}`);
    io.out(
      table([
        ['latency (ms)', 'min', 'p50', 'p90', 'p99', 'mean'],
        ['', ...[l.minMs, l.p50Ms, l.p90Ms, l.p99Ms, l.meanMs].map((x) => x.toFixed(3))],
      ]),
    );
    io.out(`throughput: ${r.throughput.toFixed(1)} samples/s`);
    io.out(`session load: ${r.loadMs.toFixed(1)} ms   peak RSS: ${bytes(r.peakRssBytes)}`);
  },
};
