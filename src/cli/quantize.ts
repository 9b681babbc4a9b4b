import { basename } from 'node:path';
import { LitheError } from '../errors.js';
import { batches, type Preprocess } from '../data/batcher.js';
import { openDataset, type Dataset } from '../data/dataset.js';
import type { Model } from '../graph/ir.js';
import { loadModel, saveModel } from '../onnx/io.js';
import type { CalibrationMethod } from '../quantize/calibrate.js';
import { calibrationFeeds, checkFeeds } from '../quantize/collect.js';
import { quantizeDynamic } from '../quantize/dynamic.js';
import { convertFloat16 } from '../quantize/fp16.js';
import { datasetAccuracy, quantizeMixedPrecision, type MixedPrecisionResult } from '../quantize/mixed-precision.js';
import { analyzeSensitivity, type SensitivityResult } from '../quantize/sensitivity.js';
import { quantizeStatic, type QuantizeReport } from '../quantize/static.js';
import { quantizeQat, type QatReport } from '../quantize/qat.js';
import { writeJsonAtomically } from '../pipeline/report.js';
import { DataType } from '../onnx/proto.js';
import { verifyQuantized, type VerifyResult } from '../quantize/verify.js';
import { choice, flag, int, num, positionals, str, UsageError, type Command, type Parsed } from './command.js';
import { inputNormalization, NORMALIZE_HELP, NORMALIZE_OPTIONS } from './run.js';
import { bytes, pct, table } from './format.js';
import { diskSize } from '../onnx/disk-size.js';
import { Progress } from '../report/progress.js';

const MODES = ['static', 'dynamic', 'fp16', 'qat'] as const;
const METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;

