/**
 * Recipes: what `lithe compress` runs, as a list of steps read from JSON or YAML.
 *
 *   name: demo                      # optional: the report's title
 *   max-drop: 2                     # optional: default for --max-drop, in percentage points
 *   steps:
 *     - kind: distill               # distill | prune | quantize
 *       student: student            # then the step's options, spelled as the CLI's flags
 *       epochs: 3
 *     - kind: prune
 *       name: prune-60              # optional; the stage's label and file name (default: kind)
 *       sparsity: 0.6
 *       finetune-epochs: 1
 *     - kind: quantize
 *       mode: static
 *
 * Every option has a type (number, integer, boolean, string, list or one of a set of words) and
 * a range where it matters; an unknown key, a wrong type or an option that needs another is a
 * usage error naming the step (1-based, as a user counts them) and the option. Nothing runs
 * before the whole recipe is valid.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LitheError } from '../errors.js';

export const STEP_KINDS = ['distill', 'prune', 'quantize'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export type OptionSpec =
  | { type: 'number'; min?: number; max?: number; gt?: number }
  | { type: 'int'; min?: number }
  | { type: 'boolean' }
  | { type: 'string' }
  | { type: 'list' }
  | { type: 'choice'; values: readonly string[] };

export type OptionValue = number | boolean | string | string[];

/**
 * The options each step kind takes, named and typed as the matching command's flags
 * (`lithe distill`, `lithe prune`, `lithe quantize`). The data set, output paths and --json come
 * from `lithe compress` itself and are not step options.
 */
export const STEP_OPTIONS: Readonly<Record<StepKind, Readonly<Record<string, OptionSpec>>>> = {
  distill: {
    student: { type: 'string' },
    epochs: { type: 'int', min: 1 },
    temperature: { type: 'number', gt: 0 },
    alpha: { type: 'number', min: 0, max: 1 },
    features: { type: 'list' },
    'feature-weight': { type: 'number', min: 0 },
    'teacher-mode': { type: 'choice', values: ['auto', 'cache', 'run', 'graph'] },
    augment: { type: 'boolean' },
    'augment-pad': { type: 'int', min: 0 },
    batch: { type: 'int', min: 1 },
    lr: { type: 'number', gt: 0 },
    optimizer: { type: 'choice', values: ['sgd', 'adam', 'adamw'] },
    'weight-decay': { type: 'number', min: 0 },
    schedule: { type: 'choice', values: ['constant', 'cosine', 'onecycle'] },
    seed: { type: 'int', min: 0 },
    limit: { type: 'int', min: 1 },
  },
  prune: {
    sparsity: { type: 'number', min: 0, max: 1 },
    method: { type: 'choice', values: ['l1', 'l2', 'random', 'threshold', 'taylor'] },
    threshold: { type: 'number', min: 0 },
    scope: { type: 'choice', values: ['global', 'local'] },
    include: { type: 'list' },
    exclude: { type: 'list' },
    structured: { type: 'boolean' },
    'target-macs': { type: 'number', gt: 0, max: 1 },
    'channel-multiple': { type: 'int', min: 1 },
    schedule: { type: 'choice', values: ['oneshot', 'iterative', 'polynomial'] },
    steps: { type: 'int', min: 1 },
    'finetune-epochs': { type: 'int', min: 0 },
    batch: { type: 'int', min: 1 },
    lr: { type: 'number', gt: 0 },
    'lr-schedule': { type: 'choice', values: ['constant', 'cosine', 'onecycle'] },
    limit: { type: 'int', min: 1 },
    'taylor-batches': { type: 'int', min: 1 },
    seed: { type: 'int', min: 0 },
  },
  quantize: {
    mode: { type: 'choice', values: ['static', 'dynamic', 'fp16'] },
    'calib-size': { type: 'int', min: 1 },
    method: { type: 'choice', values: ['minmax', 'percentile', 'entropy', 'mse'] },
    percentile: { type: 'number', gt: 0, max: 100 },
    'per-channel': { type: 'boolean' },
    'per-tensor': { type: 'boolean' },
    'weight-type': { type: 'choice', values: ['int8', 'uint8'] },
    'activation-type': { type: 'choice', values: ['uint8', 'int8'] },
    'symmetric-activations': { type: 'boolean' },
    'reduce-range': { type: 'boolean' },
    exclude: { type: 'list' },
    'exclude-ops': { type: 'list' },
    /** static: per-node sensitivity for the report (default true). */
    sensitivity: { type: 'boolean' },
  },
};

