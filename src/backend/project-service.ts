/**
 * ProjectApi on the host's file system. Project files live in the workspace
 * and are named by paths relative to it; each is confined to it (links
 * included, see node/confined-path.ts), and a save writes studio projects
 * only: never a hidden folder's file, never over a file that is not a
 * project. Saves are atomic: the text goes to a temporary file in the same
 * folder, which is then renamed over the target, so a crash never leaves half
 * a project. Recent files and the autosave live in a separate state folder,
 * readable by the user alone.
 */
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type HostInfo,
  MAX_PROJECT_BYTES,
  type PresetInfo,
  type ProjectApi,
  type ProjectFile,
  type ProjectListing,
  type Recovery,
} from '../api/project-api';
import { ok, type Result } from '../api/result';
import { PROJECT_FORMAT } from '../core/document/schema';
import { formatBytes } from '../core/summary';
import { type Confinement, confinePath, relativeTo } from '../node/confined-path';
import { writeFileAtomicAsync } from '../node/file-writes';
import { workspaceConfinement } from '../node/workspace';
import { guard } from './guard';

export interface PresetSource {
  list(): PresetInfo[];
  /** The preset as project file text. Throws with a clear message for an unknown name. */
  text(name: string): string;
}

export interface ProjectServiceOptions {
  host: HostInfo['host'];
  version: string;
  /** The workspace: projects, their runs, exports and imports. */
  projectFolder: string;
  /** Recent files and the autosave. */
  stateFolder: string;
  presets: PresetSource;
  startup?: HostInfo['startup'];
  dataDir?: string;
}

const MAX_RECENT = 10;
const PROJECT_EXTENSION = '.json';

export class ProjectService implements ProjectApi {
  private readonly folder: string;
  private readonly workspace: Confinement;

  constructor(private readonly options: ProjectServiceOptions) {
    this.folder = path.resolve(options.projectFolder);
    this.workspace = workspaceConfinement(this.folder);
  }

  async hostInfo(): Promise<Result<HostInfo>> {
    return ok({
      host: this.options.host,
      version: this.options.version,
      projectFolder: this.folder,
      startup: this.options.startup ?? { kind: 'new' },
      dataDir: this.options.dataDir,
    });
  }

  async listPresets(): Promise<Result<PresetInfo[]>> {
    return guard(async () => this.options.presets.list());
  }

  async loadPreset(name: string): Promise<Result<ProjectFile>> {
    return guard(async () => ({
      path: `${name}${PROJECT_EXTENSION}`,
      text: this.options.presets.text(name),
    }));
  }

  async listProjects(): Promise<Result<ProjectListing>> {
    return guard(async () => {
      const files: ProjectListing['files'] = [];
      await this.walk('', files, 0);
      files.sort((a, b) => b.modified - a.modified);
      return { folder: this.folder, files };
    });
  }

  async openProject(relative: string): Promise<Result<ProjectFile>> {
    return guard(async () => {
      const file = this.resolve(relative);
      let text: string;
      try {
        const { size } = await stat(file);
        if (size > MAX_PROJECT_BYTES) {
          throw new Error(
            `it is ${formatBytes(size)}, more than a project file may be (${formatBytes(MAX_PROJECT_BYTES)})`,
          );
        }
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(describeFsError(err, relative, 'open'));
      }
      const opened = relativeTo(this.folder, file);
      await this.remember(opened);
      return { path: opened, text };
    });
  }

  async saveProject(
    relative: string,
    text: string,
    overwrite: boolean,
  ): Promise<Result<{ path: string }>> {
    return guard(async () => {
      const file = this.resolve(relative);
      if (isHidden(relativeTo(this.folder, file))) {
        throw new Error(
          `'${relative}' is in a hidden folder or is a hidden file; the studio saves projects only in visible folders of the workspace`,
        );
      }
      if (!isProjectText(text)) {
        throw new Error(
          `the text to save as ${relative} is not a ConvNet Studio project (a JSON object with "format": "${PROJECT_FORMAT}")`,
        );
      }
      if (await exists(file)) {
        if (!(await looksLikeProject(file))) {
          throw new Error(
            `${relative} exists and is not a ConvNet Studio project; the studio overwrites only its own project files, so choose another name`,
          );
        }
        if (!overwrite) {
          throw new Error(
            `${relative} already exists; choose another name or confirm overwriting it`,
          );
        }
      }
      try {
        await writeFileAtomicAsync(file, text);
      } catch (err) {
        throw new Error(describeFsError(err, relative, 'save'));
      }
      const saved = relativeTo(this.folder, file);
      await this.remember(saved);
      return { path: saved };
    });
  }