const list = (p: Parsed, name: string): string[] => (str(p, name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'quantize a model: static int8 (QDQ, calibrated), dynamic int8, fp16, or quantization-aware training',
  help: `Usage: lithe quantize MODEL -o OUT --mode static|dynamic|fp16|qat [options]

Writes a quantized copy of MODEL (MODEL is never modified; OUT is written atomically).
BatchNormalization is folded into the preceding Conv first.

Modes:
  static    int8 weights and activations in QDQ form; onnxruntime fuses it into int8 kernels
            (QLinearConv, QGemm, QLinearAdd, ...). Needs --calib. Best for CNNs.
  dynamic   int8 weights; MatMul/Gemm activations quantized at run time (DynamicQuantizeMatMul).
            Conv stays float: onnxruntime has no fast dynamic int8 Conv (ConvInteger).
  fp16      every float tensor to float16, inputs/outputs kept float32 (one Cast at each end;
            --no-keep-io-types makes them float16 too).
  qat       quantization-aware training: static's int8 model, then --epochs of fine-tuning on
            --data with fake quantization (straight-through gradients, learned scales); writes
            the same QDQ format as static. Needs --calib.

Calibration (static):
  --calib DATASET        fashion-mnist, fashion-mnist-mini, an IDX folder or an image folder
                         (train split); samples must match the model input's shape
  --calib-size N         samples to calibrate on (default 512, drawn with a fixed seed)
  --method M             minmax (default) | percentile | entropy | mse
  --percentile P         for --method percentile (default 99.999)

Training (qat):
  --data DATASET         training data (train split; default: the --calib dataset)
  --epochs N             epochs of fine-tuning (default 1; 0 gives the static model)
  --lr LR                Adam learning rate (default 1e-4)

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

Accuracy (static):
  --eval DATASET         also measure top-1 of the float and quantized models on DATASET's test
                         split (any mode)
  --max-drop PP          with --eval: quantize, evaluate, and while top-1 dropped by more than PP
                         percentage points, return the most sensitive int8 node (lowest SQNR in
                         the sensitivity analysis) to float and evaluate again
  --report FILE          write the summary as JSON to FILE; for static, with the per-node
                         sensitivity table (each node quantized alone: SQNR and MSE of the
                         output vs float on the calibration data)

Output:
  -o, --output OUT       quantized model path
  --keep-io-types        fp16: keep graph inputs/outputs float32 (default)
  --no-keep-io-types     fp16: inputs/outputs become float16 as well
  --json                 print the summary as JSON, no progress bar

Input preprocessing, as the model was trained, for the calibration, QAT and --eval batches (a
model trained on normalised images calibrated on plain pixels/255 gets wrong activation ranges):
${NORMALIZE_HELP}

Examples:
  lithe quantize teacher.onnx -o teacher.int8.onnx --mode static --calib fashion-mnist
  lithe quantize teacher.onnx -o teacher.dyn.onnx --mode dynamic
  lithe quantize teacher.onnx -o teacher.fp16.onnx --mode fp16
  lithe quantize teacher.onnx -o teacher.mixed.onnx --mode static --calib fashion-mnist \
      --eval fashion-mnist --max-drop 0.1 --report teacher.quant.json
  lithe quantize ref-cnn.onnx -o ref-cnn.qat.onnx --mode qat --calib fashion-mnist \
      --data fashion-mnist --epochs 1 --lr 1e-4`,
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
    'no-keep-io-types': { type: 'boolean' },
    eval: { type: 'string' },
    'max-drop': { type: 'string' },
    report: { type: 'string' },
    data: { type: 'string' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    json: { type: 'boolean' },
    ...NORMALIZE_OPTIONS,
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
    if (flag(args, 'keep-io-types') && flag(args, 'no-keep-io-types')) throw new UsageError('--keep-io-types and --no-keep-io-types exclude each other', this);
    const evalSpec = str(args, 'eval');
    const maxDrop = str(args, 'max-drop') === undefined ? undefined : num(args, 'max-drop', 0);
    if (maxDrop !== undefined && !evalSpec) throw new UsageError('--max-drop needs --eval DATASET (the data the accuracy drop is measured on)', this);
    if (maxDrop !== undefined && mode !== 'static') throw new UsageError(`--max-drop works with --mode static (int8 nodes go back to float); got --mode ${mode}`, this);
    if (maxDrop !== undefined && maxDrop < 0) throw new UsageError(`--max-drop must be ≥ 0 percentage points, got ${maxDrop}`, this);
    const reportFile = str(args, 'report');
    const common = { exclude: list(args, 'exclude'), excludeOps: list(args, 'exclude-ops'), perChannel: !flag(args, 'per-tensor'), reduceRange: flag(args, 'reduce-range') };
    const input = loadModel(file!);
    // only a mode that feeds images needs them (and a single image input)
    const preprocess = evalSpec || str(args, 'calib') ? inputNormalization(args, input, file!) : {};
    const evalSet = evalSpec ? await openEvalSet(input, evalSpec, preprocess) : undefined;
    const accuracy =
      evalSet &&
      ((m: Model, label: string) => {
        const p = new Progress(`eval ${label}`, evalSet.size, { enabled: io.isTTY && !json, unit: 'samples' });
        return datasetAccuracy(evalSet, { preprocess, onBatch: (n) => p.tick(n) })(m, label).finally(() => p.finish());
      });

    let result: { model: Model; report: QuantizeReport | QatReport };
    let check: VerifyResult | undefined;
    let sensitivity: SensitivityResult | undefined;
    let mixed: MixedPrecisionResult | undefined;
    if (mode === 'static') {
      const calib = str(args, 'calib');
      if (!calib) throw new UsageError('--mode static needs --calib DATASET (the samples to measure activation ranges on)', this);
      const feeds = calibrationFeeds(input, await openDataset(calib, { split: 'train' }), int(args, 'calib-size', 512, { min: 1 }), `--calib ${calib}`, preprocess);
      const passes = method === 'minmax' ? 1 : 2;
      const progress = new Progress('calibrating', passes * feeds.length, { enabled: io.isTTY && !json, unit: 'batches' });
      const staticOpts = {
        ...common,
        method,
        percentile,
        weightType: choice(args, 'weight-type', ['int8', 'uint8'] as const, 'int8'),
        activationType: choice(args, 'activation-type', ['uint8', 'int8'] as const, 'uint8'),
        symmetricActivations: flag(args, 'symmetric-activations'),
        onBatch: () => progress.tick(),
      };
      const calibError = (e: unknown) => {
        throw e instanceof LitheError && e.code === 'E_BAD_INPUT' ? new LitheError('E_BAD_INPUT', `--calib ${calib}: ${e.message}`) : e;
      };
      if (reportFile || maxDrop !== undefined) {
        // the analysis calibrates every tensor any plan needs, once; the runs below reuse its ranges
        let units: Progress | undefined;
        const onUnit = (_done: number, total: number) => {
          if (!units) (progress.finish(), (units = new Progress('sensitivity', total, { enabled: io.isTTY && !json, unit: 'nodes' })));
          units.tick();
        };
        sensitivity = await analyzeSensitivity(input, () => feeds, { ...staticOpts, onUnit }).catch(calibError);
        units?.finish();
      }
      result = await quantizeStatic(input, () => feeds, { ...staticOpts, calibration: sensitivity?.calibration }).catch(calibError);
      progress.finish();
      if (maxDrop !== undefined) {
        if (!json) io.err(`lithe: searching for a mixed-precision model within ${maxDrop} pp of float on ${evalSpec} …`);
        mixed = await quantizeMixedPrecision(input, () => feeds, {
          ...staticOpts,
          onBatch: undefined,
          maxDropPp: maxDrop,
          accuracy: accuracy!,
          sensitivity,
          calibration: sensitivity!.calibration,
          onStep: (s) => {
            if (!json) io.err(`  ${s.excluded ? `${s.excluded.node} → float` : 'all int8'}: top-1 ${pct(s.top1)} (drop ${s.dropPp.toFixed(2)} pp)`);
          },
        });
        result = mixed;
      }
      check = await verifyQuantized(input, result.model, feeds[0]!);
    } else if (mode === 'qat') {
      const calib = str(args, 'calib');
      if (!calib) throw new UsageError('--mode qat needs --calib DATASET (the samples the initial ranges are calibrated on)', this);
      const feeds = calibrationFeeds(input, await openDataset(calib, { split: 'train' }), int(args, 'calib-size', 512, { min: 1 }), `--calib ${calib}`, preprocess);
      const train = await openDataset(str(args, 'data') ?? calib, { split: 'train' });
      const epochs = int(args, 'epochs', 1, { min: 0 });
      const bar = new Progress('QAT', Math.max(1, epochs * Math.ceil(train.size / 64)), { enabled: io.isTTY && !json, unit: 'batches' });
      const formats = { weightType: choice(args, 'weight-type', ['int8', 'uint8'] as const, 'int8'), activationType: choice(args, 'activation-type', ['uint8', 'int8'] as const, 'uint8'), symmetricActivations: flag(args, 'symmetric-activations') };
      result = await quantizeQat(input, () => feeds, { ...common, ...formats, method, percentile, train, epochs, lr: num(args, 'lr', 1e-4), preprocess, onStep: () => bar.tick() });
      bar.finish();
      check = await verifyQuantized(input, result.model, feeds[0]!);
    } else if (mode === 'dynamic') {
      result = quantizeDynamic(input, common);
    } else {
      result = convertFloat16(input, { keepIoTypes: !flag(args, 'no-keep-io-types'), exclude: common.exclude, excludeOps: common.excludeOps });
    }
    let evaluation: { dataset: string; samples: number; floatTop1: number; top1: number; dropPp: number } | undefined;
    if (mixed) evaluation = { dataset: evalSpec!, samples: evalSet!.size, floatTop1: mixed.floatTop1, top1: mixed.top1, dropPp: mixed.dropPp };
    else if (accuracy) {
      const floatTop1 = await accuracy(input, 'float model');
      const top1 = await accuracy(result.model, `${mode} model`);
      evaluation = { dataset: evalSpec!, samples: evalSet!.size, floatTop1, top1, dropPp: (floatTop1 - top1) * 100 };
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
      evaluation,
      mixedPrecision: mixed && { maxDropPp: mixed.maxDropPp, met: mixed.met, excluded: mixed.excluded, steps: mixed.steps },
      qat: result.report.mode === 'qat' ? { training: result.report.training, scales: result.report.scales } : undefined,
    };
    if (reportFile) writeJsonAtomically(reportFile, { ...summary, sensitivity: sensitivity && { ...sensitivity, calibration: undefined } });
    if (json) {
      io.out(JSON.stringify(summary, null, 2));
      return;
    }
    printSummary(io.out, summary, before, after);
    if (sensitivity) printSensitivity(io.out, sensitivity);
    if (evaluation) printEvaluation(io.out, evaluation, mixed);
    if (reportFile) io.out(`report: ${reportFile}`);
    // the kernels' own error is ≥ 10% of the quantization error: saturation, not accumulation order
    if (check && check.kernelSqnrDb < check.sqnrDb + 10 && !common.reduceRange)
      io.err(`lithe: warning: onnxruntime's int8 kernels on this CPU differ from the exact QDQ result (${check.kernelSqnrDb.toFixed(1)} dB): u8s8 saturation on a CPU without VNNI. If the model will run on such CPUs, re-run with --reduce-range.`);
  },
};

/** The test split of --eval, checked against the model's input before any work. */
async function openEvalSet(model: Model, spec: string, preprocess: Preprocess): Promise<Dataset> {
  const ds = await openDataset(spec, { split: 'test' });
  if (ds.size === 0) throw new LitheError('E_BAD_INPUT', `--eval ${spec}: the test split is empty; nothing to evaluate on`);
  const first = batches(ds, { batchSize: 1, ...preprocess }).next().value!;
  const input = model.graph.inputs.find((v) => !v.initializer)!;
  checkFeeds(model, { [input.name]: { dtype: DataType.FLOAT, dims: first.dims, data: first.x } }, `--eval ${spec}`);
  return ds;
}

function printSensitivity(out: (line: string) => void, s: SensitivityResult, top = 10): void {
  out('');
  out(`sensitivity (one node int8 at a time, output vs float on ${s.samples} calibration samples; most sensitive first):`);
  out(table([
    ['node', 'op', 'SQNR dB', 'MSE', 'top-1 agree'],
    ...s.rows.slice(0, top).map((r) => [r.node, r.opType, r.sqnrDb.toFixed(1), r.mse.toExponential(2), pct(r.top1Agreement, 1)]),
    ['(all int8)', '', s.all.sqnrDb.toFixed(1), s.all.mse.toExponential(2), pct(s.all.top1Agreement, 1)],
  ], { align: ['l', 'l', 'r', 'r', 'r'] }));
  if (s.rows.length > top) out(`  … ${s.rows.length - top} more in the report`);
  for (const n of s.notes) out(`  ${n}`);
}

function printEvaluation(out: (line: string) => void, e: { dataset: string; samples: number; floatTop1: number; top1: number; dropPp: number }, mixed?: MixedPrecisionResult): void {
  out('');
  out(`top-1 on ${e.dataset} test (${e.samples} samples): float ${pct(e.floatTop1)}, quantized ${pct(e.top1)} (drop ${e.dropPp.toFixed(2)} pp)`);
  if (!mixed) return;
  out(`  --max-drop ${mixed.maxDropPp}: ${mixed.met ? 'met' : 'NOT met (no int8 node left to return to float)'}; ${mixed.excluded.length} node(s) returned to float`);
  for (const [i, x] of mixed.excluded.entries()) out(`    ${x.node} (${x.opType}): ${x.reason}; top-1 after: ${pct(mixed.steps[i + 1]!.top1)}`);
}

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
