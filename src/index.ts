/**
 * lithe's library API, exported from the package root (`import { loadModel } from 'lithe'`).
 *
 * Model I/O, the IR and its builder, shape inference, passes, the onnxruntime boundary
 * (sessions, evaluation, benchmarks), datasets and inputs, profiling, architectures and errors.
 * Everything else under src/ is internal and may change between releases.
 */

// errors
export { LitheError, EXIT_CODES, type ErrorCode } from './errors.js';

// model I/O
export { loadModel, saveModel, serializeModel, cloneModel, type LoadOptions, type SaveOptions, type ExternalDataOptions } from './onnx/io.js';
export { DataType } from './onnx/proto.js';

// IR, builder, shape inference, passes
export { Model, Graph, Node, Value, type Dim, type Use, type Attribute, type AttributeInput } from './graph/ir.js';
export { Tensor, dtypeName, elementCount, type TensorArray } from './graph/tensor.js';
export { GraphBuilder } from './graph/builder.js';
export { inferShapes, computeShapes, topologicalOrder, type InferShapesResult, type TypeInfo } from './graph/shape-inference.js';
export { PassManager, type Pass, type PassResult, type PassLogEntry } from './graph/pass.js';
export { eliminateDeadCode } from './passes/eliminate-dead-code.js';

// runtime (the onnxruntime boundary)
export { createSession, Session, type Backend, type SessionOptions } from './runtime/session.js';
export { evaluate, type EvalResult, type EvalOptions, type LabelledBatch } from './runtime/evaluate.js';
export { benchmark, latencyStats, syntheticFeeds, type BenchOptions, type BenchResult, type LatencyStats } from './runtime/bench.js';
export { tensorToHost, float32, type HostTensor } from './runtime/tensors.js';

// data: datasets, batches, input files
export {
  openDataset,
  openIdxDataset,
  openImageFolder,
  sampleAt,
  FASHION_MNIST_CLASSES,
  SYSTEM_FASHION_MNIST_DIR,
  type Dataset,
  type Split,
  type OpenOptions,
} from './data/dataset.js';
export { batches, makeBatch, stratifiedIndices, type Batch, type BatchOptions, type Preprocess } from './data/batcher.js';
export { readInputFile, type InputOptions, type InputTensor } from './data/input.js';
export { decodeImage, readImageTensor, type ImageTensorOptions, type Layout } from './data/image.js';
export { parseNpy } from './data/npy.js';
export { readIdx, parseIdx, encodeIdx } from './data/idx.js';

// analysis
export { countParams, countMacs, profileModel, renderLayerTable, type ParamCount, type MacCount, type Profile } from './analysis/profile.js';

// architectures
export { buildArchitecture, ARCHITECTURES, buildRefCnn, buildStudent, buildTeacher, buildMobileNetV2, type Architecture, type ArchitectureOptions } from './models/index.js';

// training (autodiff over ONNX graphs, run by onnxruntime)
export { buildTrainingGraph, type TrainingGraph, type TrainingGraphOptions } from './train/training-graph.js';
export { Trainer, type TrainerOptions, type StepInfo, type EpochInfo, type Schedule } from './train/trainer.js';
export { crossEntropy, mse, kdLoss, type Loss } from './train/losses.js';

// compression passes
export { foldBatchNorm } from './passes/fold-batchnorm.js';
export { quantizeStatic, type StaticOptions, type QuantizeReport } from './quantize/static.js';
export { quantizeDynamic, type DynamicOptions } from './quantize/dynamic.js';
export { convertFloat16, type Fp16Options } from './quantize/fp16.js';
export { quantizeQat, type QatOptions, type QatReport } from './quantize/qat.js';
export { analyzeSensitivity, type SensitivityResult, type SensitivityRow, type SensitivityOptions } from './quantize/sensitivity.js';
export { quantizeMixedPrecision, type MixedPrecisionResult, type MixedPrecisionOptions } from './quantize/mixed-precision.js';
export { pruneUnstructured, computeMasks, applyMasks, sparsityOf, type UnstructuredOptions, type Masks } from './prune/unstructured.js';
export { pruneChannels, type StructuredOptions, type StructuredResult } from './prune/structured.js';
export { finetune, pruneScheduled, type FinetuneOptions, type ScheduledOptions } from './prune/finetune.js';

// reports
export { renderReport, writeReport, type ReportData, type StepReport } from './report/index.js';
