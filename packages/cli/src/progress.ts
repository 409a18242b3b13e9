import type { EpochReport } from '@invae/core';

/**
 * Reports training progress: a one-line bar rewritten in place on a TTY, a line every few epochs
 * otherwise (or nothing with `quiet`). Writes to stderr so stdout stays clean for `--json`.
 */
export function epochReporter(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): {
  onEpoch: (r: EpochReport) => void;
  done: () => void;
} {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  let drawn = false;
  return {
    onEpoch(r) {
      if (options.quiet) return;
      const val = r.validationLoss !== undefined ? `  validation ${r.validationLoss.toFixed(3)}` : '';
      const line = `epoch ${r.epoch}/${r.epochs}  loss ${r.loss.toFixed(3)}${val}  ${Math.round(r.cellsPerSecond)} cells/s  ${r.seconds.toFixed(2)} s`;
      if (tty) {
        const width = 24;
        const filled = Math.round((r.epoch / r.epochs) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}\x1b[K`);
        drawn = true;
      } else if (r.epoch === 1 || r.epoch === r.epochs || r.epoch % Math.max(1, Math.round(r.epochs / 10)) === 0) {
        stream.write(`${line}\n`);
      }
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
