/**
 * The training worker thread: receives a run to start and pause/resume/stop
 * requests from its owner (job.ts) and streams every TrainingEvent back, so
 * training never blocks the caller's event loop. Node only.
 */
import { parentPort } from 'node:worker_threads';
import type { TrainingEvent } from '../api/training-protocol';
import type { Project } from '../core/document/schema';
import type { TrainOptions } from '../core/training/options';
import { runTraining, TrainingControl } from './training/trainer';

export type WorkerRequest =
  | { type: 'start'; project: Project; options: TrainOptions }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type WorkerReply = { type: 'event'; event: TrainingEvent };

if (!parentPort)
  throw new Error('worker.ts runs as a worker thread; start it with startTrainingJob');
const port = parentPort;
const control = new TrainingControl();
let started = false;

const send = (event: TrainingEvent) =>
  port.postMessage({ type: 'event', event } satisfies WorkerReply);

port.on('message', (message: WorkerRequest) => {
  switch (message?.type) {
    case 'start':
      if (started) {
        send({
          event: 'error',
          message: 'this worker is already running a training; start a new job',
        });
        return;
      }
      started = true;
      void runTraining(message.project, message.options, send, control);
      return;
    case 'pause':
      control.pause();
      return;
    case 'resume':
      control.resume();
      return;
    case 'stop':
      control.stop();
      return;
    default: {
      const problem = `the training worker got an unknown message type ${JSON.stringify((message as { type?: unknown })?.type)}; it understands start, pause, resume and stop`;
      send({ event: 'error', message: problem });
      throw new Error(problem);
    }
  }
});
