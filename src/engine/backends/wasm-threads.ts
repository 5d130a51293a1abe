/**
 * tfjs-backend-wasm's multithreaded SIMD build in Node. tfjs 4.22 ships it
 * but starts it only in browsers, for three reasons this module removes:
 * - its feature test answers "no threads" whenever it runs in Node
 *   (WASM_HAS_MULTITHREAD_SUPPORT is set here instead);
 * - Emscripten starts each pthread as a Worker from a blob: URL and hands it
 *   the module's JavaScript as a Blob, neither of which Node's Worker can
 *   load: the Worker that Emscripten finds global here runs the pthread
 *   script from its text and loads the module's JavaScript from its file
 *   (`wasm-out/` of the package, or beside a bundle);
 * - XNNPACK's pool takes half the logical cores (tfjs assumes two hardware
 *   threads per core) and at most 8 threads (the pthread workers tfjs
 *   creates up front): the backend starts with the logical-core count made
 *   to read twice the threads asked for.
 * Pthread workers never keep the process alive (Emscripten refs a worker
 * while it runs a pthread, and XNNPACK's pool threads run for good), and a
 * worker that fails to start fails the start instead of the process
 * (Emscripten rethrows its error, which would end it).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';

/** tfjs's XNNPACK pool is at most the 8 pthread workers its build creates up front. */
export const MAX_WASM_THREADS = 8;

const MODULE_SCRIPT = 'tfjs-backend-wasm-threaded-simd.js';
const PTHREAD_SCRIPT = 'tfjs-backend-wasm-threaded-simd.worker.js';

// Not named `require`: electron-vite declares one in the ES modules it builds, and two do not parse.
const requireHere = createRequire(import.meta.url);

/**
 * The folder holding the threaded build's JavaScript (the module and the
 * pthread script) among `candidates`, or null when none has both.
 */
export function findThreadedBuild(candidates: string[]): string | null {
  return (
    candidates.find(
      (dir) =>
        existsSync(path.join(dir, MODULE_SCRIPT)) && existsSync(path.join(dir, PTHREAD_SCRIPT)),
    ) ?? null
  );
}

let installed: string | null = null;
/** Where a failing pthread worker's error goes while the backend starts. */
let reportFailure: ((error: Error) => void) | null = null;

/** Makes Emscripten's `new Worker(...)` start pthreads from the build in `dir` (once per thread). */
function installPthreadWorker(dir: string): void {
  if (installed === dir) return;
  installed = dir;
  const moduleScript = path.join(dir, MODULE_SCRIPT);
  // The file exports the pthread script as text; as tfjs does, keep its "\n" escapes escaped.
  const pthreadScript = (
    requireHere(path.join(dir, PTHREAD_SCRIPT)) as { wasmWorkerContents: string }
  ).wasmWorkerContents.replace(/\n/g, '\\n');
  class PthreadWorker extends NodeWorker {
    constructor() {
      super(pthreadScript, { eval: true });
    }
    override postMessage(message: unknown, transfer?: readonly Transferable[]): void {
      const load = message as { cmd?: string; urlOrBlob?: unknown } | null;
      // The pthread script imports a string by reading the file and evaluating it.
      const sent = load?.cmd === 'load' ? { ...load, urlOrBlob: moduleScript } : message;
      super.postMessage(sent, transfer as never);
    }
    override ref(): void {}
    override on(event: string | symbol, listener: Parameters<NodeWorker['on']>[1]): this {
      if (event !== 'error') return super.on(event, listener);
      return super.on('error', (error: Error) => reportFailure?.(error));
    }
  }
  // Emscripten assigns Node's Worker to the global on start; the setter keeps this one.
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => {},
  });
}

/**
 * Runs `start` (which starts the wasm backend) with the threaded build
 * prepared for `threads` threads; rejects if a pthread worker fails to start
 * (the backend's start then never ends: discard it).
 */
export async function withThreadedBuild<T>(
  dir: string,
  threads: number,
  start: () => Promise<T>,
): Promise<T> {
  installPthreadWorker(dir);
  const failure = new Promise<never>((_, reject) => {
    reportFailure = (error) => reject(new Error(`a pthread worker failed: ${error.message}`));
  });
  // tfjs reads the core count once, as the module starts, and gives XNNPACK half.
  const cpus = os.cpus;
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]);
  };
  try {
    return await Promise.race([start(), failure]);
  } finally {
    os.cpus = cpus;
    reportFailure = null;
  }
}
