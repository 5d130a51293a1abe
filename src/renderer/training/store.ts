/**
 * The training dashboard's state: what this machine offers (backends,
 * datasets), the settings chosen for the next run, the live run and the
 * project's past runs. Batch losses go into a RunSeries (mutable, outside
 * React) and only a counter moves, so the charts redraw once per frame at most.
 */
import { create } from 'zustand';
import type { Result } from '../../api/result';
import type { StudioClient, StudioPush } from '../../api/studio-api';
import type {
  BackendStatus,
  DatasetStatus,
  RunStatus,
  RunSummary,
  TrainingTarget,
} from '../../api/training-api';
import type { LayerStat, TrainingEvent } from '../../api/training-protocol';
import type { BackendChoice, TrainOptions } from '../../core/training/options';
import { LayerHistory, RunSeries } from './series';

type StartEvent = Extract<TrainingEvent, { event: 'start' }>;
type BatchEvent = Extract<TrainingEvent, { event: 'batch' }>;

export interface LiveRun {
  runId: string;
  /** The backend the user asked for ('auto': a note on what was skipped is information, not a fallback). */
  requestedBackend?: BackendChoice;
  status: RunStatus | 'starting';
  /** The dataset's download before the start, file by file. */
  download?: Extract<TrainingEvent, { event: 'download' }>;
  start?: StartEvent;
  lastBatch?: BatchEvent;
  epoch: number;
  series: RunSeries;
  history: LayerHistory;
  layerStats?: { epoch: number; batch: number; layers: LayerStat[] };
  /** What the run goes on without (damaged images skipped), as the engine said it. */
  warnings: string[];
  error?: string;
}

export interface TrainingState {
  client?: StudioClient;
  target?: TrainingTarget;
  backends?: BackendStatus[];
  datasets?: DatasetStatus[];
  /** What the user changed for the next run (the rest comes from the project). */
  overrides: Partial<TrainOptions>;
  live?: LiveRun;
  runs: RunSummary[];
  /** Past runs overlaid on the curves, by id. */
  compared: Record<string, RunSeries>;
  /** Moves on every batch/epoch; charts watch it. */
  tick: number;
  smoothing: number;
  message?: string;
}

export const useTraining = create<TrainingState>(() => ({
  overrides: {},
  runs: [],
  compared: {},
  tick: 0,
  smoothing: 0.9,
}));

const set = useTraining.setState;
const get = useTraining.getState;

async function call<T>(request: Promise<Result<T>>): Promise<T | undefined> {
  const result = await request;
  if (!result.ok) {
    set({ message: result.error });
    return undefined;
  }
  return result.value;
}

/**
 * Connects the store to a host once: pushes are followed from then on, also
 * while another area is shown, so the curves are complete on return.
 */
export function connectTraining(client: StudioClient): void {
  if (get().client === client) return;
  set({ client });
  client.onPush(onPush);
  void call(client.trainingBackends()).then((backends) => backends && set({ backends }));
}

export async function loadDatasets(dataDir?: string): Promise<void> {
  const { client } = get();
  if (!client) return;
  // An absent argument, not `undefined`: JSON would send it as null.
  const datasets = await call(
    dataDir ? client.trainingDatasets(dataDir) : client.trainingDatasets(),
  );
  if (datasets) set({ datasets });
}

/** The project the dashboard works on changed (opened, edited or saved). */
export function setTarget(target: TrainingTarget): void {
  const previous = get().target;
  set({ target });
  if (
    previous?.projectPath !== target.projectPath ||
    previous?.project.name !== target.project.name
  ) {
    set({ compared: {}, overrides: {} });
    void refreshRuns();
  }
}

export async function refreshRuns(): Promise<void> {
  const { client, target } = get();
  if (!client || !target) return;
  const runs = await call(client.trainingRuns(target));
  if (runs) set({ runs });
}

export function setOverride<K extends keyof TrainOptions>(key: K, value: TrainOptions[K]): void {
  set((s) => ({ overrides: { ...s.overrides, [key]: value } }));
}

export async function startRun(options: Partial<TrainOptions>): Promise<void> {
  const { client, target } = get();
  if (!client || !target) return;
  set({ message: undefined });
  const run = await call(client.trainingStart({ ...target, options }));
  if (!run) return;
  const current = get().live;
  const requestedBackend = run.options.backend;
  // Events may have arrived before the answer; keep them.
  if (current?.runId === run.id) set({ live: { ...current, requestedBackend } });
  else {
    set({ live: { ...newLiveRun(run.id), requestedBackend } });
  }
  void refreshRuns();
}

/**
 * Continues a past run that ended before its last epoch (the studio crashed, it
 * was stopped, it failed) from its checkpoint; its curves so far are shown at once.
 */
