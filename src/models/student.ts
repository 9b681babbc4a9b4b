/**
 * Tiny student CNN for 28×28 grayscale images, the distillation target:
 *
 *   conv1 1→16 3×3 (no pad), ReLU, maxpool 2   [N,16,13,13]
 *   flatten, fc 2704→10                         [N,10]
 *
 * Parameters: conv1 16·9+16 = 160, fc 2704·10+10 = 27,050; total 27,210.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { Rng, conv2d, linear, maxPool2, type LayerContext } from './layers.js';
import type { SmallCnnOptions } from './ref-cnn.js';

export function buildStudent(opts: SmallCnnOptions = {}): Model {
  const g = new GraphBuilder();
  const L: LayerContext = { g, rng: new Rng(opts.seed ?? 0) };
  let x = g.input('input', DataType.FLOAT, ['N', 1, 28, 28]);
  x = maxPool2(L, g.Relu(conv2d(L, x, 'conv1', { cin: 1, cout: 16, k: 3 }), { name: 'relu1' }), 'pool1');
  x = g.Flatten(x, { name: 'flatten' });
  g.output(linear(L, x, 'fc', 16 * 13 * 13, opts.numClasses ?? 10), 'logits');
  return g.model();
}
