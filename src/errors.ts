/**
 * User-facing errors. Each carries a stable code and the CLI maps it to an exit code; anything
 * that is not a LitheError is a bug and is printed with its stack.
 */
export const EXIT_CODES = {
  E_USAGE: 2, // wrong flag, missing argument
  E_IO: 3, // missing or unreadable file, unwritable output
  E_BAD_MODEL: 4, // corrupt, truncated or hostile model file
  E_UNSUPPORTED_OP: 5, // an op or attribute lithe cannot handle
  E_BAD_INPUT: 6, // input data (image, npy, json, dataset) that does not fit the model
  E_RUNTIME: 7, // onnxruntime refused the model or failed while running it
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

export class LitheError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LitheError';
    this.code = code;
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** Shorthand for the most common failure: a model file that is not what it claims to be. */
export function badModel(file: string, problem: string): LitheError {
  return new LitheError('E_BAD_MODEL', `${file}: ${problem}`);
}
