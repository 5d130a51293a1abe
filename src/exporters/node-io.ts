/**
 * Node-only side of exporting: where a project and weights come from (a run
 * folder, a project file, a preset), and writing a bundle into a folder.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseProject } from '../core/document/load';
import type { Project } from '../core/document/schema';
import { ProjectError } from '../core/issues';
import { looksBinary, parseJsonText } from '../core/json-text';
import type { TF } from '../core/layers/types';
import { getPreset, presetNames } from '../core/presets/index';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from '../core/weights/safetensors';
import { writeOwnedFiles } from '../node/owned-files';
import { RUN_FILES } from '../node/run-files';
import type { ExportBundle, ExportFormat } from './common';
import type { ImportedModel } from './import-graph';
import { buildExport, prepareExport } from './index';
import {
  checkLayersModel,
  type ImportedTfjsModel,
  importTfjsModel,
  manifestPaths,
  type TfjsImportOptions,
} from './tfjs/import';

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

/**
 * Opens a model file as a project with its weights: a TF.js Layers model.json
 * (with its weight files beside it). Throws OutputChoiceError for a model
 * with several outputs and none chosen.
 */
export function readModelFile(path: string, options: { output?: string } = {}): ImportedModel {
  return readTfjsModel(path, options);
}

/** A model file larger than this is not a model.json (TF.js keeps weights in separate files). */
const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

/**
 * Opens a TF.js Layers model.json with the weight files its manifest names,
 * which must be plain file names in the same folder (no '..', no absolute
 * path, no link leading out of the folder): a hostile manifest cannot make
 * the studio read other files.
 */
export function readTfjsModel(
  modelJsonPath: string,
  options: TfjsImportOptions = {},
): ImportedTfjsModel {
  const json = readModelJson(modelJsonPath);
  checkLayersModel(json);
  const folder = dirname(modelJsonPath);
  const chunks = manifestPaths(json).map(
    (file) => new Uint8Array(readFileSync(weightFileBeside(folder, file, modelJsonPath))),
  );
  const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    weightData.set(chunk, at);
    at += chunk.length;
  }
  return importTfjsModel(json, weightData, {
    fallbackName: basename(dirname(resolve(modelJsonPath))),
    ...options,
  });
}

/** A model.json's JSON, refused with a clear message when the file is binary, huge or not JSON. */
function readModelJson(path: string): unknown {
  let bytes: Uint8Array;
  try {
    if (statSync(path).size > MAX_MODEL_JSON_BYTES) {
      throw new Error(
        `${path} is larger than ${MAX_MODEL_JSON_BYTES / 2 ** 20} MiB, too large for a model.json (TF.js keeps the weights in separate files)`,
      );
    }
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`there is no file ${path}`);
    if (code === 'EISDIR') throw new Error(`${path} is a folder; give the model.json inside it`);
    throw err;
  }
  if (looksBinary(bytes)) {
    throw new Error(
      `${path} is not a model.json: it is a binary file (a weights file, or an ONNX model? Import .onnx files as they are)`,
    );
  }
  return parseJsonText(new TextDecoder().decode(bytes), path);
}

/** The path of a manifest's weight file: a plain file name, in the model's own folder. */
function weightFileBeside(folder: string, file: string, modelJsonPath: string): string {
  if (file === '' || file === '.' || file === '..' || /[\\/]/.test(file) || isAbsolute(file)) {
    throw new Error(
      `${modelJsonPath} names the weight file '${file}'; weight files must be plain file names beside model.json (no folders, no '..')`,
    );
  }
  const path = join(folder, file);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new Error(`${modelJsonPath} names the weight file ${file}, which is not beside it`);
  }
  // A link may lead to another file of the folder, never out of it.
  const inFolder = relative(realpathSync(folder), real);
  if (inFolder === '' || inFolder.startsWith('..') || isAbsolute(inFolder)) {
    throw new Error(
      `${modelJsonPath} names the weight file ${file}, a link to a file outside the model's folder; copy the file there instead`,
    );
  }
  if (!statSync(real).isFile()) {
    throw new Error(`${modelJsonPath} names the weight file ${file}, which is not a file`);
  }
  return real;
}
