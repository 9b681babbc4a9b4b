/**
 * The runtime boundary: the only module that imports onnxruntime. One `Session` API over
 * onnxruntime-node (native, the default) and onnxruntime-web (WASM, loaded only when asked for).
 *
 * Models go in as IR (serialized once), bytes, or a path; tensors go in and out as HostTensors.
 */
import * as ortNode from 'onnxruntime-node';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { LitheError } from '../errors.js';
import { Model } from '../graph/ir.js';
import { serializeModel } from '../onnx/io.js';
import { ORT_TYPE, dataTypeFromOrt, type HostTensor } from './tensors.js';

export type Backend = 'node' | 'wasm';

export interface SessionOptions {
  backend?: Backend;
  /** Intra-op threads; 0 or undefined lets onnxruntime choose (one per core). */
  threads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  enableMemPattern?: boolean;
  enableCpuMemArena?: boolean;
  /** Where onnxruntime should write the graph it optimized (node backend), e.g. to check fusions. */
  optimizedModelFilePath?: string;
  /** Let intra-op threads spin while waiting (fast, but burns cores that others share). Default true. */
  allowSpinning?: boolean;
  /**
   * Per-node profiling (node backend): onnxruntime writes a Chrome-trace JSON named
   * `<profileFilePrefix>_<date>.json` with every kernel's time; `endProfiling()` closes it.
   */
  profileFilePrefix?: string;
  /** A name for messages: the file, or the model's purpose. */
  label?: string;
}

type OrtModule = typeof ortNode;

let webModule: Promise<OrtModule> | undefined;
async function loadWeb(threads: number | undefined): Promise<OrtModule> {
  webModule ??= import('onnxruntime-web').then((m) => m as unknown as OrtModule);
  const ort = await webModule;
  // Threads in Node's WASM build need worker_threads; one thread is the portable default.
  ort.env.wasm.numThreads = threads && threads > 0 ? threads : 1;
  return ort;
}

export class Session {
  readonly backend: Backend;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Milliseconds spent creating the session (parsing, optimizing, allocating). */
  readonly loadMs: number;
  private readonly ort: OrtModule;
  private readonly inner: InferenceSession;
  private readonly label: string;

  /** @internal use createSession */
  constructor(ort: OrtModule, inner: InferenceSession, backend: Backend, loadMs: number, label: string) {
    this.ort = ort;
    this.inner = inner;
    this.backend = backend;
    this.loadMs = loadMs;
    this.label = label;
    this.inputNames = inner.inputNames;
    this.outputNames = inner.outputNames;
  }

  /** Runs the model. `outputs` limits which outputs are fetched (default: all). */
  async run(feeds: Record<string, HostTensor>, outputs?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = this.toOrt(name, t);
    let result: InferenceSession.ReturnType;
    try {
      result = outputs ? await this.inner.run(ortFeeds, [...outputs]) : await this.inner.run(ortFeeds);
    } catch (e) {
      throw new LitheError('E_RUNTIME', `${this.label}: onnxruntime failed to run: ${firstLine(e)}`, { cause: e });
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(result)) {
      const ot = t as OrtTensor;
      out[name] = { dtype: dataTypeFromOrt(ot.type), dims: [...ot.dims], data: ot.data as HostTensor['data'] };
    }
    return out;
  }

  /** A prepared feed set, converted once, for tight loops such as benchmarks. */
  prepare(feeds: Record<string, HostTensor>): PreparedFeeds {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = this.toOrt(name, t);
    return { ortFeeds } as unknown as PreparedFeeds;
  }
  /** Runs with prepared feeds and discards outputs; the bare cost of one inference. */
  async runPrepared(feeds: PreparedFeeds): Promise<void> {
    await this.inner.run((feeds as unknown as { ortFeeds: Record<string, OrtTensor> }).ortFeeds);
  }

  /** Stops profiling (sessions created with `profileFilePrefix`) and flushes the trace file. */
  endProfiling(): void {
    this.inner.endProfiling();
  }

  async release(): Promise<void> {
    await this.inner.release();
  }

  private toOrt(name: string, t: HostTensor): OrtTensor {
    const type = ORT_TYPE[t.dtype];
    if (!type) throw new LitheError('E_BAD_INPUT', `${this.label}: input "${name}" has a data type onnxruntime cannot take from JS`);
    try {
      return new this.ort.Tensor(type as 'float32', t.data as Float32Array, t.dims);
    } catch (e) {
      throw new LitheError('E_BAD_INPUT', `${this.label}: input "${name}": ${firstLine(e)}`, { cause: e });
    }
  }
}

declare const preparedBrand: unique symbol;
export interface PreparedFeeds {
  readonly [preparedBrand]: true;
}

/** Creates an inference session for a model given as IR, serialized bytes, or a file path. */
export async function createSession(model: Model | Uint8Array | string, opts: SessionOptions = {}): Promise<Session> {
  const backend = opts.backend ?? 'node';
  const label = opts.label ?? (typeof model === 'string' ? model : model instanceof Model ? `model "${model.graph.name}"` : 'model');
  const ort = backend === 'wasm' ? await loadWeb(opts.threads) : ortNode;
  const options: InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    executionMode: opts.executionMode ?? 'sequential',
    enableMemPattern: opts.enableMemPattern ?? true,
    enableCpuMemArena: opts.enableCpuMemArena ?? true,
    // 4 = fatal only: a failure reaches the user once, as the LitheError below, not as ORT log noise too
    logSeverityLevel: 4,
  };
  if (backend === 'node') {
    if (opts.threads && opts.threads > 0) {
      options.intraOpNumThreads = opts.threads;
      options.interOpNumThreads = 1;
    }
    if (opts.optimizedModelFilePath) options.optimizedModelFilePath = opts.optimizedModelFilePath;
    if (opts.profileFilePrefix) {
      options.enableProfiling = true;
      options.profileFilePrefix = opts.profileFilePrefix;
    }
    if (opts.allowSpinning === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  } else {
    options.executionProviders = ['wasm'];
  }
  const bytes = model instanceof Model ? serializeModel(model) : model;
  const t0 = performance.now();
  let inner: InferenceSession;
  try {
    inner = typeof bytes === 'string' ? await ort.InferenceSession.create(bytes, options) : await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new LitheError('E_RUNTIME', `${label}: onnxruntime (${backend}) could not load the model: ${firstLine(e)}`, { cause: e });
  }
  return new Session(ort, inner, backend, performance.now() - t0, label);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').find((l) => l.trim())?.trim() ?? 'unknown error';
}
