/**
 * Exports built off the caller's event loop (export-worker.ts), one at a
 * time: the web host and the desktop app plan and write exports this way, so
 * a large model neither stalls other clients nor, asked for many times at
 * once, multiplies its memory. The worker stays for the next request (the
 * dialog plans again on every change) and ends after a minute unused. Node only.
 */
import { Worker } from 'node:worker_threads';
import { SerialWorker } from '../node/serial-worker';
import type { ExportFormat } from './common';
import type { ExportWorkerRequest } from './export-worker';
import type { ExportSource, FolderExport } from './node-io';

const exportWorker = new SerialWorker<ExportWorkerRequest, FolderExport>({
  name: 'export worker',
  idleMs: 60_000,
  start: () => {
    const fromSources = import.meta.url.endsWith('.ts');
    return new Worker(
      new URL(fromSources ? './export-worker-entry.mjs' : './export-worker.js', import.meta.url),
    );
  },
});

/** bundleFor in the worker thread, after any export already under way. */
export function buildExportInWorker(
  source: ExportSource,
  format: ExportFormat,
): Promise<FolderExport> {
  return exportWorker.ask({ source, format });
}
