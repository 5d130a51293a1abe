/**
 * Project methods of StudioApi (see studio-api.ts): presets, project files
 * (paths relative to the host's project folder), recent files, autosave and
 * crash recovery. Project files travel as text; the renderer parses them with
 * parseProject so a broken file always comes back with its issues.
 */
import { z } from 'zod';
import type { MethodArgs } from './method-args';
import type { Result } from './result';

export interface PresetInfo {
  name: string;
  title: string;
  /** One line on what the network is and where it comes from. */
  description: string;
}

export interface ProjectFile {
  /** Relative to the host's project folder, with '/' separators. */
  path: string;
  text: string;
}

export interface ProjectListing {
  /** The host's project folder, shown to the user. */
  folder: string;
  files: { path: string; modified: number; bytes: number }[];
}

export interface Recovery {
  /** The project text as it was when the studio last autosaved it. */
  text: string;
  /** The file it belonged to, if it had been saved. */
  path: string | null;
  savedAt: number;
}

export interface HostInfo {
  host: 'web' | 'electron';
  version: string;
  /** The workspace: projects (and their runs), exports and imports live here. */
  projectFolder: string;
  /** What the host opens at start: a file, a preset, or nothing (a new project). */
  startup: { kind: 'file'; path: string } | { kind: 'preset'; name: string } | { kind: 'new' };
  /** Data folder the host was started with (sample data), for the training view. */
  dataDir?: string;
}

export interface ProjectApi {
  hostInfo(): Promise<Result<HostInfo>>;
  listPresets(): Promise<Result<PresetInfo[]>>;
  /** A preset as project file text (laid out by the renderer). */
  loadPreset(name: string): Promise<Result<ProjectFile>>;
  listProjects(): Promise<Result<ProjectListing>>;
  openProject(path: string): Promise<Result<ProjectFile>>;
  /** Writes atomically (temp file + rename); `overwrite: false` refuses an existing file (Save As). */
  saveProject(path: string, text: string, overwrite: boolean): Promise<Result<{ path: string }>>;
  recentFiles(): Promise<Result<string[]>>;
  /** Keeps the unsaved state so it can be recovered after a crash. */
  autosave(text: string, path: string | null): Promise<Result<void>>;
  /** What the last session left unsaved, if anything. */
  recovery(): Promise<Result<Recovery | null>>;
  discardRecovery(): Promise<Result<void>>;
}

const relativePath = z.string().min(1).max(4096);

/**
 * The largest project file the studio opens or saves: 4 MiB, a hundred times
 * the largest preset (GoogLeNet, 9 KB) and room for thousands of layers with
 * their layout. It bounds what a client can make the host parse and hold.
 */
export const MAX_PROJECT_BYTES = 4 * 1024 * 1024;
const projectText = z
  .string()
  .max(MAX_PROJECT_BYTES, 'is larger than a project file may be (4 MiB)');

/** Argument schemas: every host validates a call's arguments against these before running it. */
export const projectMethodArgs = {
  hostInfo: z.tuple([]),
  listPresets: z.tuple([]),
  loadPreset: z.tuple([z.string().min(1).max(200)]),
  listProjects: z.tuple([]),
  openProject: z.tuple([relativePath]),
  saveProject: z.tuple([relativePath, projectText, z.boolean()]),
  recentFiles: z.tuple([]),
  autosave: z.tuple([projectText, relativePath.nullable()]),
  recovery: z.tuple([]),
  discardRecovery: z.tuple([]),
} satisfies MethodArgs<ProjectApi>;
