/**
 * Runs a training in a worker thread (worker.ts) and hands its events to the
 * caller: the CLI, the studio's backend and the web host all start training
 * this way, so their event loop stays free. Node only.
 */
import { Worker } from 'node:worker_threads';
import type { FinalEvent, TrainingEvent } from '../api/training-protocol';
import type { Project } from '../core/document/schema';
import type { TrainOptions } from '../core/training/options';
import { recordRunEnd } from './run/folder';
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
function spawnWorker(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  return new Worker(new URL(fromSources ? './worker-entry.mjs' : './worker.js', import.meta.url));
}

export function startTrainingJob(
  project: Project,
  options: TrainOptions,
  onEvent: (event: TrainingEvent) => void,
): TrainingJob {
  const worker = spawnWorker();
  const send = (request: WorkerRequest) => worker.postMessage(request);
  let finished = false;
  const done = new Promise<FinalEvent>((resolve) => {
    const finish = (event: FinalEvent, recorded: Promise<void> = Promise.resolve()) => {
      if (finished) return;
      finished = true;
      void worker.terminate();
      void recorded.then(() => resolve(event));
    };
    worker.on('message', (reply: WorkerReply) => {
      onEvent(reply.event);
      if (FINAL_EVENTS.has(reply.event.event)) finish(reply.event as FinalEvent);
    });
    const fail = (message: string) => {
      if (finished) return;
      const event: FinalEvent = { event: 'error', message };
      onEvent(event);
      // The worker could not record its end: the run folder says it here.
      const { outDir } = options;
      finish(event, outDir ? recordRunEnd(outDir, event).catch(() => undefined) : undefined);
    };
    worker.on('error', (error) => fail(`the training worker failed: ${error.message}`));
    worker.on('exit', (code) => fail(`the training worker exited unexpectedly (code ${code})`));
  });
  send({ type: 'start', project, options });
  return {
    pause: () => !finished && send({ type: 'pause' }),
    resume: () => !finished && send({ type: 'resume' }),
    stop: () => !finished && send({ type: 'stop' }),
    done,
  };
}
