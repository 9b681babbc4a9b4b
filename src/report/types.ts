/**
 * What a report shows, as plain data: the pipeline fills these from what it measured and
 * `renderReport` turns them into one self-contained HTML page. Nothing here is computed by the
 * report except what follows from these numbers (deltas, the Pareto frontier, row totals).
 *
 * Units: accuracies are fractions in [0, 1] (as `evaluate` returns them), sizes are bytes,
 * latencies are milliseconds at batch 1.
 */

/** What a step did; free text is allowed for steps the list does not name. */
export type StepKind = 'baseline' | 'teacher' | 'train' | 'distill' | 'prune' | 'finetune' | 'quantize' | 'fuse' | (string & {});

export interface StepReport {
  /** Unique within the report: the label of the step's point and row. */
  name: string;
  kind: StepKind;
  /** Top-1 and top-5 accuracy on the evaluation data, fractions in [0, 1]. */
  top1: number;
  top5?: number;
  params: number;
  macs: number;
  /** Size of the model file on disk, as written and gzip-compressed. */
  sizeBytes: { raw: number; gzip: number };
  /** Latency at batch 1, percentiles over the benchmark's timed runs. */
  latencyMs: { p50: number; p99: number };
  /** Short remarks shown in the step's row: "excluded nodes: fc, conv1", "50% unstructured". */
  notes?: string[];
  /** The model file the row describes, as the user would find it. */
  file?: string;
}

/** How much quantizing one node alone hurts: its output against the float model's. */
export interface LayerSensitivity {
  node: string;
  op: string;
  /** Signal-to-quantization-noise ratio of the node's output (higher is better). */
  sqnrDb?: number;
  /** Mean squared error of the node's output (lower is better); used when no SQNR is given. */
  mse?: number;
  /** The node was kept in float because of its sensitivity. */
  excluded?: boolean;
}

export interface LayerSparsity {
  node: string;
  op?: string;
  /** Fraction of the node's weights that are zero, in [0, 1]. */
  sparsity: number;
  /** Number of weights (zero or not) in the node. */
  params: number;
}

/** counts[t][p]: samples of true class t predicted as p (as `evaluate` returns it). */
export interface ConfusionReport {
  /** The step the matrix belongs to; the last step when omitted. */
  step?: string;
  classes: string[];
  counts: number[][];
}

export interface RunMetadata {
  /** Where the evaluation data came from: "Fashion-MNIST test set (10,000 images), /usr/share/…". */
  dataset: string;
  /** ISO 8601 date and time of the run. */
  date: string;
  /** CPU, cores, OS: whatever makes the latencies comparable. */
  machine: string;
  litheVersion: string;
  /** The commands that produced the run, one per line as typed. */
  commands: string[];
  /** onnxruntime version, threads, … as label → value. */
  extra?: Record<string, string>;
}

export interface ReportData {
  /** Page title; defaults to "lithe report". */
  title?: string;
  /** The first step is the reference that deltas (×smaller, ×faster, Δpp) are measured against. */
  steps: StepReport[];
  sensitivity?: LayerSensitivity[];
  sparsity?: LayerSparsity[];
  confusion?: ConfusionReport;
  meta: RunMetadata;
}
