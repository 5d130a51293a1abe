/**
 * Resolves the `<preset|file.json>` argument shared by summary, train, export
 * and bench, and confines what a project file names.
 *
 * The rule for paths on the command line: a path the user typed (the project
 * file, --out, --data-dir, --weights) is theirs to choose and is used as
 * given; a path named inside a file (a project's training.dataDir) came with
 * the file, which may come from anyone, so it must stay inside that file's
 * folder (checked with realpath, links included).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProject } from '../core/document/load';
import type { Project } from '../core/document/schema';
import { getPreset, presetNames } from '../core/presets/index';
import type { Shape } from '../core/shape';
import { confinePath, PathOutsideRoots } from '../node/confined-path';
import { CliError, ProjectSourceError } from './errors';

export interface ProjectSource {
  project: Project;
  /** How to name it in messages: "preset 'lenet'" or the file path. */
  source: string;
  /** The preset's name when it is one. */
  preset?: string;
  /** The folder of the project file (none for a preset). */
  folder?: string;
}

/** A preset name or a project file; throws CliError or ProjectSourceError with a clear message. */
export function loadProjectSource(arg: string): ProjectSource {
  const preset = getPreset(arg);
  if (preset) return { project: preset.build(), source: `preset '${arg}'`, preset: arg };
  if (!existsSync(arg)) {
    throw new CliError(
      `'${arg}' is neither a preset nor a file; presets are ${presetNames().join(', ')} (see: convnet-studio presets)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(arg, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${arg}: ${(err as Error).message}`);
  }
  const result = parseProject(text, arg);
  if (!result.ok) throw new ProjectSourceError(arg, result.issues);
  return { project: result.project, source: arg, folder: path.dirname(path.resolve(arg)) };
}

/**
 * The dataset folder a project file names (its training.dataDir), resolved
 * from the file's folder and confined to it; undefined when it names none,
 * or when the user typed --data-dir (`typed`), which wins and is theirs.
 */
export function projectDataFolder(
  { project, source, folder }: ProjectSource,
  typed: string | undefined,
): string | undefined {
  const named = project.training?.dataDir;
  if (typed !== undefined || named === undefined || folder === undefined) return undefined;
  try {
    return confinePath(named, {
      base: folder,
      roots: [folder],
      label: `the project file's folder ${folder}`,
    });
  } catch (err) {
    if (!(err instanceof PathOutsideRoots)) throw err;
    throw new CliError(
      `${source}: training.dataDir ${err.message}. A folder named inside a project file must be in the file's folder, since the file may come from anyone; if you mean that folder, give it yourself with --data-dir ${JSON.stringify(err.resolved ?? named)}`,
    );
  }
}

/** Parses "1,1,28,28" (or "1x1x28x28") as [N, C, H, W]. */
export function parseInputShape(value: string): Shape {
  const parts = value.split(/[,x×]/).map((s) => s.trim());
  const dims = parts.map(Number);
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new CliError(
      `--input must be four whole numbers N,C,H,W (e.g. 1,1,28,28), got '${value}'`,
    );
  }
  return dims;
}
