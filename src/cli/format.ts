/** Plain-text tables and number formatting for CLI output: defined in report/format.ts, shared with the reports. */
export { bytes, pct, si, table, thousands } from '../report/format.js';
