/**
 * Where a project's runs are on the host: `<project file's folder>/runs/`,
 * inside the host's project folder (a run is named by its folder). Both the
 * training-runs and the evaluation service find runs here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TrainingTarget } from '../api/training-api';
import { runFile } from '../engine/run/folder';

/** `<project file's folder>/runs`, inside `hostFolder`; a path leaving it is refused. */
export function runsFolderOf(hostFolder: string, target: TrainingTarget): string {
  const relative = target.projectPath ?? '';
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
    throw new Error(
      `'${relative}' is outside the project folder; give a path relative to ${hostFolder} without '..'`,
    );
  }
  return path.join(hostFolder, path.dirname(relative), 'runs');
}

/** The folder of one of the project's runs; throws when there is no such run. */
export function runFolderOf(hostFolder: string, target: TrainingTarget, runId: string): string {
  const dir = path.join(runsFolderOf(hostFolder, target), runId);
  if (path.basename(dir) !== runId || !existsSync(runFile(dir, 'record'))) {
    throw new Error(`there is no run '${runId}' of this project`);
  }
  return dir;
}
