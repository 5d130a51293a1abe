/**
 * The Evaluate area's state: which weights to look at, the classification
 * report on test images and the inspection of one image. Kept in a store so
 * switching areas does not throw the results away.
 */
import { create } from 'zustand';
import type {
  EvaluationReport,
  InspectReport,
  ProbeImage,
  WeightsSource,
} from '../../api/evaluation-api';
import type { StudioClient } from '../../api/studio-api';
import type { TrainingTarget } from '../../api/training-api';

export interface EvaluationState {
  weights?: WeightsSource;
  /** The user picked the weights; otherwise the newest run's are taken as runs appear. */
  pinned: boolean;
  limit: number;
  report?: EvaluationReport;
  inspect?: InspectReport;
  probe: ProbeImage;
  busy: 'classify' | 'inspect' | null;
  /** While classifying: test images done so far, of total (pushed by the host). */
  progress?: { done: number; total: number };
  error?: string;
}

export const useEvaluation = create<EvaluationState>(() => ({
  limit: 1000,
  pinned: false,
  probe: { kind: 'test', index: 0 },
  busy: null,
}));

const set = useEvaluation.setState;
const get = useEvaluation.getState;

export function chooseWeights(weights: WeightsSource, pinned: boolean): void {
  const current = get().weights;
  if (JSON.stringify(current) === JSON.stringify(weights)) {
    set({ pinned });
    return;
  }
  set({ weights, pinned, report: undefined, inspect: undefined });
}

export function showEvaluationError(error: string): void {
  set({ error });
}

export function setLimit(limit: number): void {
  set({ limit });
}

export async function runClassification(
  client: StudioClient,
  target: TrainingTarget,
): Promise<void> {
  const { weights, limit } = get();
  if (!weights) return;
  set({ busy: 'classify', error: undefined, progress: undefined });
  const stopFollowing = client.onPush((push) => {
    if (push.channel === 'evaluation') set({ progress: push.payload });
  });
  const result = await client.evaluateClassification({ ...target, weights, limit });
  stopFollowing();
  set(
    result.ok
      ? { report: result.value, busy: null, progress: undefined }
      : { error: result.error, busy: null, progress: undefined },
  );
}

export async function inspectImage(
  client: StudioClient,
  target: TrainingTarget,
  probe: ProbeImage,
): Promise<void> {
  const { weights } = get();
  if (!weights) return;
  set({ busy: 'inspect', error: undefined, probe });
  const result = await client.evaluateInspect({
    ...target,
    weights,
    image: probe,
    maxChannels: 16,
  });
  set(result.ok ? { inspect: result.value, busy: null } : { error: result.error, busy: null });
}
