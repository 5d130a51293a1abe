/**
 * Node-only side of exporting: where a project and weights come from (a run
 * folder, a project file, a preset), and writing a bundle into a folder.
 */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseProject } from '../core/document/load';
import type { Project } from '../core/document/schema';
import { inferValidGraph } from '../core/infer';
import { ProjectError } from '../core/issues';
import { looksBinary, parseJsonText } from '../core/json-text';
import type { TF } from '../core/layers/types';
import { getPreset, presetNames } from '../core/presets/index';
import { formatBytes } from '../core/summary';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from '../core/weights/safetensors';
import { writeOwnedFiles } from '../node/owned-files';
import { RUN_FILES } from '../node/run-files';
import type { ExportBundle, ExportFormat } from './common';
import type { ImportedModel } from './import-graph';
import { buildExport, checkWeights, prepareExport } from './index';
import { importOnnxModel, isOnnxModel } from './onnx/import';
import { PACKAGE_PROJECT_FILE } from './pytorch/export';
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
 * Opens a model file as a project with its weights: an ONNX model, or a TF.js
 * Layers model.json (with its weight files beside it), told apart by their
 * contents. Throws OutputChoiceError for a model with several outputs and
 * none chosen.
 */
export function readModelFile(path: string, options: { output?: string } = {}): ImportedModel {
  const fallbackName = basename(path).replace(/\.[^.]*$/, '') || 'Imported model';
  if (extname(path).toLowerCase() === '.onnx') {
    return importOnnxModel(readLimited(path, MAX_ONNX_BYTES, 'an ONNX model'), {
      ...options,
      fallbackName,
    });
  }
  // Only a binary file can be ONNX; text goes to the model.json reader (and its messages).
  if (looksBinary(readHead(path))) {
    const bytes = readLimited(path, MAX_ONNX_BYTES, 'a model');
    if (isOnnxModel(bytes)) return importOnnxModel(bytes, { ...options, fallbackName });
  }
  return readTfjsModel(path, options);
}

/** The largest ONNX model read (its weights are inside it): 2 GiB, protobuf's own limit. */
const MAX_ONNX_BYTES = 2 ** 31 - 1;

/** The first 4 KiB of a file (empty for a folder or a missing file, which the readers then name). */
function readHead(path: string): Uint8Array {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = new Uint8Array(4096);
      return head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return new Uint8Array();
  }
}

function readLimited(path: string, limit: number, what: string): Uint8Array {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new Error(`${path} is a folder; give the model file inside it`);
    size = stat.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`there is no file ${path}`);
    throw err;
  }
  if (size > limit)
    throw new Error(`${path} is larger than ${formatBytes(limit)}, too large for ${what}`);
  return new Uint8Array(readFileSync(path));
}

/**
 * Weights trained in PyTorch (a PyTorch package's weights.safetensors, or one
 * its train.py saved) with the package's project (its project.json, or the
 * project file given): checked against the project, key by key, shape by
 * shape, and for finite values, so they can be a run of the studio again.
 */
export function readPytorchWeights(
  file: string,
  projectFile?: string,
  /** How messages name the two files (the web host: relative to the workspace). */
  shown?: { file: string; project: string },
): ImportedModel {
  const projectPath = projectFile ?? join(dirname(file), PACKAGE_PROJECT_FILE);
  const named = { file: shown?.file ?? file, project: shown?.project ?? projectPath };
  if (!existsSync(projectPath)) {
    throw new Error(
      projectFile
        ? `there is no project file ${named.project}`
        : `${named.file} has no ${PACKAGE_PROJECT_FILE} beside it (packages exported by this studio have one); give the project the weights belong to with --project FILE`,
    );
  }
  const project = readProjectFile(projectPath);
  let tensors: TensorMap;
  try {
    tensors = decodeSafetensors(readLimited(file, MAX_ONNX_BYTES, 'a weights file')).tensors;
  } catch (err) {
    throw new Error(`${named.file}: ${(err as Error).message}`);
  }
  const notes: string[] = [];
  // PyTorch's BatchNorm counts its batches; the studio keeps no such counter.
  const counters = [...tensors.keys()].filter((k) => k.endsWith('.num_batches_tracked'));
  for (const key of counters) tensors.delete(key);
  if (counters.length > 0)
    notes.push(
      `left out ${counters.length} BatchNorm num_batches_tracked counter${counters.length === 1 ? '' : 's'} (the studio keeps none)`,
    );
  for (const [key, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      throw new Error(
        `${named.file}: weight '${key}' is ${t.shape.join('×')} but holds ${t.data.length} values; the file is damaged`,
      );
    }
    if (!t.data.every(Number.isFinite)) {
      throw new Error(
        `${named.file}: weight '${key}' holds NaN or infinite values; the training that saved it diverged`,
      );
    }
  }
  try {
    checkWeights(inferValidGraph(project, { batch: 1 }), tensors);
  } catch (err) {
    throw new Error(`${named.file} does not fit ${named.project}: ${(err as Error).message}`);
  }
  notes.push(
    `weights from ${basename(file)} (${tensors.size} tensors) with the project in ${named.project}`,
  );
  return { project, weights: tensors, notes };
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
