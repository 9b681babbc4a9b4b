/** Plain-text tables and number formatting, shared by the CLI output and the reports (src/pipeline, src/report). */

export function table(rows: (string | number)[][], { align }: { align?: ('l' | 'r')[] } = {}): string {
  const cells = rows.map((r) => r.map(String));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** 3504872 → "3,504,872". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 300774272 → "300.8 M". */
export function si(n: number, digits = 1): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(digits)} ${u}`;
  return String(Math.round(n * 10) / 10);
}

/** Bytes in binary units: "13.4 MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) ((n /= 1024), i++);
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function pct(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)}%`;
}
