import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EXIT_CODES } from '../errors.js';
import { buildArchitecture } from '../models/index.js';
import { saveModel } from '../onnx/io.js';
import { captureIO, commands, main } from './main.js';
import { tempDir } from './testing.js';

test('lithe --help lists every command and the exit codes; no command is a usage error', async () => {
  const io = captureIO();
  assert.equal(await main(['--help'], io), 0);
  for (const c of commands) assert.match(io.stdout.join('\n'), new RegExp(`^  ${c.name}\\s`, 'm'));
  assert.match(io.stdout.join('\n'), /2 E_USAGE, 3 E_IO, 4 E_BAD_MODEL, 5 E_UNSUPPORTED_OP, 6 E_BAD_INPUT, 7 E_RUNTIME, 70 internal error/);
  assert.equal(await main([], captureIO()), EXIT_CODES.E_USAGE);
});

test('an unknown command is a usage error naming it', async () => {
  const io = captureIO();
  assert.equal(await main(['frobnicate'], io), EXIT_CODES.E_USAGE);
  assert.match(io.stderr[0]!, /^lithe: unknown command 'frobnicate'\. Commands: inspect, run, eval/);
});

test('every command answers --help with its usage line', async () => {
  for (const c of commands) {
    const io = captureIO();
    assert.equal(await main([c.name, '--help'], io), 0);
    assert.match(io.stdout[0]!, new RegExp(`^Usage: lithe ${c.name}\\b`));
  }
});

test('a command that ends with `return io.out(…)` still exits 0 (bench --json)', async () => {
  const file = join(tempDir(), 'student.onnx');
  saveModel(buildArchitecture('student'), file);
  const stdout: string[] = [];
  // like process.stdout.write, this out returns true
  const out = (line: string) => (stdout.push(line), true) as unknown as void;
  const code = await main(['bench', file, '--json', '--runs', '2', '--warmup', '0'], { out, err: () => {}, isTTY: false });
  assert.equal(code, 0);
  assert.equal((JSON.parse(stdout.join('\n')) as { latency: { runs: number } }).latency.runs, 2);
});
