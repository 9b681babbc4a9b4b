import { basename } from 'node:path';
import { loadModel, saveModel } from '../onnx/io.js';
import { flag, int, positionals, str, UsageError, type Command } from './command.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'rewrite a model through the IR, moving large tensors to or from external data',
  help: `Usage: lithe convert MODEL -o OUT [--external-data FILE] [--size-threshold BYTES] [--internal]

Loads MODEL into lithe's IR and writes it back out. Everything in the file survives (all
dtypes, attributes, subgraphs, functions, metadata). Models past protobuf's 2 GB limit must keep
their large tensors in an external data file.

  -o, --output OUT        output model path (written atomically; MODEL is never modified)
  --external-data FILE    store tensors of at least --size-threshold bytes in FILE, a path
                          relative to OUT's folder (default threshold 1024 bytes)
  --size-threshold BYTES  the threshold for --external-data
  --internal              embed every tensor in OUT (the default when --external-data is absent)

Examples:
  lithe convert big.onnx -o big-ext.onnx --external-data big-ext.onnx.data
  lithe convert big-ext.onnx -o big-single.onnx --internal`,
  options: {
    output: { type: 'string', short: 'o' },
    'external-data': { type: 'string' },
    'size-threshold': { type: 'string' },
    internal: { type: 'boolean' },
  },
  async run(args, io) {
    const [file] = positionals(args, this, ['MODEL']);
    const out = str(args, 'output');
    if (!out) throw new UsageError('lithe convert: missing -o OUT', this);
    const ext = str(args, 'external-data');
    if (ext && flag(args, 'internal')) throw new UsageError('lithe convert: --external-data and --internal exclude each other', this);
    if (str(args, 'size-threshold') && !ext) throw new UsageError('lithe convert: --size-threshold needs --external-data', this);
    if (ext && (ext.includes('/') || ext.includes('\\'))) throw new UsageError(`--external-data must be a file name in OUT's folder, got '${ext}'`);
    const model = loadModel(file!);
    saveModel(model, out, { externalData: ext ? { location: basename(ext), sizeThreshold: int(args, 'size-threshold', 1024) } : false });
    io.out(`wrote ${out}${ext ? ` (+ external data ${ext})` : ''}`);
  },
};
