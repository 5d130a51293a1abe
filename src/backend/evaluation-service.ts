/**
 * The evaluation half of StudioApi on the host. The work (compiling the
 * network, loading the test data, running it) is done by an EvaluationSession
 * in a worker thread, one request at a time, so a large or hostile project
 * stalls no other client; its progress is pushed to the pages. The worker
 * keeps the compiled model for the next request and ends after ten minutes
 * unused, giving its memory back; one that dies (out of memory) fails its
 * request, and the next request starts another.
 */
import { Worker } from 'node:worker_threads';
import type {
  EvaluateRequest,
  EvaluationApi,
  EvaluationReport,
  InspectReport,
  InspectRequest,
} from '../api/evaluation-api';
import type { Result } from '../api/result';
import type { StudioPush } from '../api/studio-api';
import { SerialWorker } from '../node/serial-worker';
import type { EvaluationProgress } from './evaluation-session';
import type { EvaluationWorkerRequest, EvaluationWorkerResult } from './evaluation-worker';
import { guard } from './guard';
import type { HostDataOptions } from './training-runs-service';

export interface EvaluationServiceOptions extends HostDataOptions {
  push(message: StudioPush): void;
}

export class EvaluationService implements EvaluationApi {
  private readonly worker: SerialWorker<
    EvaluationWorkerRequest,
    EvaluationWorkerResult,
    EvaluationProgress
  >;

  constructor(private readonly options: EvaluationServiceOptions) {
    const data: HostDataOptions = {
      projectFolder: options.projectFolder,
      dataDir: options.dataDir,
      dataDirs: options.dataDirs,
    };
    this.worker = new SerialWorker({
      name: 'evaluation worker',
      idleMs: 10 * 60_000,
      start: () => {
        const fromSources = import.meta.url.endsWith('.ts');
        const entry = fromSources ? './evaluation-worker-entry.mjs' : './evaluation-worker.js';
        return new Worker(new URL(entry, import.meta.url), { workerData: data });
      },
    });
  }

  evaluateClassification(request: EvaluateRequest): Promise<Result<EvaluationReport>> {
    return guard(
      () =>
        this.worker.ask({ method: 'classify', request }, (payload) =>
          this.options.push({ channel: 'evaluation', payload }),
        ) as Promise<EvaluationReport>,
    );
  }

  evaluateInspect(request: InspectRequest): Promise<Result<InspectReport>> {
    return guard(() => this.worker.ask({ method: 'inspect', request }) as Promise<InspectReport>);
  }
}
