/**
 * A progress bar with rate and ETA, drawn on stderr only when it is a terminal; silent otherwise
 * (CI logs, pipes, --json). The ETA is remaining work divided by the average rate so far.
 */
import type { EpochInfo, StepInfo } from '../train/trainer.js';
import type { CommandIO } from './command.js';

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

/**
 * The per-step and per-epoch callbacks of a training command (train, distill): a progress bar per
 * epoch with the running loss and accuracy, then one line per epoch on stderr, or one JSON record
 * per epoch on stdout with --json.
 */
export function epochReporter(io: CommandIO, opts: { epochs: number; samples: number; json: boolean }): {
  onStep: (s: StepInfo) => void;
  onEpochEnd: (e: EpochInfo) => void;
} {
  let progress: Progress | undefined;
  let seen = { loss: 0, correct: 0, n: 0 };
  return {
    onStep: (s) => {
      if (s.batchInEpoch === 1) {
        progress = new Progress(`epoch ${s.epoch}/${opts.epochs}`, opts.samples, { enabled: io.isTTY && !opts.json, unit: 'samples' });
        seen = { loss: 0, correct: 0, n: 0 };
      }
      seen = { loss: seen.loss + s.loss * s.samples, correct: seen.correct + s.correct, n: seen.n + s.samples };
      progress?.tick(s.samples, `loss ${(seen.loss / seen.n).toFixed(4)} acc ${((100 * seen.correct) / seen.n).toFixed(1)}%`);
    },
    onEpochEnd: (e) => {
      progress?.finish();
      const { epoch, loss, trainAccuracy, seconds, samplesPerSecond, lr } = e;
      if (opts.json) io.out(JSON.stringify({ epoch, loss, trainAccuracy, testTop1: e.test?.top1, testTop5: e.test?.top5, seconds, samplesPerSecond, lr }));
      else
        io.err(
          `epoch ${epoch}/${opts.epochs}: loss ${loss.toFixed(4)}, train acc ${(100 * trainAccuracy).toFixed(2)}%` +
            (e.test ? `, test top-1 ${(100 * e.test.top1).toFixed(2)}%` : '') +
            `, ${seconds.toFixed(1)} s, ${samplesPerSecond.toFixed(0)} samples/s`,
        );
    },
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
