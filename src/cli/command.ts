/**
 * What every CLI command is: a name, a help text, its flags (node:util parseArgs options) and a
 * run function. Parsing is strict: an unknown flag or a missing value is a usage error that names
 * the flag and prints the command's usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LitheError } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** Full help: usage line, description, flags, examples. */
  help: string;
  options: Options;
  run(args: Parsed, io: CommandIO): Promise<number | void>;
}

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** True when stderr is a terminal (progress bars go there). */
  isTTY: boolean;
}

export class UsageError extends LitheError {
  readonly command: Command | undefined;
  constructor(message: string, command?: Command) {
    super('E_USAGE', message);
    this.command = command;
  }
}

export function parse(command: Command, argv: string[]): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`lithe ${command.name}: ${msg}`, command);
  }
}

// ---- typed accessors with errors that name the flag -------------------------------------------

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(p: Parsed, name: string, fallback: number, { min = 0 }: { min?: number } = {}): number {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

export function num(p: Parsed, name: string, fallback: number): number {
  const v = str(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

/** Comma-separated numbers: `--mean 0.485,0.456,0.406`. */
export function nums(p: Parsed, name: string): number[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.some((n) => !Number.isFinite(n))) throw new UsageError(`--${name} must be comma-separated numbers, got '${v}'`);
  return parts;
}

export function choice<T extends string>(p: Parsed, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(p, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got '${v}'`);
  return v as T;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** Exactly `n` positionals (or at least `n` with `atLeast`), else a usage error naming what is missing. */
export function positionals(p: Parsed, command: Command, names: string[], { atLeast = false } = {}): string[] {
  if (p.positionals.length < names.length) throw new UsageError(`lithe ${command.name}: missing ${names.slice(p.positionals.length).join(' ')}`, command);
  if (!atLeast && p.positionals.length > names.length)
    throw new UsageError(`lithe ${command.name}: unexpected argument '${p.positionals[names.length]}'`, command);
  return p.positionals;
}
