/**
 * The workspace: the one folder where the desktop app and the web host keep
 * the user's projects, their runs (`runs/` beside each project file), exports
 * (`exports/`) and imported models (`imports/`). It is chosen once and kept
 * in the state folder's settings.json (the desktop asks on first start), or
 * given for one launch with `--workspace`; otherwise it is
 * `<Documents>/ConvNet Studio`. Never the folder the studio was started in,
 * nor the program's own folder. Node only.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Confinement } from './confined-path';
import { writeFileAtomicAsync } from './file-writes';

export const WORKSPACE_NAME = 'ConvNet Studio';
export const EXPORTS_FOLDER = 'exports';
export const IMPORTS_FOLDER = 'imports';
const SETTINGS_FILE = 'settings.json';

export interface WorkspaceChoice {
  folder: string;
  /** Where the choice came from, to tell the user. */
  source: 'flag' | 'settings' | 'default';
}

/** `~/Documents/ConvNet Studio` (the home folder's `ConvNet Studio` where there is no Documents). */
export function defaultWorkspace(documents = nodeDocumentsFolder()): string {
  return path.join(documents, WORKSPACE_NAME);
}

function nodeDocumentsFolder(): string {
  const documents = path.join(os.homedir(), 'Documents');
  return existsSync(documents) ? documents : os.homedir();
}

/** The workspace: the flag, else the saved choice, else the default. */
export function chooseWorkspace(options: {
  flag?: string;
  stateFolder: string;
  documents?: string;
}): WorkspaceChoice {
  if (options.flag) return { folder: path.resolve(options.flag), source: 'flag' };
  const saved = readSettings(options.stateFolder).workspace;
  if (typeof saved === 'string' && path.isAbsolute(saved)) {
    return { folder: saved, source: 'settings' };
  }
  return { folder: defaultWorkspace(options.documents), source: 'default' };
}

/** Whether a workspace was chosen and saved before (the desktop's first start asks when not). */
export function hasSavedWorkspace(stateFolder: string): boolean {
  return typeof readSettings(stateFolder).workspace === 'string';
}

/** Remembers the workspace for the next starts (settings.json in the state folder, readable by the user alone). */
export async function saveWorkspaceChoice(stateFolder: string, folder: string): Promise<void> {
  const settings = { ...readSettings(stateFolder), workspace: path.resolve(folder) };
  await writeFileAtomicAsync(
    path.join(stateFolder, SETTINGS_FILE),
    `${JSON.stringify(settings, null, 2)}\n`,
    { private: true },
  );
}

/**
 * Creates the workspace if needed and returns its real path. Refuses the
 * program's own folder, where projects and runs would mix with its files.
 */
export function openWorkspace(folder: string, programFolder: string): string {
  const resolved = path.resolve(folder);
  if (resolved === path.resolve(programFolder)) {
    throw new Error(
      `the workspace cannot be the studio's own folder (${resolved}); choose another with --workspace`,
    );
  }
  try {
    mkdirSync(resolved, { recursive: true });
  } catch (err) {
    throw new Error(
      `cannot create the workspace ${resolved}: ${(err as Error).message}; choose another with --workspace`,
    );
  }
  return resolved;
}

/** Paths a client names are relative to the workspace and must stay inside it. */
export function workspaceConfinement(workspace: string): Confinement {
  return { base: workspace, roots: [workspace], label: `the workspace ${workspace}` };
}

/**
 * Dataset folders a client names: inside the workspace or a data folder the
 * host was started with (--data-dir), since their images go back to the client.
 */
export function dataConfinement(workspace: string, dataDirs: readonly string[]): Confinement {
  const label =
    dataDirs.length > 0
      ? `the workspace ${workspace} and the data folders given at start (${dataDirs.join(', ')})`
      : `the workspace ${workspace} (start the studio with --data-dir to train on data elsewhere)`;
  return { base: workspace, roots: [workspace, ...dataDirs], label };
}

function readSettings(stateFolder: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(path.join(stateFolder, SETTINGS_FILE), 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
