/**
 * Training methods of StudioApi (see studio-api.ts): what this machine can
 * train on, starting and steering runs, and the project's runs. Everything here
 * crosses a process boundary as JSON. Evaluation is in evaluation-api.ts.
 */
import { z } from 'zod';
import { type Project, projectSchema } from '../core/document/schema';
import {
  type BackendChoice,
  type DatasetName,
  type TrainOptions,
  trainOptionsRequestSchema,
} from '../core/training/options';
import type { MethodArgs } from './method-args';
import type { Result } from './result';
import type { EpochEvent, Execution, TrainingEvent } from './training-protocol';

/** Which project a call is about: the editor's document (it may be unsaved) and its file. */
export interface TrainingTarget {
  project: Project;
  /** The project file, if saved: its runs live in `<its folder>/runs/`. */
  projectPath?: string;
}

export interface BackendStatus {
  name: BackendChoice;
  available: boolean;
  /** Why it cannot be used here (or a note on how it runs). */
  reason?: string;
  /** What it computes on, when available (for PyTorch also its version and Python). */
  device?: string;
}

export interface DatasetStatus {
  name: DatasetName;
  label: string;
  available: boolean;
  /** Where it was found (a folder, a cache, the bundled sample). */
  source?: string;
  /** Why it is not available and what to do. */
  reason?: string;
  /** Not on this computer yet: starting a training downloads it from this folder URL (into downloadTo). */
  downloadFrom?: string;
  downloadTo?: string;
  trainSize?: number;
  valSize?: number;
  classes?: string[];
  inputShape?: [number, number, number];
}

export type RunStatus = 'running' | 'paused' | 'done' | 'stopped' | 'failed' | 'interrupted';

/** A run's run.json: what was asked and how it went (the run folder's other files hold the rest). */
export interface RunRecord {
  /** The run folder's name, unique among the project's runs. */
  id: string;
  projectName: string;
  startedAt: string;
  status: RunStatus;
  /** As the run was started (without its folder, which may move). */
  options: TrainOptions;
  backend?: string;
  device?: string;
  execution?: Execution;
  error?: string;
}

export interface RunSummary extends RunRecord {
  dir: string;
  epochsDone: number;
  last?: Pick<EpochEvent, 'trainLoss' | 'trainAcc' | 'valLoss' | 'valAcc'>;
  hasWeights: boolean;
  /** It can continue from a checkpoint (trainingContinue) if it ended before its last epoch. */
  hasCheckpoint: boolean;
}

/** A run's recorded metrics (metrics.jsonl), for the curves. */
export interface RunMetrics {
  runId: string;
  /** Per-batch training loss: epoch is fractional (epoch - 1 + batch / batches), as the course plots it. */
  batches: { x: number; loss: number }[];
  epochs: EpochEvent[];
  layerStats?: Extract<TrainingEvent, { event: 'layerStats' }>;
}

export interface StartTrainingRequest extends TrainingTarget {
  /** Overrides of the project's training settings. */
  options: Partial<TrainOptions>;
}

export interface TrainingApi {
  /** Backends of this machine, best first, each with why it can or cannot be used. */
  trainingBackends(): Promise<Result<BackendStatus[]>>;
  /** Datasets and where each was found. */
  trainingDatasets(dataDir?: string): Promise<Result<DatasetStatus[]>>;
  /** Starts a run in a worker; its events arrive as StudioPush {channel: 'training', runId}. */
  trainingStart(request: StartTrainingRequest): Promise<Result<RunSummary>>;
  trainingPause(runId: string): Promise<Result<void>>;
  trainingResume(runId: string): Promise<Result<void>>;
  trainingStop(runId: string): Promise<Result<void>>;
  /**
   * Continues a run that ended before its last epoch (a crash of the studio,
   * a stop, a failure) from its checkpoint, with its own project and options.
   */
  trainingContinue(target: TrainingTarget, runId: string): Promise<Result<RunSummary>>;
  /** The project's runs, newest first. */
  trainingRuns(target: TrainingTarget): Promise<Result<RunSummary[]>>;
  trainingRunMetrics(target: TrainingTarget, runId: string): Promise<Result<RunMetrics>>;
}

export const runIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'is not a run id (a run folder name)');
/** A TrainingTarget as the hosts check it. */
export const trainingTargetSchema = z.object({
  project: projectSchema,
  projectPath: z.string().min(1).max(4096).optional(),
});
/** Argument schemas of the training methods (one zod tuple each); hosts validate calls against them. */
export const trainingMethodArgs = {
  trainingBackends: z.tuple([]),
  trainingDatasets: z.tuple([z.string().max(4096).optional()]),
  trainingStart: z.tuple([trainingTargetSchema.extend({ options: trainOptionsRequestSchema })]),
  trainingPause: z.tuple([runIdSchema]),
  trainingResume: z.tuple([runIdSchema]),
  trainingStop: z.tuple([runIdSchema]),
  trainingContinue: z.tuple([trainingTargetSchema, runIdSchema]),
  trainingRuns: z.tuple([trainingTargetSchema]),
  trainingRunMetrics: z.tuple([trainingTargetSchema, runIdSchema]),
} satisfies MethodArgs<TrainingApi>;
