/**
 * A worker thread that answers one request at a time: heavy work (building
 * an export, compiling and running a model for evaluation) runs there, so
 * the host's event loop goes on answering while it does, and requests queue
 * instead of multiplying memory. The worker stays for the next request (it
 * may keep what it built) and ends after `idleMs` unused; a worker that dies
 * fails the request it was answering, and the next request starts a fresh one.
 * Node only.
 */
import { parentPort, type Transferable, type Worker } from 'node:worker_threads';

/** What a serial worker posts back: progress while it works, then one answer. */
export type WorkerMessage<Result, Progress> =
  | { progress: Progress }
  | { ok: true; result: Result }
  | { ok: false; message: string };

export interface SerialWorkerOptions {
  /** What the worker does, for messages ("the export worker …"). */
  name: string;
  /** Starts the thread (the module beside the caller, or its bootstrap from sources). */
  start(): Worker;
  idleMs: number;
}

export class SerialWorker<Request, Result, Progress = never> {
  private queue: Promise<unknown> = Promise.resolve();
  private current?: { worker: Worker; idle?: NodeJS.Timeout };

  constructor(private readonly options: SerialWorkerOptions) {}

  /** Answers `request` in the worker, after every request asked before it. */
  ask(request: Request, onProgress?: (progress: Progress) => void): Promise<Result> {
    const turn = this.queue.then(() => this.send(request, onProgress));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private worker(): Worker {
    if (this.current?.idle) clearTimeout(this.current.idle);
    if (!this.current) {
      const worker = this.options.start();
      worker.unref(); // an idle worker never keeps a process alive
      worker.once('exit', () => {
        if (this.current?.worker === worker) this.current = undefined;
      });
      this.current = { worker };
    }
    return this.current.worker;
  }

  private send(request: Request, onProgress?: (progress: Progress) => void): Promise<Result> {
    const worker = this.worker();
    const { name, idleMs } = this.options;
    return new Promise<Result>((resolve, reject) => {
      const onMessage = (message: WorkerMessage<Result, Progress>) => {
        if ('progress' in message) {
          onProgress?.(message.progress);
          return;
        }
        settle();
        if (message.ok) resolve(message.result);
        else reject(new Error(message.message));
      };
      const onError = (err: Error) => {
        settle();
        reject(new Error(`the ${name} failed: ${err.message}`));
      };
      const onExit = (code: number) => {
        settle();
        reject(new Error(`the ${name} ended before answering (exit code ${code})`));
      };
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (this.current?.worker === worker) {
          this.current.idle = setTimeout(() => void worker.terminate(), idleMs);
          this.current.idle.unref();
        }
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  }
}

/**
 * Inside the worker: answers each request with `handle`, which may report
 * progress; `transfer` names buffers of the result to move rather than copy.
 * The owner (SerialWorker) sends one request at a time.
 */
export function answerRequests<Request, Result, Progress = never>(
  handle: (request: Request, progress: (progress: Progress) => void) => Promise<Result>,
  transfer: (result: Result) => Transferable[] = () => [],
): void {
  const port = parentPort;
  if (!port) throw new Error('this module runs as a worker thread, started by SerialWorker');
  const post = (message: WorkerMessage<Result, Progress>, moved: Transferable[] = []) =>
    port.postMessage(message, moved);
  port.on('message', async (request: Request) => {
    try {
      const result = await handle(request, (progress) => post({ progress }));
      post({ ok: true, result }, transfer(result));
    } catch (err) {
      post({ ok: false, message: (err as Error).message });
    }
  });
}
