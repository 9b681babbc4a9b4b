/**
 * `lithe <command>`: dispatches to one file per command and maps errors to exit codes.
 * User errors (LitheError) print one line, `lithe: <message>`, and exit with the error's code;
 * anything else is a bug and prints its stack with exit code 70.
 */
import { LitheError, EXIT_CODES } from '../errors.js';
import { benchCommand } from './bench.js';
import { compressCommand } from './compress.js';
import { convertCommand } from './convert.js';
import { demoCommand } from './demo.js';
import { distillCommand } from './distill.js';
import { evalCommand } from './eval.js';
import { inspectCommand } from './inspect.js';
import { pruneCommand } from './prune.js';
import { quantizeCommand } from './quantize.js';
import { runCommand } from './run.js';
import { trainCommand } from './train.js';
import { trainGraphCommand } from './train-graph.js';
import { parse, UsageError, type Command, type CommandIO } from './command.js';

export const commands: readonly Command[] = [inspectCommand, runCommand, evalCommand, benchCommand, convertCommand, trainCommand, trainGraphCommand, distillCommand, pruneCommand, quantizeCommand, compressCommand, demoCommand];

export const EXIT_BUG = 70;

function overview(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'lithe: make neural networks small and fast for edge devices (ONNX in, ONNX out).',
    '',
    'Usage: lithe <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    "Run 'lithe <command> --help' for a command's options.",
    '',
    'Exit codes: 0 ok, ' + Object.entries(EXIT_CODES).map(([k, v]) => `${v} ${k}`).join(', ') + `, ${EXIT_BUG} internal error (a bug: please report it).`,
  ].join('\n');
}

export async function main(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name ? 0 : EXIT_CODES.E_USAGE;
  }
  if (name === '--version') {
    io.out('lithe 0.1.0');
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}`);
    const args = parse(command, rest);
    if (args.values.help) {
      io.out(command.help);
      return 0;
    }
    const code: unknown = await command.run(args, io);
    // Only a number is an exit code; `return io.out(…)` must not turn a write's result into one.
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof LitheError) {
      io.err(`lithe: ${e.message}`);
      if (e instanceof UsageError) io.err(e.command ? `Run 'lithe ${e.command.name} --help' for usage.` : "Run 'lithe --help' for usage.");
      return e.exitCode;
    }
    io.err(`lithe: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT_BUG;
  }
}

function defaultIO(): CommandIO {
  // `lithe inspect m.onnx | head`: a reader that stops early is not an error.
  process.stdout.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** An io that keeps what a command prints, for running the CLI in-process (tests, embedding). */
export function captureIO({ isTTY = false } = {}): CommandIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { out: (line) => void stdout.push(line), err: (line) => void stderr.push(line), isTTY, stdout, stderr };
}
