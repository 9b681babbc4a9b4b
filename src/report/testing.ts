/**
 * A realistic report for tests and previews: the demo pipeline's shape (teacher → distilled
 * student → pruned → int8) on the Fashion-MNIST test set, with numbers of the size lithe
 * measures for it. The confusion matrix's diagonal adds up to the last step's top-1.
 */
import type { ReportData } from './types.js';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function sampleReport(): ReportData {
  return {
    title: 'lithe compress — teacher → student.int8',
    steps: [
      {
        name: 'teacher',
        kind: 'teacher',
        top1: 0.9183,
        top5: 0.9981,
        params: 421_642,
        macs: 12_129_280,
        sizeBytes: { raw: 1_690_211, gzip: 1_562_004 },
        latencyMs: { p50: 1.92, p99: 2.61 },
        notes: ['conv 32 → conv 64 → dense 128 → dense 10'],
        file: 'out/compress/teacher.onnx',
      },
      {
        name: 'distill',
        kind: 'distill',
        top1: 0.9046,
        top5: 0.9978,
        params: 27_210,
        macs: 124_384,
        sizeBytes: { raw: 109_402, gzip: 100_817 },
        latencyMs: { p50: 0.121, p99: 0.188 },
        notes: ['10 epochs, T = 4, α = 0.5'],
        file: 'out/compress/distill.onnx',
      },
      {
        name: 'prune',
        kind: 'prune',
        top1: 0.9012,
        top5: 0.9976,
        params: 27_210,
        macs: 124_384,
        sizeBytes: { raw: 109_402, gzip: 61_250 },
        latencyMs: { p50: 0.124, p99: 0.201 },
        notes: ['60% unstructured (magnitude), 2 epochs fine-tuning'],
        file: 'out/compress/prune.onnx',
      },
      {
        name: 'quantize',
        kind: 'quantize',
        top1: 0.8948,
        top5: 0.9971,
        params: 27_210,
        macs: 124_384,
        sizeBytes: { raw: 29_118, gzip: 17_406 },
        latencyMs: { p50: 0.083, p99: 0.131 },
        notes: ['static int8 QDQ, per-channel weights, 512 calibration images', 'excluded nodes: none'],
        file: 'out/compress/quantize.onnx',
      },
    ],
    sensitivity: [
      { node: 'input_q', op: 'QuantizeLinear', sqnrDb: 44.1 },
      { node: '/conv1/Conv', op: 'Conv', sqnrDb: 36.8 },
      { node: '/relu1/Relu', op: 'Relu', sqnrDb: 38.3 },
      { node: '/pool1/MaxPool', op: 'MaxPool', sqnrDb: 38.9 },
      { node: '/flatten/Flatten', op: 'Flatten', sqnrDb: 38.9 },
      { node: '/fc/Gemm', op: 'Gemm', sqnrDb: 27.4 },
    ],
    sparsity: [
      { node: '/conv1/Conv', op: 'Conv', sparsity: 0.35, params: 144 },
      { node: '/fc/Gemm', op: 'Gemm', sparsity: 0.6, params: 27_040 },
    ],
    confusion: {
      classes: FASHION_MNIST_CLASSES,
      counts: [
        [852, 1, 16, 27, 4, 1, 90, 0, 9, 0],
        [2, 975, 1, 16, 3, 0, 2, 0, 1, 0],
        [17, 1, 827, 10, 80, 0, 63, 0, 2, 0],
        [20, 8, 11, 901, 32, 0, 25, 0, 3, 0],
        [1, 1, 78, 30, 838, 0, 50, 0, 2, 0],
        [0, 0, 0, 1, 0, 972, 0, 18, 1, 8],
        [128, 1, 74, 30, 67, 0, 690, 0, 10, 0],
        [0, 0, 0, 0, 0, 14, 0, 962, 0, 24],
        [4, 1, 3, 4, 2, 3, 5, 4, 973, 1],
        [0, 0, 0, 0, 0, 7, 1, 34, 0, 958],
      ],
    },
    meta: {
      dataset: 'Fashion-MNIST test set, 10,000 images (/usr/share/datasets/fashion-mnist)',
      date: '2026-11-02T14:05:31Z',
      machine: 'x86_64, 2 cores, Linux 6.1 (Debian 12)',
      litheVersion: '0.1.0',
      commands: ['lithe compress out/teacher.onnx --recipe recipes/demo.json --data fashion-mnist -o out/compress'],
      extra: { onnxruntime: 'onnxruntime-node 1.30.0, 1 intra-op thread', 'latency runs': '200 timed after 10 warm-up' },
    },
  };
}

/** Names a model file could carry, each an attempt to break out of text, attribute or script. */
export const HOSTILE = [
  '</script><script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '"><svg onload="window.__pwned = 3">',
  "' onmouseover='window.__pwned = 4",
];

export function hostileReport(): ReportData {
  const d = sampleReport();
  d.title = HOSTILE[0];
  d.steps[1]!.name = HOSTILE[1]!;
  d.steps[2]!.kind = HOSTILE[2]!;
  d.steps[3]!.notes = [HOSTILE[3]!];
  d.sensitivity![1]!.node = HOSTILE[0]!;
  d.sparsity![1]!.op = HOSTILE[1];
  d.confusion!.classes[6] = HOSTILE[2]!;
  d.meta.commands.push(`lithe eval '${HOSTILE[0]}'`);
  d.meta.extra = { [HOSTILE[3]!]: HOSTILE[1]! };
  return d;
}
