/**
 * The evaluation worker thread: one EvaluationSession (the compiled model and
 * test data, kept between requests) answering the host's requests in turn, so
 * compiling and running a network never holds the host's event loop. Started
 * and fed by EvaluationService. Node only.
 */
import { workerData } from 'node:worker_threads';
import type {
  EvaluateRequest,
  EvaluationReport,
  InspectReport,
  InspectRequest,
} from '../api/evaluation-api';
import { answerRequests } from '../node/serial-worker';
import { type EvaluationProgress, EvaluationSession } from './evaluation-session';
import type { HostDataOptions } from './training-runs-service';

export type EvaluationWorkerRequest =
  | { method: 'classify'; request: EvaluateRequest }
  | { method: 'inspect'; request: InspectRequest };

export type EvaluationWorkerResult = EvaluationReport | InspectReport;

const session = new EvaluationSession(workerData as HostDataOptions);

answerRequests<EvaluationWorkerRequest, EvaluationWorkerResult, EvaluationProgress>(
  (call, progress) =>
    call.method === 'classify'
      ? session.classify(call.request, progress)
      : session.inspect(call.request),
);
