/** Resolves the `<preset|file.json>` argument shared by summary, train, export and bench. */
import { existsSync, readFileSync } from 'node:fs';
import { parseProject } from '../core/document/load';
import type { Project } from '../core/document/schema';
import { getPreset, presetNames } from '../core/presets/index';
import type { Shape } from '../core/shape';
import { CliError, ProjectSourceError } from './errors';

export interface ProjectSource {
  project: Project;
  /** How to name it in messages: "preset 'lenet'" or the file path. */
  source: string;
  /** The preset's name when it is one. */
  preset?: string;
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
  return { project: result.project, source: arg };
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