  async recentFiles(): Promise<Result<string[]>> {
    return guard(async () => {
      const recent = await this.readRecent();
      const present: string[] = [];
      for (const p of recent) if (await this.isProjectFile(p)) present.push(p);
      return present;
    });
  }

  async autosave(text: string, file: string | null): Promise<Result<void>> {
    return guard(async () => {
      const recovery: Recovery = { text, path: file, savedAt: Date.now() };
      await writeFileAtomicAsync(this.statePath('autosave.json'), JSON.stringify(recovery), {
        private: true,
      });
    });
  }

  async recovery(): Promise<Result<Recovery | null>> {
    return guard(async () => {
      try {
        const raw = JSON.parse(await readFile(this.statePath('autosave.json'), 'utf8')) as Recovery;
        return typeof raw.text === 'string' ? raw : null;
      } catch {
        return null; // no autosave, or one cut short: nothing to recover
      }
    });
  }

  async discardRecovery(): Promise<Result<void>> {
    return guard(async () => {
      await rm(this.statePath('autosave.json'), { force: true });
    });
  }

  /** The real path of a project file inside the workspace, or a clear refusal. */
  private resolve(relative: string): string {
    if (!relative.endsWith(PROJECT_EXTENSION)) {
      throw new Error(
        `'${relative}' is not a project file; project files end in ${PROJECT_EXTENSION}`,
      );
    }
    const file = confinePath(relative, this.workspace);
    if (!file.endsWith(PROJECT_EXTENSION)) {
      throw new Error(`'${relative}' is a link to ${file}, which is not a project file`);
    }
    return file;
  }

  /** A recent file still there and still inside the workspace (which may have changed since). */
  private async isProjectFile(relative: string): Promise<boolean> {
    try {
      return await exists(this.resolve(relative));
    } catch {
      return false;
    }
  }

  private statePath(name: string): string {
    return path.join(this.options.stateFolder, name);
  }

  private async walk(dir: string, files: ProjectListing['files'], depth: number): Promise<void> {
    if (depth > 3) return;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(path.join(this.folder, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      // Links are not followed: they may lead out of the workspace.
      if (entry.isDirectory()) await this.walk(rel, files, depth + 1);
      else if (
        entry.isFile() &&
        entry.name.endsWith(PROJECT_EXTENSION) &&
        (await looksLikeProject(path.join(this.folder, rel)))
      ) {
        const info = await stat(path.join(this.folder, rel));
        files.push({ path: rel, modified: info.mtimeMs, bytes: info.size });
      }
    }
  }

  private async readRecent(): Promise<string[]> {
    try {
      const list = JSON.parse(await readFile(this.statePath('recent.json'), 'utf8'));
      return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      return [];
    }
  }

  private async remember(relative: string): Promise<void> {
    const recent = [relative, ...(await this.readRecent()).filter((p) => p !== relative)];
    await writeFileAtomicAsync(
      this.statePath('recent.json'),
      JSON.stringify(recent.slice(0, MAX_RECENT)),
      { private: true },
    );
  }
}

/**
 * Whether a .json file says it is a ConvNet Studio project near its start, so
 * the Open list leaves out package.json and the like. A damaged project still
 * opens by its path (and then explains what is wrong with it).
 */
async function looksLikeProject(file: string): Promise<boolean> {
  let handle: import('node:fs/promises').FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    return /"format"\s*:\s*"convnet-studio"/.test(buffer.subarray(0, bytesRead).toString('utf8'));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** A file or folder whose name starts with '.' (.git, .vscode, …): editor and tool settings, not projects. */
function isHidden(relative: string): boolean {
  return relative.split('/').some((part) => part.startsWith('.'));
}

function isProjectText(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { format?: unknown } | null;
    return typeof parsed === 'object' && parsed !== null && parsed.format === PROJECT_FORMAT;
  } catch {
    return false;
  }
}

function describeFsError(err: unknown, file: string, action: 'open' | 'save'): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `cannot ${action} ${file}: no such file or folder`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot ${action} ${file}: permission denied`;
  if (code === 'EISDIR') return `cannot ${action} ${file}: it is a folder`;
  return `cannot ${action} ${file}: ${(err as Error).message}`;
}
