/**
 * A progress bar with rate and ETA, drawn on stderr only when it is a terminal; silent otherwise
 * (CI logs, pipes, --json). The ETA is remaining work divided by the average rate so far.
 */
export class Progress {
  private readonly start = performance.now();
  private done = 0;
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    opts: { enabled: boolean; unit?: string },
    private readonly unit = opts.unit ?? 'items',
  ) {
    this.enabled = opts.enabled && total > 0;
  }

  tick(n = 1, extra = ''): void {
    this.done += n;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    const secs = (now - this.start) / 1000;
    const rate = this.done / Math.max(secs, 1e-9);
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * this.done) / this.total);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    process.stderr.write(
      `\r${this.label} ${bar} ${this.done}/${this.total} ${rate.toFixed(0)} ${this.unit}/s ETA ${formatSeconds(eta)}${extra ? ' ' + extra : ''}\x1b[K`,
    );
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
