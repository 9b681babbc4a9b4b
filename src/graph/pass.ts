/**
 * The one contract for transformations (after onnxscript's pass infrastructure):
 *
 *   interface Pass { name; run(model): PassResult }      PassResult = { model, modified }
 *
 * A PassManager runs passes in order, optionally repeating the whole sequence until no pass
 * modifies the model (a fixed point) or `maxIterations` is reached. Passes may mutate the model
 * in place and return it, or return a new one.
 */
import type { Model } from './ir.js';

export interface PassResult {
  model: Model;
  modified: boolean;
  /** Why the pass left things alone, or what it did, for reports ("Conv 'c3' has no constant weight"). */
  notes?: string[];
}

export interface Pass {
  readonly name: string;
  run(model: Model): PassResult;
}

export interface PassLogEntry {
  pass: string;
  iteration: number;
  modified: boolean;
  ms: number;
  notes: string[];
}

export class PassManager implements Pass {
  readonly name: string;
  readonly log: PassLogEntry[] = [];
  private readonly passes: readonly Pass[];
  private readonly maxIterations: number;

  /** `fixedPoint` repeats the sequence while anything changes, up to `maxIterations` (default 1 / 10). */
  constructor(passes: readonly Pass[], opts: { name?: string; fixedPoint?: boolean; maxIterations?: number } = {}) {
    this.passes = passes;
    this.name = opts.name ?? `PassManager(${passes.map((p) => p.name).join(', ')})`;
    this.maxIterations = opts.fixedPoint ? (opts.maxIterations ?? 10) : 1;
  }

  run(model: Model): PassResult {
    let modifiedAny = false;
    for (let iteration = 0; iteration < this.maxIterations; iteration++) {
      let modified = false;
      for (const pass of this.passes) {
        const t0 = performance.now();
        const r = pass.run(model);
        model = r.model;
        modified ||= r.modified;
        this.log.push({ pass: pass.name, iteration, modified: r.modified, ms: performance.now() - t0, notes: r.notes ?? [] });
      }
      modifiedAny ||= modified;
      if (!modified) break;
    }
    return { model, modified: modifiedAny, notes: this.log.flatMap((e) => e.notes) };
  }
}
