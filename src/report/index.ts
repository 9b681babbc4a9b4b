/** The HTML report: plain data in (types.ts), one self-contained page out. */
export type { ConfusionReport, LayerSensitivity, LayerSparsity, ReportData, RunMetadata, StepKind, StepReport } from './types.js';
export { renderReport, writeReport, validateReport, chartSpecs } from './render.js';
export { paretoFrontier, dominates, type TradeoffPoint } from './pareto.js';
