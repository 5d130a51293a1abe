/**
 * Paths that someone else names (a client of the web host, a project file, a
 * model's weight manifest) resolved to the file they really reach, and refused
 * unless that file lies inside the folders the user chose. Every read or write
 * of such a path goes through `confinePath`: it follows symbolic links with
 * `realpath` before checking, so a link inside a root that leads out of it is
 * refused like `../..` is, and it returns the real path for the caller to use
 * (no link left to swap between the check and the use). Node only.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface Confinement {
  /** The folder a relative path starts from. */
  base: string;
  /** Folders the real path must lie in (or be). */
  roots: readonly string[];
  /** The roots in words, for the refusal ("the workspace /home/ada/ConvNet Studio"). */
  label: string;
}

/** A path that reaches outside the allowed folders; the message names it and where it may go. */
export class PathOutsideRoots extends Error {
  constructor(
    readonly requested: string,
    /** Where it really leads (after links), when that is known. */
    readonly resolved: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PathOutsideRoots';
  }
}

/**
 * The real absolute path `requested` reaches from `area.base`, or a
 * PathOutsideRoots error when that lies outside every root. The path need
 * not exist (a file about to be written): its nearest existing folder is
 * resolved and the rest appended. A link whose target is missing is refused,
 * since where it would lead cannot be checked.
 */
export function confinePath(requested: string, area: Confinement): string {
  if (requested.includes('\0')) {
    throw new PathOutsideRoots(requested, undefined, `'${requested}' is not a valid path`);
  }
  const wanted = path.resolve(area.base, requested);
  const real = realTarget(wanted, requested);
  const roots = area.roots.map(realFolder);
  if (roots.some((root) => isInside(real, root))) return real;
  const throughLink =
    area.roots.some((root) => isInside(wanted, path.resolve(root))) && wanted !== real;
  throw new PathOutsideRoots(
    requested,
    real,
    throughLink
      ? `'${requested}' leads outside ${area.label} through a link (to ${real}); the studio reads and writes only inside ${area.label}`
      : `'${requested}' is outside ${area.label}; give a path inside it`,
  );
}

/** A folder's real path (links resolved), also when it does not exist yet. */
export function realFolder(folder: string): string {
  return realTarget(path.resolve(folder), folder);
}

/** `real` (a result of confinePath) relative to the real path of `root`, with '/' separators. */
export function relativeTo(root: string, real: string): string {
  return path.relative(realFolder(root), real).split(path.sep).join('/');
}

/** True when `child` is `root` or lies under it (both absolute and normalised). */
export function isInside(child: string, root: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return child.startsWith(prefix);
}

/** realpath of the longest existing prefix of `absolute`, with the missing rest appended. */
function realTarget(absolute: string, requested: string): string {
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      return path.join(realpathSync.native(existing), ...missing);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      if (isLink(existing)) {
        throw new PathOutsideRoots(
          requested,
          undefined,
          `'${requested}' goes through a link to something that does not exist (${existing}); remove the link or give another path`,
        );
      }
      const parent = path.dirname(existing);
      if (parent === existing) throw err;
      missing.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
