/**
 * Builds one export's files in a worker thread (weights initialised, graphs
 * encoded), so a large model (VGG-11: 128 million weights, seconds of work)
 * never holds the host's event loop. Started and fed by buildExportInWorker. Node only.
 */
import { answerRequests } from '../node/serial-worker';
import type { ExportFormat } from './common';
import { bundleFor, type ExportSource, type FolderExport } from './node-io';

export interface ExportWorkerRequest {
  source: ExportSource;
  format: ExportFormat;
}

answerRequests<ExportWorkerRequest, FolderExport>(
  ({ source, format }) => bundleFor(source, format),
  // The files' bytes move to the owner without a copy (those that own their whole buffer).
  (result) => [
    ...new Set(
      result.bundle.files.flatMap(({ contents }) =>
        typeof contents !== 'string' &&
        contents.byteOffset === 0 &&
        contents.byteLength === contents.buffer.byteLength
          ? [contents.buffer as ArrayBuffer]
          : [],
      ),
    ),
  ],
);
