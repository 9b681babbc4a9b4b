import { basename } from 'node:path';
import { LitheError } from '../errors.js';
import { openDataset } from '../data/dataset.js';
import type { Model } from '../graph/ir.js';
import { loadModel, saveModel } from '../onnx/io.js';
import type { CalibrationMethod } from '../quantize/calibrate.js';
import { calibrationFeeds } from '../quantize/collect.js';
import { quantizeDynamic } from '../quantize/dynamic.js';
import { convertFloat16 } from '../quantize/fp16.js';
import { quantizeStatic, type QuantizeReport } from '../quantize/static.js';
import { verifyQuantized, type VerifyResult } from '../quantize/verify.js';
import { choice, flag, int, num, positionals, str, UsageError, type Command, type Parsed } from './command.js';
import { bytes, pct, table } from './format.js';
import { diskSize } from './model-file.js';
import { Progress } from './progress.js';

const MODES = ['static', 'dynamic', 'fp16'] as const;
const METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;

const list = (p: Parsed, name: string): string[] => (str(p, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'quantize a model: static int8 (QDQ, calibrated), dynamic int8, or fp16',
  help: `Usage: lithe quantize MODEL -o OUT --mode static|dynamic|fp16 [options]

Writes a quantized copy of MODEL (MODEL is never modified; OUT is written atomically).
BatchNormalization is folded into the preceding Conv first.

Modes:
  static    int8 weights and activations in QDQ form; onnxruntime fuses it into int8 kernels
            (QLinearConv, QGemm, QLinearAdd, ...). Needs --calib. Best for CNNs.
  dynamic   int8 weights; MatMul/Gemm activations quantized at run time (DynamicQuantizeMatMul).
            Conv stays float: onnxruntime has no fast dynamic int8 Conv (ConvInteger).
  fp16      every float tensor to float16, inputs/outputs kept float32 (one Cast at each end).

Calibration (static):
  --calib DATASET        fashion-mnist, fashion-mnist-mini, an IDX folder or an image folder
                         (train split); samples must match the model input's shape
  --calib-size N         samples to calibrate on (default 512, drawn with a fixed seed)
  --method M             minmax (default) | percentile | entropy | mse
  --percentile P         for --method percentile (default 99.999)

Formats:
  --per-channel          per-output-channel weight scales (default)
  --per-tensor           one scale per weight tensor
  --weight-type T        int8 (default, symmetric) | uint8 (asymmetric)
  --activation-type T    uint8 (default) | int8
  --symmetric-activations  symmetric activation ranges (costs ReLU fusion and one bit)
  --reduce-range         7-bit weights ([-64, 64]). Use it when the model will run on x86 CPUs
                         WITHOUT VNNI (no avx512_vnni / avx_vnni in /proc/cpuinfo: most AMD Zen 1-3,
                         Intel before Cascade Lake): their u8×s8 kernels add two products in a
                         saturating int16, which overflows with full 8-bit weights and costs
                         accuracy (onnxruntime #5849, #14642). Not needed on VNNI or ARM.
                         lithe checks this on the machine it runs on and says so.

Selection:
  --exclude NODE,...     node names to keep float (an unknown name is an error)
  --exclude-ops OP,...   op types to keep float (e.g. Gemm,Add)

Output:
  -o, --output OUT       quantized model path
  --json                 print the summary as JSON, no progress bar

Examples:
  lithe quantize teacher.onnx -o teacher.int8.onnx --mode static --calib fashion-mnist
  lithe quantize teacher.onnx -o teacher.dyn.onnx --mode dynamic
  lithe quantize teacher.onnx -o teacher.fp16.onnx --mode fp16`,
  options: {
    output: { type: 'string', short: 'o' },
    mode: { type: 'string' },
    calib: { type: 'string' },
    'calib-size': { type: 'string' },
    method: { type: 'string' },
    percentile: { type: 'string' },
    'per-channel': { type: 'boolean' },
    'per-tensor': { type: 'boolean' },
    'weight-type': { type: 'string' },
    'activation-type': { type: 'string' },
    'symmetric-activations': { type: 'boolean' },
    'reduce-range': { type: 'boolean' },
    exclude: { type: 'string' },
    'exclude-ops': { type: 'string' },
    'keep-io-types': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const [file] = positionals(args, this, ['MODEL']);
    const out = str(args, 'output');
    if (!out) throw new UsageError('lithe quantize: missing -o OUT', this);
    const mode = str(args, 'mode');
    if (!mode) throw new UsageError(`lithe quantize: missing --mode (${MODES.join(', ')})`, this);
    choice(args, 'mode', MODES, 'static');
    if (flag(args, 'per-channel') && flag(args, 'per-tensor')) throw new UsageError('--per-channel and --per-tensor exclude each other', this);
    const json = flag(args, 'json');
    const method = choice(args, 'method', METHODS, 'minmax') as CalibrationMethod;
    const percentile = num(args, 'percentile', 99.999);
    if (!(percentile > 0 && percentile <= 100)) throw new UsageError(`--percentile must be in (0, 100], got ${percentile}`);
    const common = { exclude: list(args, 'exclude'), excludeOps: list(args, 'exclude-ops'), perChannel: !flag(args, 'per-tensor'), reduceRange: flag(args, 'reduce-range') };
    const input = loadModel(file!);

    let result: { model: Model; report: QuantizeReport };
    let check: VerifyResult | undefined;
    if (mode === 'static') {
      const calib = str(args, 'calib');
      if (!calib) throw new UsageError('--mode static needs --calib DATASET (the samples to measure activation ranges on)', this);
      const feeds = calibrationFeeds(input, await openDataset(calib, { split: 'train' }), int(args, 'calib-size', 512, { min: 1 }), `--calib ${calib}`);
      const passes = method === 'minmax' ? 1 : 2;
      const progress = new Progress('calibrating', passes * feeds.length, { enabled: io.isTTY && !json, unit: 'batches' });
      result = await quantizeStatic(input, () => feeds, {
        ...common,
        method,
        percentile,
        weightType: choice(args, 'weight-type', ['int8', 'uint8'] as const, 'int8'),
        activationType: choice(args, 'activation-type', ['uint8', 'int8'] as const, 'uint8'),
        symmetricActivations: flag(args, 'symmetric-activations'),
        onBatch: () => progress.tick(),
      }).catch((e) => {
        throw e instanceof LitheError && e.code === 'E_BAD_INPUT' ? new LitheError('E_BAD_INPUT', `--calib ${calib}: ${e.message}`) : e;
      });
      progress.finish();
      check = await verifyQuantized(input, result.model, feeds[0]!);
    } else if (mode === 'dynamic') {
      result = quantizeDynamic(input, common);
    } else {
      result = convertFloat16(input, { keepIoTypes: true, exclude: common.exclude, excludeOps: common.excludeOps });
    }
    saveModel(result.model, out);
    const before = diskSize(file!, input);
    const after = diskSize(out, result.model);
    const summary = {
      mode,
      input: { file: file!, bytes: before.bytes, gzipBytes: before.gzipBytes },
      output: { file: out, bytes: after.bytes, gzipBytes: after.gzipBytes },
      quantized: result.report.nodes.filter((n) => n.quantized).length,
      float: result.report.nodes.filter((n) => !n.quantized).length,
      nodes: result.report.nodes,
      notes: result.report.notes,
      calibration: result.report.calibration,
      check,
    };
    if (json) {
      io.out(JSON.stringify(summary, null, 2));
      return;
    }
    printSummary(io.out, summary, before, after);
    if (check && check.kernelSqnrDb < 30 && !common.reduceRange)
      io.err(`lithe: warning: onnxruntime's int8 kernels on this CPU differ from the exact QDQ result (${check.kernelSqnrDb.toFixed(1)} dB): u8s8 saturation on a CPU without VNNI. If the model will run on such CPUs, re-run with --reduce-range.`);
  },
};


function printSummary(
  out: (line: string) => void,
  s: { mode: string; output: { file: string }; quantized: number; float: number; nodes: QuantizeReport['nodes']; notes: string[]; calibration?: QuantizeReport['calibration']; check?: VerifyResult },
  before: { bytes: number; gzipBytes: number },
  after: { bytes: number; gzipBytes: number },
): void {
  out(`wrote ${basename(s.output.file)} (${s.mode})`);
  for (const n of s.notes) out(`  ${n}`);
  if (s.calibration) out(`  calibrated ${s.calibration.tensors} tensors on ${s.calibration.samples} samples (${s.calibration.method})`);
  out(`  nodes: ${s.quantized} quantized, ${s.float} float`);
  const reasons = new Map<string, string[]>();
  for (const n of s.nodes) if (!n.quantized) (reasons.get(n.reason) ?? reasons.set(n.reason, []).get(n.reason)!).push(n.name || n.opType);
  for (const [reason, names] of reasons) out(`    float: ${names.slice(0, 6).join(', ')}${names.length > 6 ? `, … (${names.length})` : ''} — ${reason}`);
  out('');
  out(table([
    ['', 'raw', 'gzip'],
    ['before', bytes(before.bytes), bytes(before.gzipBytes)],
    ['after', bytes(after.bytes), bytes(after.gzipBytes)],
    ['ratio', (after.bytes / before.bytes).toFixed(3), (after.gzipBytes / before.gzipBytes).toFixed(3)],
  ]));
  if (s.check) {
    out('');
    out(`  vs float on one calibration batch: SQNR ${s.check.sqnrDb.toFixed(1)} dB, top-1 agreement ${pct(s.check.top1Agreement, 1)}`);
    out(`  onnxruntime int8 kernels vs exact QDQ: ${s.check.kernelSqnrDb.toFixed(1)} dB`);
  }
}
