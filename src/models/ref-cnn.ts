/**
 * Reference CNN for 28×28 grayscale images (Fashion-MNIST), the usual PyTorch tutorial net:
 *
 *   conv1 1→16 3×3 pad 1, ReLU, maxpool 2      [N,16,14,14]
 *   conv2 16→32 3×3 pad 1, ReLU, maxpool 2     [N,32,7,7]
 *   flatten, fc1 1568→128, ReLU, fc2 128→10    [N,10]
 *
 * Parameters: conv1 16·9+16 = 160, conv2 32·16·9+32 = 4,640, fc1 1568·128+128 = 200,832,
 * fc2 128·10+10 = 1,290; total 206,922.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { Rng, conv2d, linear, maxPool2, type LayerContext } from './layers.js';

export interface SmallCnnOptions {
  seed?: number;
  numClasses?: number;
}

export function buildRefCnn(opts: SmallCnnOptions = {}): Model {
  const g = new GraphBuilder();
  const L: LayerContext = { g, rng: new Rng(opts.seed ?? 0) };
  const classes = opts.numClasses ?? 10;
  let x = g.input('input', DataType.FLOAT, ['N', 1, 28, 28]);
  x = maxPool2(L, g.Relu(conv2d(L, x, 'conv1', { cin: 1, cout: 16, k: 3, pad: 1 }), { name: 'relu1' }), 'pool1');
  x = maxPool2(L, g.Relu(conv2d(L, x, 'conv2', { cin: 16, cout: 32, k: 3, pad: 1 }), { name: 'relu2' }), 'pool2');
  x = g.Flatten(x, { name: 'flatten' });
  x = g.Relu(linear(L, x, 'fc1', 32 * 7 * 7, 128), { name: 'relu3' });
  g.output(linear(L, x, 'fc2', 128, classes), 'logits');
  return g.model();
}
