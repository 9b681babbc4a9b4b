/** `lithe train-graph`: writes the training-step graph of a model as an ONNX artifact. */
import { loadModel, saveModel } from '../onnx/io.js';
import { buildTrainingGraph } from '../train/training-graph.js';
import { choice, flag, int, positionals, str, UsageError, type Command } from './command.js';

export const trainGraphCommand: Command = {
  name: 'train-graph',
  summary: 'write the training-step graph (forward, loss, backward, update) as ONNX',
  help: `Usage: lithe train-graph MODEL.onnx -o STEP.onnx [--batch 64] [--loss cross-entropy|mse] [--optimizer none|sgd|adam|adamw]

Writes one training step of MODEL as a standard-ONNX graph that any ONNX Runtime (including
onnxruntime-web) can run. Inputs: the model's input (batch bound to --batch), labels (int64 [N]
for cross-entropy, float like the output for mse), every trainable parameter under its own name,
BatchNorm running statistics, and with an optimizer: lr, step (t = 1, 2, …) and the state tensors
(<param>.momentum, <param>.m, <param>.v; start at zero). Outputs: loss, the logits, then
grad.<param> (--optimizer none) or <param>.new and <state>.new — feed them back as the next inputs.

  -o, --output STEP   output path (written atomically)
  --batch N           static batch size (default 64)
  --loss L            cross-entropy (default) or mse
  --optimizer O       none (default: gradients out), sgd (momentum 0.9), adam, adamw
  --json              print the graph's inputs and outputs as JSON

Example: lithe train-graph ref-cnn.onnx -o ref-cnn.step.onnx --optimizer adam`,
  options: {
    output: { type: 'string', short: 'o' },
    batch: { type: 'string' },
    loss: { type: 'string' },
    optimizer: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const [file] = positionals(args, this, ['MODEL.onnx']);
    const out = str(args, 'output');
    if (!out) throw new UsageError('lithe train-graph: missing -o STEP.onnx', this);
    const optimizer = choice(args, 'optimizer', ['none', 'sgd', 'adam', 'adamw'] as const, 'none');
    const tg = buildTrainingGraph(loadModel(file!), {
      loss: choice(args, 'loss', ['cross-entropy', 'mse'] as const, 'cross-entropy'),
      optimizer: optimizer === 'sgd' ? { name: 'sgd', momentum: 0.9 } : optimizer,
      batch: int(args, 'batch', 64, { min: 1 }),
    });
    saveModel(tg.model, out);
    const g = tg.model.graph;
    const describe = (v: (typeof g.inputs)[number]) => ({ name: v.name, shape: v.shape });
    if (flag(args, 'json')) return io.out(JSON.stringify({ output: out, inputs: g.inputs.map(describe), outputs: g.outputs.map(describe) }, null, 2));
    io.out(`wrote ${out}: ${g.nodes.length} nodes, ${tg.params.size} trainable parameters, optimizer ${optimizer}`);
    io.out(`inputs:  ${g.inputs.map((v) => v.name).join(', ')}`);
    io.out(`outputs: ${g.outputs.map((v) => v.name).join(', ')}`);
  },
};
