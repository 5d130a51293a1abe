/**
 * The training half of StudioApi on the host: what this machine can train on,
 * and a project's runs. A run trains in the engine's worker (never on the
 * host's event loop), which records it in its folder
 * (`<project folder>/runs/<start time>/`, engine/run/); its events are pushed
 * to the UI as they come. Runs of the past are read back from their folders.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Result } from '../api/result';
import type { StudioPush } from '../api/studio-api';
import type {
  BackendStatus,
  DatasetStatus,
  RunMetrics,
  RunRecord,
  RunSummary,
  StartTrainingRequest,
  TrainingApi,
  TrainingTarget,
} from '../api/training-api';
import type { EpochEvent, TrainingEvent } from '../api/training-protocol';
import type { Project } from '../core/document/schema';
import { resolveTrainOptions, type TrainOptions, trainingOptions } from '../core/training/options';
import { trainingBackends } from '../engine/backends';
import { DatasetNotDownloaded, loadDataset } from '../engine/data';
import { startTrainingJob, type TrainingJob } from '../engine/job';
import {
  createRunFolder,
  hasCheckpoint,
  hasFinalWeights,
  readRunMetrics,
  readRunProject,
  readRunRecord,
  recordAfter,
  removeTemporaries,
  runLockHolder,
} from '../engine/run/folder';
import { confinePath, PathOutsideRoots } from '../node/confined-path';
import { dataConfinement } from '../node/workspace';
import { guard } from './guard';
import { runFolderOf, runStamp, runsFolderOf } from './run-folders';

export interface TrainingRunsServiceOptions extends HostDataOptions {
  /** Trainings this host runs at once (default MAX_TRAININGS). */
  maxTrainings?: number;
  push(message: StudioPush): void;
}

/**
 * Trainings a host runs at once: each takes a worker, the cores its backend
 * uses and memory for its data and model; more only make all of them slower.
 */
export const MAX_TRAININGS = 2;

/** Batches between layer statistics: often enough to watch, rare enough to cost little. */
const LAYER_STATS_EVERY = 20;

interface ActiveRun {
  /** As the events so far have left it; the worker writes the same to run.json. */
  record: RunRecord;
  dir: string;
  job: TrainingJob;
}

/** What the host was told about data: its default folder and every folder training may read. */
export interface HostDataOptions {
  /** The workspace. */
  projectFolder: string;
  /** Where datasets are looked for first (the host's first --data-dir). */
  dataDir?: string;
  /** Folders besides the workspace that datasets may be read from (every --data-dir). */
  dataDirs?: string[];
}

/**
 * A dataset folder a client or a project names, confined to the workspace
 * and the host's --data-dir folders (its images go back to the client); the
 * host's own folder when none is named.
 */
export function hostDataFolder(
  host: HostDataOptions,
  requested: string | undefined,
): string | undefined {
  if (!requested) return host.dataDir;
  const dirs = host.dataDirs ?? (host.dataDir ? [host.dataDir] : []);
  return confinePath(requested, dataConfinement(path.resolve(host.projectFolder), dirs));
}

/**
 * The project's settings and the user's choices, with the host's data folder
 * (evaluation reads a project's data the same way).
 */
export function hostRunOptions(
  project: Project,
  overrides: Partial<TrainOptions>,
  host: HostDataOptions,
): TrainOptions {
  const options = resolveTrainOptions(project, overrides);
  options.dataDir = hostDataFolder(host, options.dataDir);
  return options;
}

/**
 * A run's stored options (run.json) with its dataset folder confined as a
 * client's is: run.json is a file in the workspace, which may have come from
 * anyone (a shared project folder), so what it names must stay in the
 * workspace and the host's --data-dir folders.
 */
export function hostStoredOptions(
  stored: TrainOptions,
  host: HostDataOptions,
  runDir: string,
): TrainOptions {
  try {
    return { ...stored, dataDir: hostDataFolder(host, stored.dataDir) };
  } catch (err) {
    if (!(err instanceof PathOutsideRoots)) throw err;
    throw new Error(
      `${path.join(runDir, 'run.json')} names its dataset folder ${err.message}. To use that folder, start the studio with --data-dir naming it`,
    );
  }
}

export class TrainingRunsService implements TrainingApi {
  private readonly folder: string;
  private readonly active = new Map<string, ActiveRun>();

  constructor(private readonly options: TrainingRunsServiceOptions) {
    this.folder = path.resolve(options.projectFolder);
  }

  trainingBackends(): Promise<Result<BackendStatus[]>> {
    return guard(() => trainingBackends());
  }

  trainingDatasets(requestedDir?: string): Promise<Result<DatasetStatus[]>> {
    return guard(() => {
      const dataDir = hostDataFolder(this.options, requestedDir);
      return Promise.all(
        trainingOptions.dataset.choices.map(async ({ value: name, label }) => {
          try {
            // Listing must not download: that happens when a training starts, with progress.
            const { info } = await loadDataset({
              dataset: name,
              dataDir,
              limitTrain: 1,
              limitVal: 1,
              download: false,
            });
            return {
              name,
              label,
              available: true,
              source: info.source,
              trainSize: info.trainSize,
              valSize: info.valSize,
              classes: info.classes,
              inputShape: info.inputShape,
            } satisfies DatasetStatus;
          } catch (err) {
            if (err instanceof DatasetNotDownloaded) {
              return {
                name,
                label,
                available: true,
                downloadFrom: err.url,
                downloadTo: err.cacheDir,
              } satisfies DatasetStatus;
            }
            return {
              name,
              label,
              available: false,
              reason: (err as Error).message,
            } satisfies DatasetStatus;
          }
        }),
      );
    });
  }

