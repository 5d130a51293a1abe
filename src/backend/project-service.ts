/**
 * ProjectApi on the host's file system. Project files live in one project
 * folder and are named by paths relative to it (the web host must not reach
 * outside it). Saves are atomic: the text goes to a temporary file in the same
 * folder, which is then renamed over the target, so a crash never leaves half
 * a project. Recent files and the autosave live in a separate state folder.
 */
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  HostInfo,
  PresetInfo,
  ProjectApi,
  ProjectFile,
  ProjectListing,
  Recovery,
} from '../api/project-api';
import { ok, type Result } from '../api/result';
import { writeFileAtomicAsync } from '../node/file-writes';
import { guard } from './guard';

export interface PresetSource {
  list(): PresetInfo[];
  /** The preset as project file text. Throws with a clear message for an unknown name. */
  text(name: string): string;
}

export interface ProjectServiceOptions {
  host: HostInfo['host'];
  version: string;
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

  constructor(private readonly options: ProjectServiceOptions) {
    this.folder = path.resolve(options.projectFolder);
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
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(describeFsError(err, relative, 'open'));
      }
      await this.remember(relative);
      return { path: toPosix(path.relative(this.folder, file)), text };
    });
  }

  async saveProject(
    relative: string,
    text: string,
    overwrite: boolean,
  ): Promise<Result<{ path: string }>> {
    return guard(async () => {
      const file = this.resolve(relative);
      if (!overwrite && (await exists(file))) {
        throw new Error(
          `${relative} already exists; choose another name or confirm overwriting it`,
        );
      }
      try {
        await writeFileAtomicAsync(file, text);
      } catch (err) {
        throw new Error(describeFsError(err, relative, 'save'));
      }
      const saved = toPosix(path.relative(this.folder, file));
      await this.remember(saved);
      return { path: saved };
    });
  }

  async recentFiles(): Promise<Result<string[]>> {
    return guard(async () => {
      const recent = await this.readRecent();
      const present: string[] = [];
      for (const p of recent) if (await exists(path.join(this.folder, p))) present.push(p);
      return present;
    });
  }

  async autosave(text: string, file: string | null): Promise<Result<void>> {
    return guard(async () => {
      const recovery: Recovery = { text, path: file, savedAt: Date.now() };
      await writeFileAtomicAsync(this.statePath('autosave.json'), JSON.stringify(recovery));
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

  /** A path inside the project folder, or a clear refusal. */
  private resolve(relative: string): string {
    if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
      throw new Error(
        `'${relative}' is outside the project folder; give a path relative to ${this.folder} without '..'`,
      );
    }
    if (!relative.endsWith(PROJECT_EXTENSION)) {
      throw new Error(
        `'${relative}' is not a project file; project files end in ${PROJECT_EXTENSION}`,
      );
    }
    return path.join(this.folder, relative);
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
      if (entry.isDirectory()) await this.walk(rel, files, depth + 1);
      else if (
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

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function describeFsError(err: unknown, file: string, action: 'open' | 'save'): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `cannot ${action} ${file}: no such file or folder`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot ${action} ${file}: permission denied`;
  if (code === 'EISDIR') return `cannot ${action} ${file}: it is a folder`;
  return `cannot ${action} ${file}: ${(err as Error).message}`;
}
