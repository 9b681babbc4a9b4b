import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Graph, Model } from '../graph/ir.js';
import { loadModel, saveModel } from '../onnx/io.js';
import { flag, int, positionals, str, UsageError, type Command } from './command.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'rewrite a model through the IR, moving large tensors to or from external data',
  help: `Usage: lithe convert MODEL -o OUT [--external-data FILE] [--size-threshold BYTES] [--internal]

Loads MODEL into lithe's IR and writes it back out. Everything in the file survives (all
dtypes, attributes, subgraphs, functions, metadata). Models past protobuf's 2 GB limit must keep
their large tensors in an external data file.

  -o, --output OUT        output model path (written atomically; MODEL and its data files are
                          never modified, so OUT and FILE may not be any of them)
  --external-data FILE    store tensors of at least --size-threshold bytes in FILE, a file name
                          in OUT's folder (default threshold 1024 bytes)
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
    const sizeThreshold = int(args, 'size-threshold', 1024);
    const model = loadModel(file!);
    // Saving reads tensors from memory, so overwriting the input would work, but it would break
    // the promise that the input is never modified (and another model may share its data file).
    const inputs = [file!, ...externalFiles(model, dirname(resolve(file!)))].map(canonical);
    for (const [target, what] of [[out, 'OUT'], ...(ext ? [[join(dirname(resolve(out)), ext), '--external-data']] : [])] as const)
      if (inputs.includes(canonical(target))) throw new UsageError(`lithe convert: ${what} '${target}' is one of the input's files; lithe never modifies its input`, this);
    saveModel(model, out, { externalData: ext ? { location: basename(ext), sizeThreshold } : false });
    io.out(`wrote ${out}${ext ? ` (+ external data ${join(dirname(out), ext)})` : ''}`);
  },
};

/** The path a file has, or would have once created (symlinks of existing files resolved). */
function canonical(path: string): string {
  return existsSync(path) ? realpathSync(path) : resolve(path);
}

/** Data files the loaded model's external tensors came from (main graph and subgraphs). */
function externalFiles(model: Model, folder: string): string[] {
  const found = new Set<string>();
  const visit = (g: Graph) => {
    for (const v of g.initializers.values()) {
      const loc = v.initializer?.externalSource?.find((e) => e.key === 'location')?.value;
      if (loc) found.add(join(folder, loc));
    }
    for (const n of g.nodes) n.subgraphs().forEach(visit);
  };
  visit(model.graph);
  return [...found];
}
