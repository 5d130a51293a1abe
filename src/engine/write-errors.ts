/**
 * File writes that fail, said for a person: which file, why in plain words,
 * and what to do. Every writer of the studio (run folders, checkpoints,
 * projects, exports, dataset downloads) reports through this. Node only.
 */

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
