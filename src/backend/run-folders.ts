/**
 * Where a project's runs are on the host: `<project file's folder>/runs/`,
 * inside the workspace and confined to it (a run is named by its folder). Both the
 * training-runs and the evaluation service find runs here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TrainingTarget } from '../api/training-api';
import { runFile } from '../engine/run/folder';
import { confinePath } from '../node/confined-path';
import { workspaceConfinement } from '../node/workspace';

/** A new run's folder name: when it started, to the millisecond, as a plain name (2026-12-01T10-21-54-463Z). */
export function runStamp(at = new Date()): string {
  return at.toISOString().replaceAll(':', '-').replace('.', '-');
}

/** Run ids are folder names: letters, digits, '_', '.', '-' (the API's schema checks them too). */
const RUN_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * `<project file's folder>/runs`, inside the workspace `hostFolder`; a path
 * leaving it, through `..` or a link, is refused (node/confined-path.ts). An
 * unsaved project's runs go in the workspace's own runs/.
 */
export function runsFolderOf(hostFolder: string, target: { projectPath?: string }): string {
  const workspace = workspaceConfinement(path.resolve(hostFolder));
  const projectFile = confinePath(target.projectPath ?? 'project.json', workspace);
  return confinePath(path.join(path.dirname(projectFile), 'runs'), workspace);
}

/** Where a run of the project is (it need not exist); refuses an id that is not a plain folder name. */
export function runPathOf(
  hostFolder: string,
  target: { projectPath?: string },
  runId: string,
): string {
  if (!RUN_ID.test(runId) || runId === '.' || runId === '..') {
    throw new Error(`'${runId}' is not a run id (a run folder name)`);
  }
  const runs = runsFolderOf(hostFolder, target);
  return confinePath(runId, { ...workspaceConfinement(path.resolve(hostFolder)), base: runs });
}

/** The folder of one of the project's runs; throws when there is no such run. */
export function runFolderOf(hostFolder: string, target: TrainingTarget, runId: string): string {
  const dir = runPathOf(hostFolder, target, runId);
  if (path.basename(dir) !== runId || !existsSync(runFile(dir, 'record'))) {
    throw new Error(`there is no run '${runId}' of this project`);
  }
  return dir;
}
