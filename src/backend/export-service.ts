/**
 * ExportApi on the host: plans and writes exports of the editor's project
 * (with a run's trained weights, or freshly initialised ones) into a folder
 * inside the workspace, opens TF.js Layers and ONNX models as projects, and
 * brings weights trained in PyTorch back as runs. Every
 * folder a client names is confined to the workspace (node/confined-path.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type {
  ExportApi,
  ExportFormatInfo,
  ExportPlan,
  ExportRequest,
  ImportOutcome,
  ImportRequest,
} from '../api/export-api';
import { ok, type Result } from '../api/result';
import { buildExportInWorker } from '../exporters/export-in-worker';
import { OutputChoiceError } from '../exporters/import-graph';
import { byteLength, exportFormats, formatLabels } from '../exporters/index';
import {
  type ExportSource,
  RUN_WEIGHTS_FILE,
  readExportSource,
  readModelFile,
  readPytorchWeights,
  writeBundle,
  writeProjectWithWeights,
} from '../exporters/node-io';
import { PACKAGE_PROJECT_FILE } from '../exporters/pytorch/export';
import { type Confinement, confinePath, relativeTo } from '../node/confined-path';
import { inspectTargets } from '../node/owned-files';
import { workspaceConfinement } from '../node/workspace';
import { guard } from './guard';
import { writeImportedRun } from './imported-run';
import { runPathOf, runStamp, runsFolderOf } from './run-folders';

export interface ExportServiceOptions {
  projectFolder: string;
}

export class ExportService implements ExportApi {
  private readonly folder: string;
  private readonly workspace: Confinement;

  constructor(options: ExportServiceOptions) {
    this.folder = path.resolve(options.projectFolder);
    this.workspace = workspaceConfinement(this.folder);
  }

  async exportFormats(): Promise<Result<ExportFormatInfo[]>> {
    return ok(
      exportFormats.map((format) => ({
        format,
        label: formatLabels[format],
        defaultFolder: `exports/${format}`,
      })),
    );
  }

  exportPlan(request: ExportRequest): Promise<Result<ExportPlan>> {
    return guard(() => this.plan(request, false));
  }

  exportModel(request: ExportRequest): Promise<Result<ExportPlan>> {
    return guard(() => this.plan(request, true));
  }

  importModel(request: ImportRequest): Promise<Result<ImportOutcome>> {
    return guard(async (): Promise<ImportOutcome> => {
      const file = this.inside(request.path);
      if (!existsSync(file)) throw new Error(`there is no file ${request.path} in ${this.folder}`);
      if (path.extname(file).toLowerCase() === '.safetensors') return this.importRun(file, request);
      let imported: ReturnType<typeof readModelFile>;
      try {
        imported = readModelFile(file, { output: request.output });
      } catch (err) {
        if (err instanceof OutputChoiceError)
          return { kind: 'choose-output', outputs: err.outputs };
        throw err;
      }
      const text = `${JSON.stringify(imported.project, null, 2)}\n`;
      // A run-like folder (project + weights) beside the model, which export and training read:
      // 'imported' for a model.json (its folder is the model), '<name>-imported' for resnet.onnx.
      const stem = path.basename(file).replace(/\.[^.]*$/, '');
      const absolute = this.inside(
        path.join(path.dirname(file), stem === 'model' ? 'imported' : `${stem}-imported`),
      );
      writeProjectWithWeights(absolute, imported.project, imported.weights);
      return {
        kind: 'imported',
        text,
        weightsFolder: relativeTo(this.folder, absolute),
        notes: imported.notes,
      };
    });
  }

  /**
   * Weights trained in PyTorch, with the project of the package they are in
   * (its project.json), become a run: of the open project when they are its
   * (by name), else of the package's project, which the editor then opens.
   */
  private async importRun(file: string, request: ImportRequest): Promise<ImportOutcome> {
    const projectFile = this.inside(path.join(path.dirname(request.path), PACKAGE_PROJECT_FILE));
    if (!existsSync(projectFile)) {
      throw new Error(
        `${request.path} has no ${PACKAGE_PROJECT_FILE} beside it: weights come back from a PyTorch package the studio exported (train.py saves them in its folder)`,
      );
    }
    const imported = readPytorchWeights(file, projectFile, {
      file: request.path,
      project: relativeTo(this.folder, projectFile),
    });
    const ofOpenProject = imported.project.name === request.openProject?.name;
    const runs = runsFolderOf(this.folder, {
      projectPath: ofOpenProject ? request.openProject?.path : undefined,
    });
    const dir = await writeImportedRun(runs, `${runStamp()}-pytorch`, imported);
    return {
      kind: 'run',
      runId: path.basename(dir),
      text: `${JSON.stringify(imported.project, null, 2)}\n`,
      openProject: ofOpenProject,
      notes: [
        ...imported.notes,
        `the weights are run ${path.basename(dir)} of '${imported.project.name}' (${relativeTo(this.folder, dir)}): the Runs list, evaluation and export take it`,
      ],
    };
  }

  private async plan(request: ExportRequest, write: boolean): Promise<ExportPlan> {
    const source = this.sourceOf(request);
    const { bundle, freshWeights } = await buildExportInWorker(source, request.format);
    const folder = this.inside(request.folder);
    const targets = inspectTargets(
      folder,
      bundle.files.map((file) => file.path),
    );
    if (write) {
      writeBundle(bundle, folder, {
        force: request.overwrite === true,
        howToConfirm: 'confirm replacing them',
      });
    }
    return {
      format: request.format,
      folder,
      files: bundle.files.map((file, i) => ({
        path: file.path,
        bytes: byteLength(file),
        description: file.description,
        replaces: targets[i].exists,
        foreign: targets[i].foreign,
      })),
      weights: freshWeights ? 'freshly initialised (no trained weights)' : source.description,
      freshWeights,
    };
  }

  private sourceOf(request: ExportRequest): ExportSource {
    if (request.weights.kind === 'initial') {
      return { project: request.target.project, description: 'the editor’s project' };
    }
    if (request.weights.kind === 'folder') {
      const folder = this.inside(request.weights.folder);
      if (!existsSync(path.join(folder, RUN_WEIGHTS_FILE))) {
        throw new Error(`${request.weights.folder} has no ${RUN_WEIGHTS_FILE}`);
      }
      // The editor's graph (it may have been edited since) with the folder's weights.
      const { weights } = readExportSource(folder);
      return { project: request.target.project, weights, description: request.weights.folder };
    }
    const runDir = runPathOf(this.folder, request.target, request.weights.runId);
    if (!existsSync(path.join(runDir, RUN_WEIGHTS_FILE))) {
      throw new Error(
        `run ${request.weights.runId} has no ${RUN_WEIGHTS_FILE} (it saved no weights yet)`,
      );
    }
    const source = readExportSource(runDir);
    return { ...source, description: `run ${request.weights.runId}` };
  }

  /** The real path of a file or folder inside the workspace; anything reaching outside it is refused. */
  private inside(relative: string): string {
    return confinePath(relative, this.workspace);
  }
}
