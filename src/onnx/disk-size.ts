/**
 * What a model costs on disk: the .onnx file plus any external data files its tensors name, raw
 * and gzip'd (zlib level 9, what `gzip -9` gives; zeros from pruning and int8 weights compress,
 * which is why gzip size is the figure that shows what compression bought).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Model } from '../graph/ir.js';

export interface DiskSize {
  files: string[];
  bytes: number;
  gzipBytes: number;
}

export function diskSize(file: string, model: Model): DiskSize {
  const files = [file, ...externalFiles(file, model)];
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    bytes += statSync(f).size;
    gzipBytes += gzipSync(readFileSync(f), { level: 9 }).length;
  }
  return { files, bytes, gzipBytes };
}

/** External data files named by the model's tensors (main graph and subgraphs), resolved. */
function externalFiles(file: string, model: Model): string[] {
  const found = new Set<string>();
  const graphs = [model.graph, ...[...model.graph.allNodes()].flatMap((n) => n.subgraphs())];
  for (const g of graphs) {
    for (const v of g.initializers.values()) {
      const loc = v.initializer?.externalSource?.find((e) => e.key === 'location')?.value;
      if (loc) found.add(join(dirname(file), loc));
    }
  }
  return [...found].filter((f) => existsSync(f));
}
