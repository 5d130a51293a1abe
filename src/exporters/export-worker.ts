/**
 * Builds one export's files in a worker thread (weights initialised, graphs
 * encoded), so a large model (VGG-11: 128 million weights, seconds of work)
 * never holds the host's event loop. Started and fed by buildExportInWorker. Node only.
 */
import { parentPort } from 'node:worker_threads';
import type { ExportFormat } from './common';
import { bundleFor, type ExportSource, type FolderExport } from './node-io';

export interface ExportWorkerRequest {
  source: ExportSource;
  format: ExportFormat;
}

export type ExportWorkerReply = { ok: true; result: FolderExport } | { ok: false; message: string };

if (!parentPort)
  throw new Error('export-worker.ts runs as a worker thread; use buildExportInWorker');
const port = parentPort;

// One request at a time (the owner queues them); the worker serves many.
port.on('message', async ({ source, format }: ExportWorkerRequest) => {
  try {
    const result = await bundleFor(source, format);
    // The files' bytes move to the owner without a copy (those that own their whole buffer).
    const buffers = result.bundle.files.flatMap(({ contents }) =>
      typeof contents !== 'string' &&
      contents.byteOffset === 0 &&
      contents.byteLength === contents.buffer.byteLength
        ? [contents.buffer as ArrayBuffer]
        : [],
    );
    port.postMessage({ ok: true, result } satisfies ExportWorkerReply, [...new Set(buffers)]);
  } catch (err) {
    port.postMessage({ ok: false, message: (err as Error).message } satisfies ExportWorkerReply);
  }
});