  trainingStart(request: StartTrainingRequest): Promise<Result<RunSummary>> {
    return guard(async () => {
      const options = hostRunOptions(request.project, request.options, this.options);
      options.layerStatsEvery ??= LAYER_STATS_EVERY;
      this.refuseAtCapacity();
      const dir = createRunFolder(runsFolderOf(this.folder, request), runStamp());
      const record: RunRecord = {
        id: path.basename(dir),
        projectName: request.project.name,
        startedAt: new Date().toISOString(),
        status: 'running',
        options,
      };
      return this.launch(request.project, record, dir, { ...options, outDir: dir });
    });
  }

  trainingContinue(target: TrainingTarget, runId: string): Promise<Result<RunSummary>> {
    return guard(async () => {
      const dir = runFolderOf(this.folder, target, runId);
      if (this.active.has(runId)) throw new Error(`run ${runId} is training already`);
      const holder = runLockHolder(dir);
      if (holder !== undefined) {
        throw new Error(`run ${runId} is being trained by another process (${holder})`);
      }
      const record = await readRunRecord(dir);
      const project = await readRunProject(dir);
      if (!record || !project || !hasCheckpoint(dir)) {
        throw new Error(
          `run ${runId} has no checkpoint to continue from (it stopped before its first one); start a new run`,
        );
      }
      const metrics = await readRunMetrics(dir, runId);
      if (record.status === 'done' || metrics.epochs.length >= record.options.epochs) {
        throw new Error(`run ${runId} has trained all its ${record.options.epochs} epochs`);
      }
      this.refuseAtCapacity();
      const resumed: RunRecord = { ...record, status: 'running', error: undefined };
      const options = hostStoredOptions(record.options, this.options, dir);
      return this.launch(project, resumed, dir, { ...options, outDir: dir, resume: true });
    });
  }

  trainingPause(runId: string): Promise<Result<void>> {
    return guard(() => this.activeRun(runId).job.pause());
  }

  trainingResume(runId: string): Promise<Result<void>> {
    return guard(() => this.activeRun(runId).job.resume());
  }

  trainingStop(runId: string): Promise<Result<void>> {
    return guard(() => this.activeRun(runId).job.stop());
  }

  trainingRuns(target: TrainingTarget): Promise<Result<RunSummary[]>> {
    return guard(async () => {
      const root = runsFolderOf(this.folder, target);
      if (!existsSync(root)) return [];
      const runs: RunSummary[] = [];
      for (const entry of await readdir(root, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const dir = path.join(root, entry.name);
        // A run in progress is described by its live record, the others by their run.json.
        const record = this.active.get(entry.name)?.record ?? (await readRunRecord(dir));
        if (!record || record.projectName !== target.project.name) continue;
        const metrics = await readRunMetrics(dir, record.id);
        // Not training here nor in another process (a CLI run): it ended without saying so.
        const orphaned = !this.active.has(record.id) && runLockHolder(dir) === undefined;
        if (orphaned) removeTemporaries(dir, { all: false });
        const interrupted = orphaned && (record.status === 'running' || record.status === 'paused');
        runs.push(
          summarise(
            dir,
            interrupted ? { ...record, status: 'interrupted' } : record,
            hasFinalWeights(dir),
            hasCheckpoint(dir),
            metrics.epochs.length,
            metrics.epochs.at(-1),
          ),
        );
      }
      return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    });
  }

  trainingRunMetrics(target: TrainingTarget, runId: string): Promise<Result<RunMetrics>> {
    return guard(() => readRunMetrics(runFolderOf(this.folder, target, runId), runId));
  }

  /** Starts a run's job in the worker and follows it until it ends. */
  private launch(
    project: Project,
    record: RunRecord,
    dir: string,
    options: TrainOptions,
  ): RunSummary {
    const job = startTrainingJob(project, options, (event) => this.onEvent(record.id, event));
    this.active.set(record.id, { record, dir, job });
    // The worker has recorded the end in run.json before its last event arrives.
    void job.done.finally(() => this.active.delete(record.id));
    return summarise(dir, record, hasFinalWeights(dir), false, 0);
  }

  private refuseAtCapacity(): void {
    const max = this.options.maxTrainings ?? MAX_TRAININGS;
    if (this.active.size < max) return;
    throw new Error(
      `${this.active.size} training${this.active.size === 1 ? ' is' : 's are'} running in this studio, the most it runs at once (each takes the cores and memory the others need); stop one or wait for it to finish`,
    );
  }

  private onEvent(runId: string, event: TrainingEvent): void {
    const run = this.active.get(runId);
    if (run) run.record = recordAfter(run.record, event);
    this.options.push({ channel: 'training', runId, payload: event });
  }

  private activeRun(runId: string): ActiveRun {
    const run = this.active.get(runId);
    if (!run)
      throw new Error(`run ${runId} is not running (it finished, stopped or never started)`);
    return run;
  }
}

function summarise(
  dir: string,
  record: RunRecord,
  hasWeights: boolean,
  hasCheckpoint: boolean,
  epochsDone: number,
  last?: EpochEvent,
): RunSummary {
  return {
    ...record,
    dir,
    hasWeights,
    hasCheckpoint,
    epochsDone,
    last: last && {
      trainLoss: last.trainLoss,
      trainAcc: last.trainAcc,
      valLoss: last.valLoss,
      valAcc: last.valAcc,
    },
  };
}
