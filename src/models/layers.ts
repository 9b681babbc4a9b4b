/**
 * Layer helpers shared by the architecture builders, named and initialised like PyTorch modules
 * so that a model's initializers read like a state_dict (`features.0.weight`, `fc1.bias`).
 *
 *   Conv2d / Linear   weight, bias ~ U(−1/√fan_in, +1/√fan_in), fan_in = (Cin/groups)·kh·kw
 *                     (PyTorch's default kaiming_uniform_(a=√5) reduces to exactly this bound)
 *   BatchNorm2d       weight γ = 1, bias β = 0, running_mean 0, running_var 1, ε = 1e-5
 *   Linear            Gemm(x, W, b, transB=1) with W in PyTorch layout [out, in]
 *
 * Random numbers come from the project's seeded PRNG (data/rng.ts), so a seed gives the same
 * weights on every platform and Node version.
 */
import { DataType } from '../onnx/proto.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { Rng } from '../data/rng.js';

export { Rng };

/** What a builder needs to add layers: the graph builder and the weight RNG. */
export interface LayerContext {
  g: GraphBuilder;
  rng: Rng;
}

export interface Conv2dSpec {
  cin: number;
  cout: number;
  k: number;
  stride?: number;
  pad?: number;
  groups?: number;
  bias?: boolean;
}

/** nn.Conv2d as one Conv node named `name`, with `name.weight` / `name.bias` initializers. */
export function conv2d({ g, rng }: LayerContext, x: Value, name: string, s: Conv2dSpec): Value {
  const groups = s.groups ?? 1;
  const fanIn = (s.cin / groups) * s.k * s.k;
  const bound = 1 / Math.sqrt(fanIn);
  const w = g.initializer(`${name}.weight`, rng.uniform(s.cout * fanIn, bound), [s.cout, s.cin / groups, s.k, s.k]);
  const b = s.bias === false ? null : g.initializer(`${name}.bias`, rng.uniform(s.cout, bound), [s.cout]);
  const pad = s.pad ?? 0;
  const stride = s.stride ?? 1;
  return g.Conv(x, w, b, {
    name,
    kernel_shape: [s.k, s.k],
    pads: [pad, pad, pad, pad],
    strides: [stride, stride],
    group: groups > 1 ? groups : undefined,
  });
}

/** nn.BatchNorm2d in eval mode. */
export function batchNorm2d({ g }: LayerContext, x: Value, name: string, channels: number): Value {
  const fill = (v: number) => new Float32Array(channels).fill(v);
  return g.BatchNormalization(
    x,
    g.initializer(`${name}.weight`, fill(1), [channels]),
    g.initializer(`${name}.bias`, fill(0), [channels]),
    g.initializer(`${name}.running_mean`, fill(0), [channels]),
    g.initializer(`${name}.running_var`, fill(1), [channels]),
    { name, epsilon: 1e-5 },
  );
}

/** nn.Linear as Gemm with transB=1 (weights [out, in]). */
export function linear({ g, rng }: LayerContext, x: Value, name: string, inFeatures: number, outFeatures: number): Value {
  const bound = 1 / Math.sqrt(inFeatures);
  const w = g.initializer(`${name}.weight`, rng.uniform(outFeatures * inFeatures, bound), [outFeatures, inFeatures]);
  const b = g.initializer(`${name}.bias`, rng.uniform(outFeatures, bound), [outFeatures]);
  return g.Gemm(x, w, b, { name, transB: 1 });
}

/** nn.ReLU6 as Clip(x, 0, 6). */
export function relu6({ g }: LayerContext, x: Value, name: string): Value {
  return g.Clip(x, g.scalar(0, DataType.FLOAT), g.scalar(6, DataType.FLOAT), { name });
}

/** 2×2 max pooling with stride 2 (nn.MaxPool2d(2)). */
export function maxPool2({ g }: LayerContext, x: Value, name: string): Value {
  return g.MaxPool(x, { name, kernel_shape: [2, 2], strides: [2, 2] });
}
