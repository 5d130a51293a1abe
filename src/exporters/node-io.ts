/**
 * Node-only side of exporting: where a project and weights come from (a run
 * folder, a project file, a preset), and writing a bundle into a folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseProject } from '../core/document/load';
import type { Project } from '../core/document/schema';
import { ProjectError } from '../core/issues';
import type { TF } from '../core/layers/types';
import { getPreset, presetNames } from '../core/presets/index';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from '../core/weights/safetensors';
import { writeOwnedFiles } from '../node/owned-files';
import { RUN_FILES } from '../node/run-files';
import type { ExportBundle, ExportFormat } from './common';
import { buildExport, prepareExport } from './index';
import { type ImportedTfjsModel, importTfjsModel } from './tfjs/import';

export const { project: RUN_PROJECT_FILE, weights: RUN_WEIGHTS_FILE } = RUN_FILES;

export interface ExportSource {
  project: Project;
  /** Trained weights (a run folder); absent for a bare project or preset. */
  weights?: TensorMap;
  /** How to name it: "run folder runs/2026-…", "project my-net.json", "preset 'lenet'". */
  description: string;
}

/** A run folder (project.json + weights.safetensors), a project file, or a preset name. */
export function readExportSource(spec: string): ExportSource {
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    const projectFile = join(spec, RUN_PROJECT_FILE);
    const weightsFile = join(spec, RUN_WEIGHTS_FILE);
    if (!existsSync(projectFile)) {
      throw new Error(
        `${spec} is a folder without ${RUN_PROJECT_FILE}; give a run folder made by \`train --out\`, a project file, or a preset`,
      );
    }
    const project = readProjectFile(projectFile);
    if (!existsSync(weightsFile)) {
      return { project, description: `run folder ${spec} (it has no ${RUN_WEIGHTS_FILE} yet)` };
    }
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(weightsFile)));
    return { project, weights: tensors, description: `run folder ${spec}` };
  }
  if (existsSync(spec)) return { project: readProjectFile(spec), description: `project ${spec}` };
  const preset = getPreset(spec);
  if (preset) return { project: preset.build(), description: `preset '${spec}'` };
  throw new Error(
    `'${spec}' is not a run folder, a project file or a preset; presets are ${presetNames().join(', ')}`,
  );
}

function readProjectFile(path: string): Project {
  const result = parseProject(readFileSync(path, 'utf8'), path);
  if (!result.ok || result.issues.length > 0) throw new ProjectError(result.issues);
  return result.project;
}

/** How a caller lets the user confirm replacing their files (a flag, a dialog's question). */
export interface WriteConfirmation {
  /** Replace files the studio did not write. */
  force: boolean;
  /** What the refusal tells the user to do to confirm ("add --force to replace them"). */
  howToConfirm: string;
}

const REFUSE_USER_FILES: WriteConfirmation = { force: false, howToConfirm: 'remove them' };

/**
 * Writes every file of a bundle under `dir` (created if needed), all or none,
 * never over a file the studio did not write unless confirmed; returns the
 * absolute paths.
 */
export function writeBundle(
  bundle: ExportBundle,
  dir: string,
  confirmation = REFUSE_USER_FILES,
): string[] {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new Error(`${dir} exists and is not a folder; choose a folder to export into`);
  }
  return writeOwnedFiles(root, bundle.files, confirmation);
}

/**
 * A run-like folder (project.json + weights.safetensors), which export and
 * training read: where an imported model goes.
 */
export function writeProjectWithWeights(
  dir: string,
  project: Project,
  weights: TensorMap,
  confirmation = REFUSE_USER_FILES,
): void {
  writeOwnedFiles(
    dir,
    [
      { path: RUN_PROJECT_FILE, contents: `${JSON.stringify(project, null, 2)}\n` },
      { path: RUN_WEIGHTS_FILE, contents: encodeSafetensors(weights) },
    ],
    confirmation,
  );
}

export interface FolderExport {
  bundle: ExportBundle;
  /** True when the source had no weights and they were freshly initialised. */
  freshWeights: boolean;
}

/**
 * The files of an export of a source (a bare project gets fresh weights, as
 * training would start). Uses tfjs's current backend only to initialise weights.
 */
export async function bundleFor(source: ExportSource, format: ExportFormat): Promise<FolderExport> {
  let tf: TF | undefined;
  if (!source.weights) {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.ready();
  }
  const { input, freshWeights } = prepareExport(tf as TF, source.project, source.weights);
  return { bundle: buildExport(format, input), freshWeights };
}

/** Opens a TF.js Layers model.json with the weight files its manifest names (beside it). */
export function readTfjsModel(modelJsonPath: string): ImportedTfjsModel {
  let json: { weightsManifest?: { paths: string[] }[] };
  try {
    json = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${modelJsonPath} as a model.json: ${(err as Error).message}`);
  }
  const chunks = (json.weightsManifest ?? []).flatMap((group) =>
    group.paths.map((file) => {
      const path = join(dirname(modelJsonPath), file);
      if (!existsSync(path)) {
        throw new Error(`${modelJsonPath} names the weight file ${file}, which is not beside it`);
      }
      return new Uint8Array(readFileSync(path));
    }),
  );
  const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    weightData.set(chunk, at);
    at += chunk.length;
  }
  return importTfjsModel(json, weightData, basename(dirname(resolve(modelJsonPath))));
}
