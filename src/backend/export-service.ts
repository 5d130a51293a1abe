/**
 * ExportApi on the host: plans and writes exports of the editor's project
 * (with a run's trained weights, or freshly initialised ones) into a folder
 * inside the host's project folder, and opens TF.js Layers models as projects.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type {
  ExportApi,
  ExportFormatInfo,
  ExportPlan,
  ExportRequest,
  ImportedModel,
} from '../api/export-api';
import { ok, type Result } from '../api/result';
import { byteLength, exportFormats, formatLabels } from '../exporters/index';
import {
  bundleFor,
  type ExportSource,
  RUN_WEIGHTS_FILE,
  readExportSource,
  readTfjsModel,
  writeBundle,
  writeProjectWithWeights,
} from '../exporters/node-io';
import { guard } from './guard';

export interface ExportServiceOptions {
  projectFolder: string;
}

export class ExportService implements ExportApi {
  private readonly folder: string;

  constructor(options: ExportServiceOptions) {
    this.folder = path.resolve(options.projectFolder);
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

  importTfjsModel(modelJsonPath: string): Promise<Result<ImportedModel>> {
    return guard(async () => {
      const file = this.inside(modelJsonPath);
      if (!existsSync(file)) throw new Error(`there is no file ${modelJsonPath} in ${this.folder}`);
      const imported = readTfjsModel(file);
      const text = `${JSON.stringify(imported.project, null, 2)}\n`;
      // A run-like folder (project + weights) beside the model, which export and training read.
      const weightsFolder = path.join(path.dirname(modelJsonPath), 'imported');
      const absolute = this.inside(weightsFolder);
      writeProjectWithWeights(absolute, imported.project, imported.weights);
      return {
        text,
        weightsFolder: weightsFolder.split(path.sep).join('/'),
        notes: imported.notes,
      };
    });
  }

  private async plan(request: ExportRequest, write: boolean): Promise<ExportPlan> {
    const source = this.sourceOf(request);
    const { bundle, freshWeights } = await bundleFor(source, request.format);
    const folder = this.inside(request.folder);
    if (write) writeBundle(bundle, folder);
    return {
      format: request.format,
      folder,
      files: bundle.files.map((file) => ({
        path: file.path,
        bytes: byteLength(file),
        description: file.description,
        replaces: !write && existsSync(path.join(folder, file.path)),
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
    const runsFolder = path.join(
      path.dirname(request.target.projectPath ?? 'project.json'),
      'runs',
    );
    const runDir = this.inside(path.join(runsFolder, request.weights.runId));
    if (!existsSync(path.join(runDir, RUN_WEIGHTS_FILE))) {
      throw new Error(
        `run ${request.weights.runId} has no ${RUN_WEIGHTS_FILE} (it saved no weights yet)`,
      );
    }
    const source = readExportSource(runDir);
    return { ...source, description: `run ${request.weights.runId}` };
  }

  /** A path inside the project folder; anything reaching outside it is refused. */
  private inside(relative: string): string {
    const resolved = path.resolve(this.folder, relative);
    if (
      path.isAbsolute(relative) ||
      relative.split(/[\\/]/).includes('..') ||
      !resolved.startsWith(this.folder)
    ) {
      throw new Error(
        `'${relative}' is outside the project folder; give a path relative to ${this.folder} without '..'`,
      );
    }
    return resolved;
  }
}
