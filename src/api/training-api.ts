/**
 * Training and evaluation methods of StudioApi (see studio-api.ts). Everything
 * here crosses a process boundary as JSON: images travel as base64 bytes.
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
import type { TrainingEvent } from './training-protocol';

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

export type EpochEvent = Extract<TrainingEvent, { event: 'epoch' }>;

export interface RunSummary {
  /** The run folder's name (its start time), unique among the project's runs. */
  id: string;
  dir: string;
  projectName: string;
  startedAt: string;
  status: RunStatus;
  options: TrainOptions;
  backend?: string;
  device?: string;
  epochsDone: number;
  last?: Pick<EpochEvent, 'trainLoss' | 'trainAcc' | 'valLoss' | 'valAcc'>;
  hasWeights: boolean;
  error?: string;
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

/** Which weights to look inside. */
export type WeightsSource = { kind: 'run'; runId: string } | { kind: 'initial' };

export interface EvaluateRequest extends TrainingTarget {
  weights: WeightsSource;
  /** Test images to classify (default 1000). */
  limit?: number;
}

/** A grey or RGB image, row-major H×W×C bytes (0-255), base64. */
export interface ImageBytes {
  width: number;
  height: number;
  channels: number;
  base64: string;
}

export interface MisclassifiedExample {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
  image: ImageBytes;
}

export interface EvaluationReport {
  weights: WeightsSource;
  classes: string[];
  count: number;
  accuracy: number;
  loss: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  perClass: { label: string; count: number; correct: number; accuracy: number }[];
  misclassified: MisclassifiedExample[];
  backend: string;
  datasetSource: string;
}

export type ProbeImage =
  | { kind: 'test'; index: number }
  | { kind: 'noise'; seed: number }
  /** Pixels the user dropped in, already scaled to the model's input size by the UI. */
  | { kind: 'pixels'; image: ImageBytes };

export interface InspectRequest extends TrainingTarget {
  weights: WeightsSource;
  image: ProbeImage;
  /** Channels to return per layer (default 16). */
  maxChannels?: number;
}

export interface LayerMaps {
  id: string;
  type: string;
  /** PyTorch layout: [1, C, H, W] or [1, F]. */
  shape: number[];
  min: number;
  max: number;
  /** Channels shown (a prefix of all of them), each H×W bytes scaled to the layer's min..max, base64. */
  maps?: { channels: number; height: number; width: number; base64: string };
  /** Vector outputs: the values themselves. */
  values?: number[];
}

export interface KernelImages {
  layerId: string;
  /** [out, in, kh, kw] as PyTorch stores them. */
  shape: number[];
  /** Largest magnitude, for a symmetric colour scale. */
  absMax: number;
  /** The raw weights in PyTorch order. */
  values: number[];
}

export interface InspectReport {
  input: ImageBytes;
  /** The true class when the image is a test image. */
  label?: number;
  classes: string[];
  layers: LayerMaps[];
  top: { index: number; label: string; probability: number }[];
  kernels?: KernelImages;
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
  /** The project's runs, newest first. */
  trainingRuns(target: TrainingTarget): Promise<Result<RunSummary[]>>;
  trainingRunMetrics(target: TrainingTarget, runId: string): Promise<Result<RunMetrics>>;
  /** Confusion matrix, per-class accuracy and misclassified test images. */
  evaluateClassification(request: EvaluateRequest): Promise<Result<EvaluationReport>>;
  /** Feature maps of every layer, top predictions and first-layer kernels for one image. */
  evaluateInspect(request: InspectRequest): Promise<Result<InspectReport>>;
}

const runId = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'is not a run id (a run folder name)');
const target = z.object({
  project: projectSchema,
  projectPath: z.string().min(1).max(4096).optional(),
});
const weights = z.union([
  z.object({ kind: z.literal('run'), runId }),
  z.object({ kind: z.literal('initial') }),
]);
const imageBytes = z.object({
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  channels: z.union([z.literal(1), z.literal(3)]),
  base64: z.string().max(64 * 1024 * 1024),
});
/** Argument schemas of the training methods (one zod tuple each); hosts validate calls against them. */
export const trainingMethodArgs = {
  trainingBackends: z.tuple([]),
  trainingDatasets: z.tuple([z.string().max(4096).optional()]),
  trainingStart: z.tuple([target.extend({ options: trainOptionsRequestSchema })]),
  trainingPause: z.tuple([runId]),
  trainingResume: z.tuple([runId]),
  trainingStop: z.tuple([runId]),
  trainingRuns: z.tuple([target]),
  trainingRunMetrics: z.tuple([target, runId]),
  evaluateClassification: z.tuple([
    target.extend({ weights, limit: z.number().int().min(1).max(100_000).optional() }),
  ]),
  evaluateInspect: z.tuple([
    target.extend({
      weights,
      image: z.union([
        z.object({ kind: z.literal('test'), index: z.number().int().min(0) }),
        z.object({ kind: z.literal('noise'), seed: z.number().int() }),
        z.object({ kind: z.literal('pixels'), image: imageBytes }),
      ]),
      maxChannels: z.number().int().min(1).max(1024).optional(),
    }),
  ]),
} satisfies MethodArgs<TrainingApi>;
