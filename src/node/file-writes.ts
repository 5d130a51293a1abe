/**
 * Writing files: whole or not at all (a temporary file renamed over the
 * target), and failures said for a person: which file, why in plain words,
 * and what to do. Every writer of the studio (run folders, checkpoints,
 * projects, exports, dataset downloads) reports through this. Node only.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full; free some space or choose a folder on another disk',
  EDQUOT: 'your disk quota is used up; free some space or choose a folder on another disk',
  EACCES: 'permission denied; choose a folder you can write to',
  EPERM: 'the operation is not permitted; choose a folder you can write to',
  EROFS: 'the disk is read-only; choose a folder on a writable disk',
  EISDIR: 'a folder of that name is in the way; choose another name',
  ENOTDIR: 'part of the path is a file, not a folder; choose another folder',
};

/** A file that could not be written; the message says which, why and what to do. */
export class WriteError extends Error {
  constructor(
    readonly file: string,
    /** The system's error code (ENOSPC, EACCES, …), when there is one. */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    const reason =
      (code && REASONS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
    super(`could not write ${file}: ${reason}${code ? ` (${code})` : ''}`, { cause });
    this.name = 'WriteError';
  }
}

export function explainWriteError(error: unknown, file: string): WriteError {
  if (error instanceof WriteError) return error;
  return new WriteError(file, (error as NodeJS.ErrnoException | undefined)?.code, error);
}

/** Runs a write, turning its failure into an explained one. */
export function explainingWrites<T>(file: string, write: () => T): T {
  try {
    const result = write();
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        throw explainWriteError(error, file);
      }) as T;
    }
    return result;
  } catch (error) {
    throw explainWriteError(error, file);
  }
}

/** Writes a file so that readers see either its old or its new content, never half. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  explainingWrites(path, () => {
    try {
      writeFileSync(temporary, data);
      renameSync(temporary, path);
    } catch (error) {
      // A half-written temporary file would only take more of a full disk.
      rmSync(temporary, { force: true });
      throw error;
    }
  });
}

let asyncWrites = 0;

export interface WriteOptions {
  /**
   * Readable by the user alone (file 0600, a new folder 0700): state files
   * such as the autosave, recent files and settings, which name the user's
   * projects and hold their unsaved work.
   */
  private?: boolean;
}

/**
 * The same without blocking, creating the folder if needed. Each call has its
 * own temporary file, so writes of one file in flight together do not collide.
 */
export async function writeFileAtomicAsync(
  file: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  const temporary = `${file}.${process.pid}.${++asyncWrites}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: options.private ? 0o700 : 0o777 });
    await writeFile(temporary, data, { mode: options.private ? 0o600 : 0o666 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw explainWriteError(error, file);
  }
}
