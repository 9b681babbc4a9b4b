/**
 * The per-epoch reporting of the training commands (train, distill), drawn with the terminal
 * progress bar of report/progress.ts.
 */
import type { EpochInfo, StepInfo } from '../train/trainer.js';
import { Progress } from '../report/progress.js';
import type { CommandIO } from './command.js';

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
