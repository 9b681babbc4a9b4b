/**
 * The report as a browser sees it: Debian's Chromium, driven by playwright-core (Playwright's
 * own browser download cannot work offline). The page is served to itself through a route at a
 * made-up address; every other request is aborted and recorded, and the test asserts there was
 * none. It checks that each chart drew (the Chart.js object, its point and bar counts, a canvas
 * of non-zero size with ink on it), that nothing logged an error, that hostile names stayed
 * text, and saves a full-page screenshot to out/report-test/report.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { renderReport } from './render.js';
import { HOSTILE, hostileReport, sampleReport } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
// As the machine notes say: without the background-networking flags Chromium keeps trying to
// reach Google's hosts through a closed network.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PAGE_URL = 'http://report.lithe.invalid/report.html';
export const OUT_DIR = resolve('out/report-test');

// The page's globals as seen from page.evaluate (the project compiles without the DOM library).
declare const window: any;
declare const document: any;

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
let browser: BrowserContext | undefined;
let profile: string | undefined;

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  profile = mkdtempSync(join(tmpdir(), 'lithe-chromium-'));
  // a fresh profile folder per run (Playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    viewport: { width: 1320, height: 900 },
    deviceScaleFactor: 1,
  });
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

interface Loaded {
  page: Page;
  errors: string[];
  requests: string[];
}

/** Opens `html` as the only thing on the network: any other request is aborted and listed. */
async function open(html: string): Promise<Loaded> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === PAGE_URL) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
    requests.push(url);
    return route.abort();
  });
  await page.goto(PAGE_URL, { waitUntil: 'load' });
  await page.waitForSelector('html[data-charts="ready"]', { timeout: 10_000 });
  return { page, errors, requests };
}

interface CanvasReport {
  id: string;
  type: string;
  width: number;
  height: number;
  /** Elements per dataset, as Chart.js's own metadata has them. */
  counts: number[];
  /** Elements that lie inside the plot area. */
  inside: number;
  /** Pixels that are not transparent and not white: the chart drew something. */
  inked: number;
}

function inspectCharts(page: Page): Promise<CanvasReport[]> {
  return page.evaluate(() => {
    const Chart = window.Chart;
    return [...document.querySelectorAll('canvas')].map((canvas: any): CanvasReport => {
      const chart = Chart.getChart(canvas);
      const box = canvas.getBoundingClientRect();
      const area = chart.chartArea;
      const metas = chart.data.datasets.map((_: unknown, i: number) => chart.getDatasetMeta(i));
      const elements = metas.flatMap((m: { data: { x: number; y: number }[] }) => m.data);
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3]! > 0 && (pixels[i]! < 240 || pixels[i + 1]! < 240 || pixels[i + 2]! < 240)) inked++;
      return {
        id: canvas.dataset.chart!,
        type: chart.config.type,
        width: box.width,
        height: box.height,
        counts: metas.map((m: { data: unknown[] }) => m.data.length),
        inside: elements.filter(
          (e: { x: number; y: number }) => e.x >= area.left - 0.5 && e.x <= area.right + 0.5 && e.y >= area.top - 0.5 && e.y <= area.bottom + 0.5,
        ).length,
        inked,
      };
    });
  });
}

test('report in Chromium: charts drawn, no errors, no requests; screenshot saved', { skip, timeout: 60_000 }, async () => {
  const html = renderReport(sampleReport());
  const { page, errors, requests } = await open(html);
  const charts = await inspectCharts(page);

  // frontier line + one point per step; latency frontier skips prune (slower and less accurate than distill)
  assert.deepEqual(
    charts.map((c) => [c.id, c.type, c.counts]),
    [
      ['pareto-size', 'scatter', [4, 4]],
      ['pareto-latency', 'scatter', [3, 4]],
      ['sensitivity', 'bar', [6]],
      ['sparsity', 'bar', [2]],
    ],
  );
  for (const c of charts) {
    assert.ok(c.width > 300 && c.height > 150, `${c.id}: canvas ${c.width}×${c.height}`);
    assert.equal(
      c.inside,
      c.counts.reduce((a, b) => a + b, 0),
      `${c.id}: every point or bar inside the plot area`,
    );
    assert.ok(c.inked > 2000, `${c.id}: ${c.inked} inked pixels`);
  }
  assert.equal(await page.locator('table.steps tbody tr').count(), 4);
  assert.equal(await page.locator('table.confusion tbody tr').count(), 11); // 10 classes + precision
  // nothing cut off or scrolled sideways at a laptop width
  const overflow = await page.evaluate(() => [...document.querySelectorAll('.panel')].filter((p: any) => p.scrollWidth > p.clientWidth + 1).length);
  assert.equal(overflow, 0, 'panels wider than the page');
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);

  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'report.html'), html);
  const png = join(OUT_DIR, 'report.png');
  await page.screenshot({ path: png, fullPage: true });
  console.log(`report screenshot: ${png}`);
  await page.close();
});

test('report in Chromium: hostile names stay text, run nothing and fetch nothing', { skip, timeout: 60_000 }, async () => {
  const { page, errors, requests } = await open(renderReport(hostileReport()));
  const seen = await page.evaluate(() => ({
    pwned: window.__pwned,
    scripts: document.scripts.length,
    injected: document.querySelectorAll('img, svg, iframe, object').length,
    title: document.querySelector('h1')!.textContent,
    steps: document.querySelector('table.steps')!.textContent,
    labels: window.litheReport.charts.sensitivity.data.labels as string[],
  }));
  assert.equal(seen.pwned, undefined);
  assert.equal(seen.scripts, 3);
  assert.equal(seen.injected, 0);
  assert.equal(seen.title, HOSTILE[0]);
  assert.ok(seen.steps.includes(HOSTILE[1]!) && seen.steps.includes(HOSTILE[3]!));
  assert.equal(seen.labels[1], HOSTILE[0]);
  // hover every element the way a reader would: tooltips are canvas text too
  for (const el of await page.locator('span.hm, canvas').all()) await el.hover({ force: true });
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);
  await page.close();
});

test('report in Chromium: one step, no per-layer data, no confusion matrix (what `lithe demo` has today)', { skip, timeout: 60_000 }, async () => {
  const d = sampleReport();
  d.steps = d.steps.slice(0, 1);
  delete d.sensitivity;
  delete d.sparsity;
  delete d.confusion;
  const { page, errors, requests } = await open(renderReport(d));
  const charts = await inspectCharts(page);
  assert.deepEqual(
    charts.map((c) => [c.id, c.counts, c.inside]),
    [
      ['pareto-size', [1, 1], 2],
      ['pareto-latency', [1, 1], 2],
    ],
  );
  assert.equal(await page.locator('table.confusion').count(), 0);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);
  await page.close();
});
