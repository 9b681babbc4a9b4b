/**
 * Teacher CNN for 28×28 grayscale images: a VGG-style net of three conv blocks, as a PyTorch
 * user would write it with nn.Sequential:
 *
 *   features.{0..6}    Conv(1→32)+BN+ReLU, Conv(32→32)+BN+ReLU, MaxPool 2      [N,32,14,14]
 *   features.{7..13}   Conv(32→64)+BN+ReLU, Conv(64→64)+BN+ReLU, MaxPool 2     [N,64,7,7]
 *   features.{14..20}  Conv(64→128)+BN+ReLU, Conv(128→128)+BN+ReLU, MaxPool 2  [N,128,3,3]
 *   classifier         Flatten, Linear(1152→256), ReLU, (Dropout), Linear(256→10)
 *
 * All convs are 3×3 pad 1 with bias (nn.Conv2d's default). Parameters (BN γ, β counted; running
 * statistics not, as torch's parameters()):
 *   convs  (9·1+1)·32 + (9·32+1)·32 + (9·32+1)·64 + (9·64+1)·64 + (9·64+1)·128 + (9·128+1)·128
 *          = 320 + 9,248 + 18,496 + 36,928 + 73,856 + 147,584 = 286,432
 *   BN     2·(32+32+64+64+128+128) = 896
 *   fc     1152·256+256 = 295,168;  256·10+10 = 2,570
 *   total  585,066
 * Dropout is a no-op at inference and is left out of the graph.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model, Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { Rng, batchNorm2d, conv2d, linear, maxPool2, type LayerContext } from './layers.js';
import type { SmallCnnOptions } from './ref-cnn.js';

export const TEACHER_PARAMS = 585_066;

export function buildTeacher(opts: SmallCnnOptions = {}): Model {
  const g = new GraphBuilder();
  const L: LayerContext = { g, rng: new Rng(opts.seed ?? 0) };
  let x: Value = g.input('input', DataType.FLOAT, ['N', 1, 28, 28]);
  let cin = 1;
  let i = 0; // index in the nn.Sequential, so names match a PyTorch state_dict
  const convBnRelu = (cout: number) => {
    x = conv2d(L, x, `features.${i++}`, { cin, cout, k: 3, pad: 1 });
    x = batchNorm2d(L, x, `features.${i++}`, cout);
    x = g.Relu(x, { name: `features.${i++}` });
    cin = cout;
  };
  for (const width of [32, 64, 128]) {
    convBnRelu(width);
    convBnRelu(width);
    x = maxPool2(L, x, `features.${i++}`);
  }
  x = g.Flatten(x, { name: 'classifier.0' });
  x = g.Relu(linear(L, x, 'classifier.1', 128 * 3 * 3, 256), { name: 'classifier.2' });
  g.output(linear(L, x, 'classifier.4', 256, opts.numClasses ?? 10), 'logits');
  return g.model();
}
