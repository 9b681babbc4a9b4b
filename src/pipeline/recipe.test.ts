import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../data/dataset.js';
import { LitheError } from '../errors.js';
import { loadRecipe, parseRecipe, STEP_KINDS } from './recipe.js';

test('recipe: YAML and JSON give the same steps, options typed, names default to the kind', () => {
  const yaml = parseRecipe(
    'name: r\nsteps:\n  - kind: prune\n    sparsity: 0.7\n    exclude: conv1, fc\n  - kind: quantize\n    name: int8\n    mode: static\n',
    'r.yaml',
  );
  const json = parseRecipe(
    JSON.stringify({
      name: 'r',
      steps: [
        { kind: 'prune', sparsity: 0.7, exclude: ['conv1', 'fc'] },
        { kind: 'quantize', name: 'int8', mode: 'static' },
      ],
    }),
    'r.json',
  );
  for (const r of [yaml, json]) {
    assert.equal(r.name, 'r');
    assert.deepEqual(
      r.steps.map((s) => [s.index, s.kind, s.name]),
      [
        [1, 'prune', 'prune'],
        [2, 'quantize', 'int8'],
      ],
    );
    assert.equal(r.steps[0]!.options.num('sparsity'), 0.7);
    assert.deepEqual(r.steps[0]!.options.list('exclude'), ['conv1', 'fc']);
    assert.equal(r.steps[0]!.options.num('finetune-epochs', 0), 0);
    assert.equal(r.steps[1]!.options.str('mode'), 'static');
  }
});

/** The one-line message a recipe gets, as the CLI prints it. */
function error(text: string, source = 'r.yaml'): string {
  try {
    parseRecipe(text, source);
  } catch (e) {
    assert.ok(e instanceof LitheError, String(e));
    assert.equal(e.code, 'E_USAGE');
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return e.message;
  }
  assert.fail(`no error for ${text}`);
}

test('recipe errors name the step (1-based) and the option', () => {
  const cases: [string, RegExp][] = [
    ['steps:\n  - kind: prune\n  - kind: squash\n', /^recipe r\.yaml: step 2: unknown kind "squash"\. Kinds: distill, prune, quantize$/],
    ['steps:\n  - sparsity: 0.5\n', /step 1: missing 'kind'/],
    ['steps:\n  - kind: prune\n    sparsty: 0.5\n', /step 1 \(prune\): unknown option 'sparsty'\. Options: sparsity, method, /],
    ['steps:\n  - kind: prune\n    sparsity: "half"\n', /step 1 \(prune\): option 'sparsity' must be a number ≥ 0 and ≤ 1, got string "half"/],
    ['steps:\n  - kind: prune\n    sparsity: 1.5\n', /option 'sparsity' must be a number ≥ 0 and ≤ 1, got number 1.5/],
    ['steps:\n  - kind: prune\n    finetune-epochs: 1.5\n', /option 'finetune-epochs' must be an integer ≥ 0, got number 1.5/],
    [
      'steps:\n  - kind: prune\n  - kind: quantize\n    mode: int4\n',
      /step 2 \(quantize\): option 'mode' must be one of static, dynamic, fp16, got string "int4"/,
    ],
    ['steps:\n  - kind: prune\n    structured: "yes"\n', /option 'structured' must be true or false, got string "yes"/],
    ['steps:\n  - kind: distill\n    epochs: 0\n', /step 1 \(distill\): option 'epochs' must be an integer ≥ 1, got number 0/],
    ['steps:\n  - kind: distill\n    temperature: 0\n', /option 'temperature' must be a number > 0/],
    ['steps:\n  - kind: prune\n    method: threshold\n', /step 1 \(prune\): option 'method' threshold needs option 'threshold'/],
    ['steps:\n  - kind: prune\n    target-macs: 0.5\n', /option 'target-macs' needs 'structured: true'/],
    ['steps:\n  - kind: prune\n    lr-schedule: cosine\n', /option 'lr-schedule' needs 'finetune-epochs'/],
    ['steps:\n  - kind: prune\n    structured: true\n    method: random\n', /structured ranks channels by l1, l2 or taylor/],
    ['steps:\n  - kind: quantize\n    mode: dynamic\n    calib-size: 10\n', /step 1 \(quantize\): option 'calib-size' is for mode static, not dynamic/],
    ['steps:\n  - kind: quantize\n    per-channel: true\n    per-tensor: true\n', /'per-channel' and 'per-tensor' exclude each other/],
    ['steps:\n  - kind: prune\n  - kind: prune\n', /step 2 \(prune\): name 'prune' is used by an earlier step/],
    ['steps:\n  - kind: prune\n    name: ../x\n', /step 1 \(prune\): 'name' must be letters/],
    ['steps: []\n', /'steps' must be a non-empty list, got a list/],
    ['- kind: prune\n', /expected a mapping with 'steps', got a list/],
    ['stepz:\n  - kind: prune\n', /unknown key 'stepz'\. Top-level keys: name, description, max-drop, steps/],
    ['max-drop: -1\nsteps:\n  - kind: prune\n', /'max-drop' must be a number ≥ 0/],
    ['steps:\n  - kind: prune\n   sparsity: 1\n', /^recipe r\.yaml: not valid YAML: /],
  ];
  for (const [text, re] of cases) assert.match(error(text), re, text);
  assert.match(error('{"steps": [', 'r.json'), /^recipe r\.json: not valid JSON: /);
});

test('recipe: a missing file is E_IO naming it', () => {
  assert.throws(
    () => loadRecipe('/nonexistent/r.yaml'),
    (e: LitheError) => e.code === 'E_IO' && /cannot read recipe \/nonexistent\/r\.yaml: ENOENT/.test(e.message),
  );
});

test('every example recipe in recipes/ is valid', () => {
  const dir = join(packageRoot(), 'recipes');
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
  assert.ok(files.includes('demo.yaml') && files.includes('demo-quick.yaml'), files.join(', '));
  for (const f of files) {
    const r = loadRecipe(join(dir, f));
    assert.ok(r.steps.length > 0 && r.steps.every((s) => (STEP_KINDS as readonly string[]).includes(s.kind)), f);
  }
});
