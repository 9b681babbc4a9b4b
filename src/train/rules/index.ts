/**
 * The combined gradient-rule table: one entry per op, from the family files. A family adds its
 * table here; nothing registers itself by side effect.
 *
 * Families: elementwise (arithmetic, activations, softmax, Gemm/MatMul), reduce, shape,
 * conv, pool and norm (rules/conv.ts, pool.ts, norm.ts: Conv/ConvTranspose, pools,
 * BatchNormalization in training mode, LayerNormalization), and quant (rules/quant.ts:
 * QuantizeLinear's clipped straight-through estimator and DequantizeLinear, for QAT).
 */
import type { GradRuleTable } from '../rule.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { normRules } from './norm.js';
import { poolRules } from './pool.js';
import { quantRules } from './quant.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';

export const RULES: GradRuleTable = { ...elementwiseRules, ...reduceRules, ...shapeRules, ...convRules, ...poolRules, ...normRules, ...quantRules };

/** Op types that have a gradient rule, sorted (for messages and docs). */
export const SUPPORTED_OPS: readonly string[] = Object.keys(RULES).sort();
