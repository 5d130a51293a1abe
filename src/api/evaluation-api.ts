/**
 * Evaluation methods of StudioApi (see studio-api.ts): how a project's weights
 * (a run's, or freshly initialised ones) classify the test split, and what
 * every layer makes of one image. Everything here crosses a process boundary
 * as JSON: images travel as base64 bytes.
 */
import { z } from 'zod';
import type { MethodArgs } from './method-args';
import type { Result } from './result';
import { runIdSchema, type TrainingTarget, trainingTargetSchema } from './training-api';

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

export interface EvaluationApi {
  /** Confusion matrix, per-class accuracy and misclassified test images. */
  evaluateClassification(request: EvaluateRequest): Promise<Result<EvaluationReport>>;
  /** Feature maps of every layer, top predictions and first-layer kernels for one image. */
  evaluateInspect(request: InspectRequest): Promise<Result<InspectReport>>;
}

const weights = z.union([
  z.object({ kind: z.literal('run'), runId: runIdSchema }),
  z.object({ kind: z.literal('initial') }),
]);
const imageBytes = z.object({
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  channels: z.union([z.literal(1), z.literal(3)]),
  base64: z.string().max(64 * 1024 * 1024),
});
/** Argument schemas of the evaluation methods (one zod tuple each); hosts validate calls against them. */
export const evaluationMethodArgs = {
  evaluateClassification: z.tuple([
    trainingTargetSchema.extend({
      weights,
      limit: z.number().int().min(1).max(100_000).optional(),
    }),
  ]),
  evaluateInspect: z.tuple([
    trainingTargetSchema.extend({
      weights,
      image: z.union([
        z.object({ kind: z.literal('test'), index: z.number().int().min(0) }),
        z.object({ kind: z.literal('noise'), seed: z.number().int() }),
        z.object({ kind: z.literal('pixels'), image: imageBytes }),
      ]),
      maxChannels: z.number().int().min(1).max(1024).optional(),
    }),
  ]),
} satisfies MethodArgs<EvaluationApi>;