export interface RecipeStep {
  /** 1-based position in the recipe. */
  index: number;
  kind: StepKind;
  /** Unique within the recipe: the stage's label and file name. */
  name: string;
  options: StepOptions;
}

export interface Recipe {
  name?: string;
  /** Default for --max-drop, percentage points of top-1. */
  maxDrop?: number;
  steps: RecipeStep[];
  /** Where the recipe came from: a file path or 'built-in …'. */
  source: string;
}

/** A step's validated options; the getters only pick defaults, the types were checked on parse. */
export class StepOptions {
  constructor(readonly values: Readonly<Record<string, OptionValue>>) {}
  has(name: string): boolean {
    return this.values[name] !== undefined;
  }
  num(name: string, fallback: number): number;
  num(name: string): number | undefined;
  num(name: string, fallback?: number): number | undefined {
    return (this.values[name] as number | undefined) ?? fallback;
  }
  str<T extends string = string>(name: string, fallback: NoInfer<T>): T;
  str<T extends string = string>(name: string): T | undefined;
  str<T extends string = string>(name: string, fallback?: T): T | undefined {
    return (this.values[name] as T | undefined) ?? fallback;
  }
  flag(name: string): boolean {
    return this.values[name] === true;
  }
  list(name: string): string[] {
    return (this.values[name] as string[] | undefined) ?? [];
  }
}

export class RecipeError extends LitheError {
  constructor(source: string, message: string) {
    super('E_USAGE', `recipe ${source}: ${message}`);
  }
}

const TOP_LEVEL = ['name', 'description', 'max-drop', 'steps'];

/** Reads and validates a recipe file (.json as JSON, anything else as YAML, which includes JSON). */
export function loadRecipe(file: string): Recipe {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LitheError('E_IO', `cannot read recipe ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRecipe(text, file);
}

export function parseRecipe(text: string, source: string): Recipe {
  let doc: unknown;
  try {
    doc = extname(source).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RecipeError(source, `not valid ${extname(source).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateRecipe(doc, source);
}

const describe = (v: unknown): string =>
  Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateRecipe(doc: unknown, source: string): Recipe {
  const fail = (msg: string): never => {
    throw new RecipeError(source, msg);
  };
  if (!isRecord(doc)) return fail(`expected a mapping with 'steps', got ${describe(doc)}`);
  const unknownTop = Object.keys(doc).filter((k) => !TOP_LEVEL.includes(k));
  if (unknownTop.length) fail(`unknown key '${unknownTop[0]}'. Top-level keys: ${TOP_LEVEL.join(', ')}`);
  if (doc.name !== undefined && typeof doc.name !== 'string') fail(`'name' must be a string, got ${describe(doc.name)}`);
  const maxDrop = doc['max-drop'];
  if (maxDrop !== undefined && !(typeof maxDrop === 'number' && Number.isFinite(maxDrop) && maxDrop >= 0))
    fail(`'max-drop' must be a number ≥ 0 (percentage points), got ${describe(maxDrop)}`);
  if (!Array.isArray(doc.steps) || doc.steps.length === 0) return fail(`'steps' must be a non-empty list, got ${describe(doc.steps)}`);
  const names = new Set<string>();
  const steps = doc.steps.map((raw: unknown, i: number): RecipeStep => {
    const step = validateStep(raw, i + 1, source);
    if (names.has(step.name)) fail(`step ${i + 1} (${step.kind}): name '${step.name}' is used by an earlier step; give it a 'name'`);
    names.add(step.name);
    return step;
  });
  return { name: doc.name as string | undefined, maxDrop: maxDrop as number | undefined, steps, source };
}

function validateStep(raw: unknown, index: number, source: string): RecipeStep {
  const at = `step ${index}`;
  const fail = (msg: string): never => {
    throw new RecipeError(source, msg);
  };
  if (!isRecord(raw)) return fail(`${at}: expected a mapping with 'kind', got ${describe(raw)}`);
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(STEP_KINDS as readonly string[]).includes(kind))
    return fail(`${at}: ${kind === undefined ? "missing 'kind'" : `unknown kind ${JSON.stringify(kind)}`}. Kinds: ${STEP_KINDS.join(', ')}`);
  const where = `${at} (${kind})`;
  const name = raw.name ?? kind;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    fail(`${where}: 'name' must be letters, digits, '.', '_' or '-' (it names a file), got ${describe(name)}`);
  const specs = STEP_OPTIONS[kind as StepKind];
  const values: Record<string, OptionValue> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (key === 'kind' || key === 'name') continue;
    const spec = specs[key];
    if (!spec) fail(`${where}: unknown option '${key}'. Options: ${Object.keys(specs).join(', ')}`);
    const problem = checkValue(spec!, v);
    if (problem) fail(`${where}: option '${key}' ${problem}, got ${describe(v)}`);
    values[key] =
      spec!.type === 'list' && typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : (v as OptionValue);
  }
  const options = new StepOptions(values);
  const conflict = CHECKS[kind as StepKind](options);
  if (conflict) fail(`${where}: ${conflict}`);
  return { index, kind: kind as StepKind, name: name as string, options };
}

