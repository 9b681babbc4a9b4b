/**
 * The combined gradient-rule table: one entry per op, from the family files. A family adds its
 * table here; nothing registers itself by side effect.
 */
import type { GradRuleTable } from '../rule.js';
import { elementwiseRules } from './elementwise.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';

export const RULES: GradRuleTable = { ...elementwiseRules, ...reduceRules, ...shapeRules };

/** Op types that have a gradient rule, sorted (for messages and docs). */
export const SUPPORTED_OPS: readonly string[] = Object.keys(RULES).sort();
