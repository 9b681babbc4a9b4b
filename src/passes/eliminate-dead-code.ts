/**
 * Dead-code elimination: a node is live when one of its outputs is a graph output or is used by a
 * live node (uses inside subgraphs count). Dead nodes are removed in reverse topological order,
 * then initializers nobody uses (and that are not graph inputs). Nodes whose op may have side
 * effects are never removed: none in the default ONNX domain, but unknown domains are kept
 * conservatively only when they produce no outputs.
 */
import type { Graph, Model } from '../graph/ir.js';
import type { Pass, PassResult } from '../graph/pass.js';

export const eliminateDeadCode: Pass = {
  name: 'eliminateDeadCode',
  run(model: Model): PassResult {
    const removed = sweep(model.graph);
    return { model, modified: removed > 0, notes: removed ? [`removed ${removed} dead nodes/initializers`] : [] };
  },
};

function sweep(graph: Graph): number {
  let removed = 0;
  for (const node of [...graph.nodes].reverse()) {
    if (node.outputs.length === 0) continue;
    const live = node.outputs.some((v) => v.isUsed() || graph.outputs.includes(v));
    if (!live) {
      graph.remove(node, { safe: true });
      removed++;
    } else {
      for (const g of node.subgraphs()) removed += sweep(g);
    }
  }
  for (const [name, v] of [...graph.initializers]) {
    if (!v.isUsed() && !graph.outputs.includes(v) && !graph.inputs.includes(v)) {
      graph.removeInitializer(name);
      removed++;
    }
  }
  return removed;
}
