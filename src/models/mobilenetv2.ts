/**
 * MobileNetV2 (Sandler et al., 2018), layer for layer as torchvision's `mobilenet_v2`, with the
 * same module names (features.1.conv.0.0, classifier.1, …):
 *
 *   features.0       Conv 3×3/2 3→c0 + BN + ReLU6,  c0 = make_divisible(32·α, 8)
 *   features.1..17   inverted residual blocks (t, c, n, s):
 *                    (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1)
 *                    block = [1×1 expand to h = round(cin·t) + BN + ReLU6 if t ≠ 1]
 *                            → 3×3 depthwise stride s + BN + ReLU6 → 1×1 project + BN (linear)
 *                            (+ input when s = 1 and cin = cout)
 *   features.18      Conv 1×1 → make_divisible(1280·max(1, α), 8) + BN + ReLU6
 *   classifier       GlobalAveragePool, Flatten, (Dropout omitted at inference), Linear → classes
 *
 * make_divisible(v, 8) = max(8, ⌊v + 4⌋ rounded down to a multiple of 8), plus 8 when that lost
 * more than 10% of v. Convs have no bias (BN follows). α = 1, 224×224, 1000 classes gives
 * torchvision's 3,504,872 parameters.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Model, Value } from '../graph/ir.js';
import { DataType } from '../onnx/proto.js';
import { Rng, batchNorm2d, conv2d, linear, relu6, type LayerContext } from './layers.js';

export interface MobileNetV2Options {
  seed?: number;
  /** Channel multiplier α (default 1). */
  widthMultiplier?: number;
  /** Input height and width (default 224). */
  inputSize?: number;
  numClasses?: number;
  /** Input channels (default 3). */
  inChannels?: number;
}

/** torchvision's _make_divisible. */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let out = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

const SETTINGS: readonly [t: number, c: number, n: number, s: number][] = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/** Conv2dNormActivation: Conv (no bias) + BN + ReLU6, names `prefix.0/.1/.2`. */
function convBnRelu6(L: LayerContext, x: Value, prefix: string, cin: number, cout: number, k: number, stride = 1, groups = 1): Value {
  x = conv2d(L, x, `${prefix}.0`, { cin, cout, k, stride, pad: (k - 1) >> 1, groups, bias: false });
  x = batchNorm2d(L, x, `${prefix}.1`, cout);
  return relu6(L, x, `${prefix}.2`);
}

function invertedResidual(L: LayerContext, x: Value, prefix: string, cin: number, cout: number, stride: number, t: number): Value {
  const hidden = Math.round(cin * t);
  let y = x;
  let j = 0;
  if (t !== 1) y = convBnRelu6(L, y, `${prefix}.conv.${j++}`, cin, hidden, 1);
  y = convBnRelu6(L, y, `${prefix}.conv.${j++}`, hidden, hidden, 3, stride, hidden);
  y = conv2d(L, y, `${prefix}.conv.${j++}`, { cin: hidden, cout, k: 1, bias: false });
  y = batchNorm2d(L, y, `${prefix}.conv.${j++}`, cout);
  return stride === 1 && cin === cout ? L.g.Add(x, y, { name: `${prefix}.add` }) : y;
}

export function buildMobileNetV2(opts: MobileNetV2Options = {}): Model {
  const alpha = opts.widthMultiplier ?? 1;
  const size = opts.inputSize ?? 224;
  const g = new GraphBuilder();
  const L: LayerContext = { g, rng: new Rng(opts.seed ?? 0) };
  let x = g.input('input', DataType.FLOAT, ['N', opts.inChannels ?? 3, size, size]);
  let cin = makeDivisible(32 * alpha);
  x = convBnRelu6(L, x, 'features.0', opts.inChannels ?? 3, cin, 3, 2);
  let index = 1;
  for (const [t, c, n, s] of SETTINGS) {
    const cout = makeDivisible(c * alpha);
    for (let i = 0; i < n; i++) {
      x = invertedResidual(L, x, `features.${index++}`, cin, cout, i === 0 ? s : 1, t);
      cin = cout;
    }
  }
  const last = makeDivisible(1280 * Math.max(1, alpha));
  x = convBnRelu6(L, x, `features.${index}`, cin, last, 1);
  x = g.GlobalAveragePool(x, { name: 'pool' });
  x = g.Flatten(x, { name: 'flatten' });
  g.output(linear(L, x, 'classifier.1', last, opts.numClasses ?? 1000), 'logits');
  return g.model();
}
