/**
 * Writing a set of files into a folder the user chose (an export, an import)
 * without ever replacing a file the studio did not write, unless told to
 * (`--force`, or the user confirming in the export dialog). What the studio
 * wrote is recorded in the folder's `.convnet-studio.json` with each file's
 * SHA-256, so a file the user has edited since counts as theirs again. The
 * set is written whole or not at all: every file goes to a temporary file
 * first, and only when all are written are they renamed into place. Node only.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { explainingWrites } from './file-writes';

/** The record of what the studio wrote in a folder. */
export const OWNED_FILES_RECORD = '.convnet-studio.json';

export interface FileToWrite {
  /** Relative to the folder, '/' separated. */
  path: string;
  contents: Uint8Array | string;
}

export interface ExistingTarget {
  path: string;
  /** A file (or link, or folder) of that name is there already. */
  exists: boolean;
  /** It is there and the studio did not write it (or it changed since). */
  foreign: boolean;
}

/** Replacing these needs the user's word; the message names them and what to do. */
export class WouldReplaceUserFiles extends Error {
  constructor(
    readonly folder: string,
    readonly files: string[],
    howToConfirm: string,
  ) {
    super(
      `${folder} already holds ${files.join(', ')}, which the studio did not write (or which changed since it did); ${howToConfirm}, or choose another folder`,
    );
    this.name = 'WouldReplaceUserFiles';
  }
}

/** For each file, whether writing it would replace something, and whether that is the user's. */
export function inspectTargets(folder: string, files: readonly string[]): ExistingTarget[] {
  const record = readRecord(folder);
  return files.map((file) => {
    const target = path.join(folder, file);
    let stats: ReturnType<typeof lstatSync> | undefined;
    try {
      stats = lstatSync(target);
    } catch {
      return { path: file, exists: false, foreign: false };
    }
    const ours =
      stats.isFile() && record[file] !== undefined && record[file] === hashOf(readFileSync(target));
    return { path: file, exists: true, foreign: !ours };
  });
}

/**
 * Writes `files` into `folder` (created if needed). Refuses with
 * WouldReplaceUserFiles when one would replace a file the studio did not
 * write, unless `force`. Returns the absolute paths written.
 */
export function writeOwnedFiles(
  folder: string,
  files: readonly FileToWrite[],
  options: { force: boolean; howToConfirm: string },
): string[] {
  const root = path.resolve(folder);
  explainingWrites(root, () => mkdirSync(root, { recursive: true }));
  const foreign = inspectTargets(
    root,
    files.map((f) => f.path),
  ).filter((t) => t.foreign);
  if (foreign.length > 0 && !options.force) {
    throw new WouldReplaceUserFiles(
      folder,
      foreign.map((t) => t.path),
      options.howToConfirm,
    );
  }
  const suffix = `.${process.pid}.${Date.now()}.tmp`;
  const staged: { temporary: string; target: string }[] = [];
  try {
    for (const file of files) {
      const target = path.join(root, file.path);
      const temporary = target + suffix;
      staged.push({ temporary, target });
      explainingWrites(target, () => {
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(temporary, file.contents, { flag: 'wx' });
      });
    }
  } catch (error) {
    // Nothing of the set replaces anything unless all of it could be written.
    for (const { temporary } of staged) rmSync(temporary, { force: true });
    throw error;
  }
  for (const { temporary, target } of staged) {
    explainingWrites(target, () => renameSync(temporary, target));
  }
  const record = readRecord(root);
  for (const file of files) record[file.path] = hashOf(file.contents);
  const recordFile = path.join(root, OWNED_FILES_RECORD);
  explainingWrites(recordFile, () => {
    writeFileSync(recordFile + suffix, `${JSON.stringify({ files: record }, null, 2)}\n`);
    renameSync(recordFile + suffix, recordFile);
  });
  return staged.map((s) => s.target);
}

function hashOf(contents: Uint8Array | string): string {
  return createHash('sha256').update(contents).digest('hex');
}

/** File → SHA-256 of what the studio wrote; empty when there is no record or it is damaged. */
function readRecord(folder: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(path.join(folder, OWNED_FILES_RECORD), 'utf8')) as {
      files?: unknown;
    };
    const files = parsed.files;
    if (typeof files !== 'object' || files === null || Array.isArray(files)) return {};
    return Object.fromEntries(
      Object.entries(files).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  } catch {
    return {};
  }
}
