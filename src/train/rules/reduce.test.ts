/** Reduction rules against finite differences (gradcheck.ts): axes as attribute or input, keepdims, all-axes. */
import { DataType } from '../../onnx/proto.js';
import { gradcheckTests, type GradCase } from '../gradcheck.js';
import { RULES } from './index.js';

const F = DataType.FLOAT;
const CASES: GradCase[] = (['ReduceSum', 'ReduceMean'] as const).flatMap((op) => {
  const c = (name: string, shape: number[], axes: number[] | undefined, keepdims: 0 | 1, opset = 17): GradCase => ({
    name: `${op}/${name}`,
    opset,
    build: (g) => g.output(op === 'ReduceSum' ? g.ReduceSum(g.input('x', F, shape), axes, { keepdims }) : g.ReduceMean(g.input('x', F, shape), axes, { keepdims }), 'y'),
  });
  return [
    c('axis1-keep', [2, 3, 4], [1], 1),
    c('axes-0-2-drop', [2, 3, 4], [0, 2], 0),
    c('negative-axis', [2, 3, 4], [-1], 0),
    c('all', [2, 3], undefined, 0),
    c('spatial-keep', [2, 3, 4, 4], [2, 3], 1),
    c('opset11-attr', [2, 3, 4], [1], 0, 11),
    c('opset18-input', [2, 3, 4], [1], 1, 18),
  ];
});
gradcheckTests(CASES, { rules: RULES });
