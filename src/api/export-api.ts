/**
 * Export methods of StudioApi (see studio-api.ts): which formats exist, what
 * an export would write (shown before writing), writing it, and opening a
 * model (TensorFlow.js Layers, ONNX) as a project.
 */
import { z } from 'zod';
import { projectSchema } from '../core/document/schema';
import type { WeightsSource } from './evaluation-api';
import type { MethodArgs } from './method-args';
import type { Result } from './result';
import type { TrainingTarget } from './training-api';

export type ExportFormatName = 'tfjs' | 'onnx' | 'pytorch';

export interface ExportFormatInfo {
  format: ExportFormatName;
  label: string;
  /** The folder name the dialog proposes, relative to the project folder. */
  defaultFolder: string;
}

/** A run's trained weights, freshly initialised ones, or a folder holding weights.safetensors (an import). */
export type ExportWeights = WeightsSource | { kind: 'folder'; folder: string };

export interface ExportRequest {
  target: TrainingTarget;
  weights: ExportWeights;
  format: ExportFormatName;
  /** Folder to write into, relative to the workspace (and confined to it). */
  folder: string;
  /**
   * The user confirmed replacing files in the folder that the studio did not
   * write (ExportFileInfo.foreign); without it such an export is refused.
   */
  overwrite?: boolean;
}

export interface ExportFileInfo {
  path: string;
  bytes: number;
  description: string;
  /** A file of that name is already in the folder and will be replaced. */
  replaces: boolean;
  /** …and the studio did not write it (or it changed since): replacing it needs the user's word. */
  foreign: boolean;
}

export interface ExportPlan {
  format: ExportFormatName;
  /** Absolute folder, to show the user. */
  folder: string;
  files: ExportFileInfo[];
  /** Where the weights come from, in words ("run 2026-11-26T12-00-00", "freshly initialised"). */
  weights: string;
  freshWeights: boolean;
}

export interface ImportRequest {
  /**
   * A TF.js Layers model.json, an ONNX model, or weights trained in PyTorch
   * (a .safetensors file in a PyTorch package the studio exported), project
   * folder relative.
   */
  path: string;
  /** For a model with several outputs: the one to keep (one of a 'choose-output' answer's). */
  output?: string;
  /**
   * The project open in the editor (its name, and its file when saved): weights
   * trained in PyTorch for it become one of its runs, beside its other runs.
   */
  openProject?: { name: string; path?: string };
}

export type ImportOutcome =
  | {
      kind: 'imported';
      /** The project as file text, ready for the editor (parseProject). */
      text: string;
      /** Where its weights were written (project folder relative): a run-like folder, usable as ExportWeights 'folder'. */
      weightsFolder: string;
      /** What the import did that the user should know (layers merged, weights permuted, Softmax removed). */
      notes: string[];
    }
  /** The model has several outputs and a studio network one: ask which, then import again with it. */
  | { kind: 'choose-output'; outputs: string[] }
  /**
   * Weights trained in PyTorch became a run of their package's project. When
   * that is the open project (by name) the run is among its runs; otherwise
   * the package's project is to be opened (`text`), and the run is among the
   * runs of a project not yet saved.
   */
  | {
      kind: 'run';
      runId: string;
      /** The package's project as file text. */
      text: string;
      /** The run belongs to the open project: nothing to open. */
      openProject: boolean;
      notes: string[];
    };

export interface ExportApi {
  exportFormats(): Promise<Result<ExportFormatInfo[]>>;
  /** What exportModel would write, without writing; fails naming the node a format cannot express. */
  exportPlan(request: ExportRequest): Promise<Result<ExportPlan>>;
  exportModel(request: ExportRequest): Promise<Result<ExportPlan>>;
  /**
   * Opens a model file (project folder relative) as a project, its weights saved beside it;
   * weights trained in PyTorch become a run of their project.
   */
  importModel(request: ImportRequest): Promise<Result<ImportOutcome>>;
}

const relativePath = z.string().min(1).max(4096);
const runId = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'is not a run id (a run folder name)');
const exportRequest = z.strictObject({
  target: z.strictObject({ project: projectSchema, projectPath: relativePath.optional() }),
  weights: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('run'), runId }),
    z.strictObject({ kind: z.literal('initial') }),
    z.strictObject({ kind: z.literal('folder'), folder: relativePath }),
  ]),
  format: z.enum(['tfjs', 'onnx', 'pytorch']),
  folder: relativePath,
  overwrite: z.boolean().optional(),
});

/** Argument schemas of the export methods (one zod tuple each); hosts validate calls against them. */
export const exportMethodArgs = {
  exportFormats: z.tuple([]),
  exportPlan: z.tuple([exportRequest]),
  exportModel: z.tuple([exportRequest]),
  importModel: z.tuple([
    z.strictObject({
      path: relativePath,
      output: z.string().min(1).max(1000).optional(),
      openProject: z
        .strictObject({ name: z.string().max(1000), path: relativePath.optional() })
        .optional(),
    }),
  ]),
} satisfies MethodArgs<ExportApi>;
