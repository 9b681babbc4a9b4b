import { profileModel } from '../analysis/profile.js';
import { loadModel } from '../onnx/io.js';
import { dtypeName } from '../graph/tensor.js';
import type { Value } from '../graph/ir.js';
import { bytes, pct, si, table, thousands } from './format.js';
import { diskSize } from '../onnx/disk-size.js';
import { flag, int, positionals, type Command } from './command.js';

function describeValue(v: Value) {
  const shape = v.shape;
  return {
    name: v.name,
    dtype: v.dtype !== undefined ? dtypeName(v.dtype) : v.type ? 'non-tensor' : 'unknown',
    shape: shape ? shape.map((d) => d ?? '?') : null,
  };
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'opsets, inputs/outputs, parameters, MACs, size on disk, per-layer table',
  help: `Usage: lithe inspect MODEL [--batch N] [--initializers] [--json]

Prints the model's opset imports, inputs and outputs (shape, dtype), parameter count (total and
per initializer with --initializers), MACs (total and per node), size on disk (raw and gzip -9,
external data included), an op histogram and a per-layer table (node, op, output shape, params,
MACs, share of total).

What is counted
  Parameters: float initializers in weight slots (Conv/ConvTranspose W,B; Gemm/MatMul operands;
    BatchNormalization/LayerNormalization scale and bias; Gather tables; non-scalar Add/Mul
    operands) and DequantizeLinear data; NOT BatchNormalization running mean/var, integer
    initializers (shapes, axes), or scalars — the same as PyTorch's model.parameters().
  MACs (one multiply-accumulate each, symbolic dims bound to --batch, default 1):
    Conv            N·Cout·Hout·Wout·(Cin/groups)·kh·kw  (groups, depthwise, dilation, stride)
    ConvTranspose   N·Cin·Hin·Win·(Cout/groups)·kh·kw
    Gemm            M·N·K;  MatMul: prod(batch dims)·M·N·K
    pooling         output elements × kernel size (global pools: input elements)
    reductions      input elements
    elementwise     output elements (activations, Add/Mul/…, BatchNormalization, Softmax, Clip)
    data movement   0 (Reshape, Flatten, Transpose, Concat, Slice, Gather, Pad, Cast, …)
  "dense" MACs are the Conv/ConvTranspose/Gemm/MatMul part, the figure papers quote.

  --batch N        bind symbolic dims to N (default 1)
  --initializers   list every initializer and whether it counts as a parameter
  --json           print one JSON object

Example: lithe inspect mobilenetv2.onnx`,
  options: { batch: { type: 'string' }, initializers: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    const [file] = positionals(args, this, ['MODEL']);
    const batch = int(args, 'batch', 1, { min: 1 });
    const model = loadModel(file!);
    const p = profileModel(model, { batch });
    const disk = diskSize(file!, model);
    const g = model.graph;
    const inputs = g.inputs.filter((v) => !v.initializer).map(describeValue);
    const outputs = g.outputs.map(describeValue);
    const opsets = [...model.opsetImports].map(([domain, version]) => ({ domain: domain || 'ai.onnx', version }));
    if (flag(args, 'json')) {
      io.out(
        JSON.stringify(
          {
            model: file,
            irVersion: model.irVersion,
            producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
            opsets,
            inputs,
            outputs,
            params: { total: p.params.total, initializers: p.params.initializers },
            macs: { batch, total: p.macs.total, dense: p.macs.dense, byKind: p.macs.byKind, unknownNodes: p.macs.unknown.map((n) => n.name || n.op) },
            size: disk,
            ops: p.histogram,
            layers: p.layers,
          },
          null,
          2,
        ),
      );
      return;
    }
    const shape = (s: (string | number)[] | null) => (s ? `[${s.join(', ')}]` : '?');
    io.out(`${file}  (IR v${model.irVersion}${model.producerName ? `, from ${model.producerName} ${model.producerVersion ?? ''}`.trimEnd() : ''})`);
    io.out(`opsets:  ${opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`);
    for (const v of inputs) io.out(`input:   ${v.name}  ${v.dtype}${shape(v.shape)}`);
    for (const v of outputs) io.out(`output:  ${v.name}  ${v.dtype}${shape(v.shape)}`);
    io.out(`params:  ${thousands(p.params.total)}`);
    io.out(`MACs:    ${thousands(p.macs.total)} (${si(p.macs.total)}) at batch ${batch}; Conv/Gemm/MatMul ${thousands(p.macs.dense)} (${si(p.macs.dense)})`);
    if (p.macs.unknown.length) io.out(`         not counted (unknown op or shape): ${p.macs.unknown.map((n) => `${n.op} "${n.name}"`).join(', ')}`);
    io.out(`size:    ${bytes(disk.bytes)} on disk, ${bytes(disk.gzipBytes)} gzip${disk.files.length > 1 ? ` (${disk.files.length} files)` : ''}`);
    io.out('');
    io.out('ops:');
    io.out(table([['op', 'count', 'params', 'MACs'], ...p.histogram.map((h) => [h.op, h.count, thousands(h.params), thousands(h.macs)])]));
    io.out('');
    io.out(
      table([
        ['layer', 'op', 'output', 'params', 'MACs', 'share'],
        ...p.layers.map((r) => [r.name, r.op, r.outputShape ? `[${r.outputShape.map((d) => d ?? '?').join(',')}]` : '?', thousands(r.params), r.macs === null ? '?' : thousands(r.macs), pct(r.share, 1)]),
      ], { align: ['l', 'l', 'l', 'r', 'r', 'r'] }),
    );
    if (flag(args, 'initializers')) {
      io.out('');
      io.out(
        table([
          ['initializer', 'dtype', 'shape', 'elements', 'param?'],
          ...p.params.initializers.map((e) => [e.name, dtypeName(e.dtype), `[${e.dims.join(',')}]`, thousands(e.elements), e.counted ? 'yes' : `no: ${e.reason}`]),
        ], { align: ['l', 'l', 'l', 'r', 'l'] }),
      );
    }
  },
};
