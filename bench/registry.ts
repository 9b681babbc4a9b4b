/**
 * The benchmarks `npm run bench` knows, in the order they run. A new section is one file that
 * exports a `Benchmark` and one line here (no registration by side-effect imports).
 */
import type { Benchmark } from './lib.js';
import { largeModel } from './large-model.js';
import { quantize } from './quantize.js';
import { runtimeOverhead } from './runtime-overhead.js';
import { prunePerf } from './prune.js';
import { train } from './train.js';

export const BENCHMARKS: readonly Benchmark[] = [runtimeOverhead, largeModel, train, prunePerf, quantize];