export async function continueRun(runId: string): Promise<void> {
  const { client, target } = get();
  if (!client || !target) return;
  set({ message: undefined });
  const metrics = await call(client.trainingRunMetrics(target, runId));
  const run = await call(client.trainingContinue(target, runId));
  if (!run) return;
  const series = metrics ? RunSeries.fromMetrics(metrics) : new RunSeries();
  const current = get().live;
  // Events may have arrived before the answer: add them to the curves so far.
  if (current?.runId === run.id) {
    for (let i = 0; i < current.series.batchX.length; i++) {
      series.addBatch(current.series.batchX[i], current.series.batchLoss[i]);
    }
    for (const e of current.series.epochs) series.addEpoch(e);
  }
  const base = current?.runId === run.id ? current : newLiveRun(run.id);
  set({ live: { ...base, series, requestedBackend: run.options.backend } });
  void refreshRuns();
}

export async function controlRun(action: 'pause' | 'resume' | 'stop'): Promise<void> {
  const { client, live } = get();
  if (!client || !live) return;
  const method = {
    pause: client.trainingPause,
    resume: client.trainingResume,
    stop: client.trainingStop,
  }[action];
  await call(method.call(client, live.runId));
}

export async function toggleCompare(runId: string): Promise<void> {
  const { client, target, compared } = get();
  if (!client || !target) return;
  if (compared[runId]) {
    const { [runId]: _removed, ...rest } = compared;
    set({ compared: rest, tick: get().tick + 1 });
    return;
  }
  const metrics = await call(client.trainingRunMetrics(target, runId));
  if (metrics) {
    set({
      compared: { ...get().compared, [runId]: RunSeries.fromMetrics(metrics) },
      tick: get().tick + 1,
    });
  }
}

export function setSmoothing(smoothing: number): void {
  set({ smoothing, tick: get().tick + 1 });
}

/** Pushes received since the last frame; applied together, so React renders at most once per frame. */
let pending: Extract<StudioPush, { channel: 'training' }>[] = [];
let flushScheduled = false;

function onPush(push: StudioPush): void {
  if (push.channel !== 'training') return;
  pending.push(push);
  if (flushScheduled) return;
  flushScheduled = true;
  // A hidden page gets no frames: a timer keeps the store current for when it is shown.
  if (typeof document !== 'undefined' && document.visibilityState === 'visible') {
    requestAnimationFrame(flushPushes);
  } else setTimeout(flushPushes, 250);
}

function flushPushes(): void {
  const pushes = pending;
  pending = [];
  flushScheduled = false;
  let live = get().live;
  let runsChanged = false;
  for (const push of pushes) {
    if (!live || live.runId !== push.runId) {
      // A run started elsewhere (another window) or before the answer came: follow it.
      live = newLiveRun(push.runId);
    }
    live = applyEvent(live, push.payload);
    runsChanged ||= ['done', 'stopped', 'error', 'epoch'].includes(push.payload.event);
  }
  set({ live, tick: get().tick + 1 });
  if (runsChanged) void refreshRuns();
}

function newLiveRun(runId: string): LiveRun {
  return {
    runId,
    status: 'starting',
    epoch: 0,
    warnings: [],
    series: new RunSeries(),
    history: new LayerHistory(),
  };
}

/** The live run after one event (series are appended in place; the run object is new). */
export function applyEvent(live: LiveRun, event: TrainingEvent): LiveRun {
  switch (event.event) {
    case 'download':
      return { ...live, download: event };
    case 'start':
      return {
        ...live,
        status: 'running',
        start: event,
        epoch: event.resumedFromEpoch ?? 0,
        download: undefined,
      };
    case 'batch':
      live.series.addBatch(event.epoch - 1 + event.batch / event.batches, event.loss);
      return {
        ...live,
        status: live.status === 'starting' ? 'running' : live.status,
        lastBatch: event,
        epoch: event.epoch,
      };
    case 'epoch':
      live.series.addEpoch(event);
      return { ...live, epoch: event.epoch };
    case 'layerStats': {
      const batches = live.start?.batchesPerEpoch ?? live.lastBatch?.batches ?? 1;
      live.history.add(event.epoch - 1 + event.batch / batches, event.layers);
      return { ...live, layerStats: event };
    }
    case 'warning':
      return { ...live, warnings: [...live.warnings, event.message] };
    case 'paused':
      return { ...live, status: 'paused' };
    case 'resumed':
      return { ...live, status: 'running' };
    case 'stopped':
      return { ...live, status: 'stopped' };
    case 'done':
      return { ...live, status: 'done' };
    case 'error':
      return { ...live, status: 'failed', error: event.message };
    default:
      return live;
  }
}
