/**
 * Exports built off the caller's event loop (export-worker.ts), one at a
 * time: the web host and the desktop app plan and write exports this way, so
 * a large model neither stalls other clients nor, asked for many times at
 * once, multiplies its memory. The worker stays for the next request (the
 * dialog plans again on every change) and ends after a minute unused. Node only.
 */
import { Worker } from 'node:worker_threads';
import type { ExportFormat } from './common';
import type { ExportWorkerReply, ExportWorkerRequest } from './export-worker';
import type { ExportSource, FolderExport } from './node-io';

const IDLE_MS = 60_000;

let queue: Promise<unknown> = Promise.resolve();
let current: { worker: Worker; idle?: NodeJS.Timeout } | undefined;

/** bundleFor in the worker thread, after any export already under way. */
export function buildExportInWorker(
  source: ExportSource,
  format: ExportFormat,
): Promise<FolderExport> {
  const turn = queue.then(() => ask({ source, format }));
  queue = turn.catch(() => undefined);
  return turn;
}

function startWorker(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const worker = new Worker(
    new URL(fromSources ? './export-worker-entry.mjs' : './export-worker.js', import.meta.url),
  );
  worker.unref(); // an idle export worker never keeps a process alive
  worker.once('exit', () => {
    if (current?.worker === worker) current = undefined;
  });
  return worker;
}

function ask(request: ExportWorkerRequest): Promise<FolderExport> {
  if (current?.idle) clearTimeout(current.idle);
  current ??= { worker: startWorker() };
  const { worker } = current;
  return new Promise<FolderExport>((resolve, reject) => {
    const onMessage = (reply: ExportWorkerReply) => {
      settle();
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.message));
    };
    const onError = (err: Error) => {
      settle();
      reject(new Error(`the export worker failed: ${err.message}`));
    };
    const onExit = (code: number) => {
      settle();
      reject(new Error(`the export worker exited before answering (code ${code})`));
    };
    const settle = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (current?.worker === worker) {
        current.idle = setTimeout(() => void worker.terminate(), IDLE_MS);
        current.idle.unref();
      }
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(request);
  });
}