/** Why `v` does not fit `spec`, or undefined. */
function checkValue(spec: OptionSpec, v: unknown): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'string':
      return typeof v === 'string' && v !== '' ? undefined : 'must be a non-empty string';
    case 'list':
      return typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'))
        ? undefined
        : 'must be a list of names (or one comma-separated string)';
    case 'choice':
      return typeof v === 'string' && spec.values.includes(v) ? undefined : `must be one of ${spec.values.join(', ')}`;
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= (spec.min ?? -Infinity) ? undefined : `must be an integer ≥ ${spec.min ?? 0}`;
    case 'number': {
      const ok =
        typeof v === 'number' && Number.isFinite(v) && v >= (spec.min ?? -Infinity) && v <= (spec.max ?? Infinity) && (spec.gt === undefined || v > spec.gt);
      if (ok) return undefined;
      const lo = spec.gt !== undefined ? `> ${spec.gt}` : spec.min !== undefined ? `≥ ${spec.min}` : '';
      const hi = spec.max !== undefined ? `≤ ${spec.max}` : '';
      return `must be a number${lo || hi ? ' ' + [lo, hi].filter(Boolean).join(' and ') : ''}`;
    }
  }
}

/** Options that need or exclude each other, as the commands check them. */
const CHECKS: Record<StepKind, (o: StepOptions) => string | undefined> = {
  distill: (o) => {
    if (o.has('feature-weight') && !o.has('features')) return "option 'feature-weight' needs option 'features'";
    if (o.str('teacher-mode') === 'cache' && (o.flag('augment') || o.has('features')))
      return "option 'teacher-mode' cache cannot serve 'augment' or 'features' (the teacher must see every batch); use run or graph";
    return undefined;
  },
  prune: (o) => {
    const method = o.str('method', 'l1');
    if (method === 'threshold' && !o.has('threshold')) return "option 'method' threshold needs option 'threshold'";
    if (o.has('threshold') && method !== 'threshold') return "option 'threshold' is for method threshold";
    if (o.has('target-macs') && !o.flag('structured')) return "option 'target-macs' needs 'structured: true'";
    if (o.flag('structured') && !['l1', 'l2', 'taylor'].includes(method))
      return `option 'method' ${method} is for unstructured pruning; structured ranks channels by l1, l2 or taylor`;
    if (o.has('lr-schedule') && !o.has('finetune-epochs')) return "option 'lr-schedule' needs 'finetune-epochs'";
    if (o.flag('structured') && o.str('schedule', 'oneshot') !== 'oneshot') return "option 'schedule' is for unstructured pruning; structured prunes one-shot";
    if (o.has('channel-multiple') && !o.flag('structured')) return "option 'channel-multiple' needs 'structured: true'";
    return undefined;
  },
  quantize: (o) => {
    if (o.flag('per-channel') && o.flag('per-tensor')) return "options 'per-channel' and 'per-tensor' exclude each other";
    const mode = o.str('mode', 'static');
    const staticOnly = ['calib-size', 'method', 'percentile', 'weight-type', 'activation-type', 'symmetric-activations', 'sensitivity'].find((k) => o.has(k));
    if (mode !== 'static' && staticOnly) return `option '${staticOnly}' is for mode static, not ${mode}`;
    if (o.has('percentile') && o.str('method', 'minmax') !== 'percentile') return "option 'percentile' needs 'method: percentile'";
    return undefined;
  },
};
