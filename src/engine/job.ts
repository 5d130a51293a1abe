/**
 * Runs a training in a worker thread (worker.ts) and hands its events to the
 * caller: the CLI, the studio's backend and the web host all start training
 * this way, so their event loop stays free. Node only.
 */
import { Worker } from 'node:worker_threads';
import type { FinalEvent, TrainingEvent } from '../api/training-protocol';
import type { Project } from '../core/document/schema';
import type { TrainOptions } from '../core/training/options';
import { hasCheckpoint, recordRunEnd, releaseWorkerLock } from './run/folder';
import type { WorkerReply, WorkerRequest } from './worker';

export interface TrainingJob {
  /** Takes effect before the next batch; a 'paused' event confirms it. */
  pause(): void;
  resume(): void;
  /** Stops before the next batch, writing a checkpoint when the run has an outDir. */
  stop(): void;
  /** The last event: done, stopped or error. */
  done: Promise<FinalEvent>;
}

const FINAL_EVENTS = new Set(['done', 'stopped', 'error']);

/** The worker module next to this one; from TypeScript sources, through a bootstrap that loads tsx. */
export function spawnTrainingWorker(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  return new Worker(new URL(fromSources ? './worker-entry.mjs' : './worker.js', import.meta.url));
}

/**
 * Starts `project` training with `options` in a worker thread (`spawn` makes
 * it; tests keep a handle to end it as a crash would). A worker that dies
 * before its final event (killed, out of memory, a crash in native code)
 * ends the job with an error that says which checkpoint is kept, recorded
 * in run.json, with the run folder unlocked so the run can be continued.
 */
export function startTrainingJob(
  project: Project,
  options: TrainOptions,
  onEvent: (event: TrainingEvent) => void,
  spawn: () => Worker = spawnTrainingWorker,
): TrainingJob {
  const worker = spawn();
  const send = (request: WorkerRequest) => worker.postMessage(request);
  let finished = false;
  let lastCheckpoint: Extract<TrainingEvent, { event: 'checkpoint' }> | undefined;
  const done = new Promise<FinalEvent>((resolve) => {
    const finish = (event: FinalEvent, recorded: Promise<void> = Promise.resolve()) => {
      if (finished) return;
      finished = true;
      void worker.terminate();
      void recorded.then(() => resolve(event));
    };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.event.event === 'checkpoint') lastCheckpoint = reply.event;
      onEvent(reply.event);
      if (FINAL_EVENTS.has(reply.event.event)) finish(reply.event as FinalEvent);
    });
    const fail = (what: string) => {
      if (finished) return;
      const { outDir } = options;
      const event: FinalEvent = {
        event: 'error',
        message: `${what}: training stopped. ${whatIsKept(options, lastCheckpoint)}`,
      };
      onEvent(event);
      // The worker could not record its end nor unlock its folder: done here.
      finish(
        event,
        outDir
          ? recordRunEnd(outDir, event)
              .catch(() => undefined)
              .finally(() => releaseWorkerLock(outDir))
          : undefined,
      );
    };
    worker.on('error', (error) => fail(`The training worker failed (${error.message})`));
    worker.on('exit', (code) => fail(`The training worker ended unexpectedly (exit code ${code})`));
  });
  send({ type: 'start', project, options });
  return {
    pause: () => !finished && send({ type: 'pause' }),
    resume: () => !finished && send({ type: 'resume' }),
    stop: () => !finished && send({ type: 'stop' }),
    done,
  };
}

/** What of a run whose worker died is safe, and how to go on from it. */
function whatIsKept(
  { outDir, resume }: TrainOptions,
  checkpoint: Extract<TrainingEvent, { event: 'checkpoint' }> | undefined,
): string {
  if (!outDir) return 'The run had no run folder, so nothing of it was kept.';
  const goOn = `continue the run from it (Continue in the studio's runs list, or train with --out ${outDir} --resume)`;
  if (checkpoint) {
    const where =
      checkpoint.batch === undefined
        ? `after epoch ${checkpoint.epoch}`
        : `at batch ${checkpoint.batch} of epoch ${checkpoint.epoch}`;
    return `The checkpoint ${where} in ${outDir} is kept: ${goOn}.`;
  }
  if (resume && hasCheckpoint(outDir)) {
    return `The checkpoint it resumed from in ${outDir} is kept (none newer was written): ${goOn}.`;
  }
  return `No checkpoint had been written yet in ${outDir}; start the run again.`;
}
