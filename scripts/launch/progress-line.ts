/** Electron's download progress in the terminal. */
import { formatBytes } from '../../src/core/summary';
import { rateLimit } from '../../src/node/rate-limit';
import type { DownloadProgress } from './electron-runtime';

const MiB = 1024 * 1024;

export interface ProgressLine {
  update(progress: DownloadProgress): void;
  /** Ends a line left open on a terminal, before anything else is printed. */
  finish(): void;
}

/**
 * The download's progress: one line redrawn in place on a terminal; elsewhere
 * (a log, CI) a line per tenth, or per 10 MiB when the size is unknown. Only
 * bytes that arrived are counted.
 */
export function progressLine(out: NodeJS.WriteStream = process.stdout): ProgressLine {
  const gate = rateLimit(10);
  let open = false;
  let lastStep = -1;
  return {
    update({ transferred, total }) {
      const done = total !== null && transferred >= total;
      const share = total
        ? ` of ${formatBytes(total)} (${Math.floor((100 * transferred) / total)}%)`
        : '';
      const text = `  ${formatBytes(transferred)}${share}`;
      if (out.isTTY) {
        if (!gate(done)) return;
        out.write(`\r${text}\u001b[K${done ? '\n' : ''}`);
        open = !done;
        return;
      }
      const step = total
        ? Math.floor((10 * transferred) / total)
        : Math.floor(transferred / (10 * MiB));
      if (step > lastStep) {
        lastStep = step;
        out.write(`${text}\n`);
      }
    },
    finish() {
      if (open) out.write('\n');
      open = false;
    },
  };
}
