/**
 * The charting library, inlined into every report so that the page needs no network.
 *
 * Chart.js (MIT) was chosen over uPlot and ECharts: its UMD build is one 205 KB file (≈70 KB
 * gzip) with scatter plots on logarithmic axes, stepped lines for the frontier, horizontal bar
 * charts and canvas-drawn tooltips (so untrusted node names never become HTML), and a plugin hook
 * (`afterDatasetsDraw`) for the point labels. uPlot (≈50 KB) is a time-series library whose
 * scatter and bar modes need hand-written path builders; ECharts labels scatter points out of
 * the box but weighs ≈1 MB minified.
 *
 * The file is read from the installed package at render time, never fetched.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LitheError } from '../errors.js';

const UMD_BUILD = 'chart.js/dist/chart.umd.min.js';

let cached: string | undefined;

/** Chart.js's browser build, ready to sit inside a `<script>` element. */
export function chartLibrarySource(): string {
  if (cached !== undefined) return cached;
  try {
    // The package exports no subpath for the UMD build: find the main entry (dist/chart.cjs), take its folder.
    const main = createRequire(import.meta.url).resolve('chart.js');
    cached = inlineScript(readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8'));
  } catch (e) {
    throw new LitheError('E_IO', `report: cannot read ${UMD_BUILD} (is the chart.js package installed? run npm ci)`, { cause: e });
  }
  return cached;
}

/**
 * A script's text made safe to inline: no `</script` may end the element early, and the source
 * map comment goes (a browser with developer tools open would try to fetch the .map file).
 * `<\/` means the same as `</` inside JavaScript strings and regular expressions.
 */
export function inlineScript(js: string): string {
  return js.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, '').replace(/<\/(script)/gi, '<\\/$1');
}
