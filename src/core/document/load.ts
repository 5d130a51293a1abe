/**
 * Reading a project file: JSON syntax, format and version (with migration of
 * older versions), the file schema, then the graph itself (types, parameters,
 * edges, cycles, shapes). Every problem names where it is and what is allowed.
 */
import type { z } from 'zod';
import { inferGraph } from '../infer';
import { formatIssue, type GraphIssue, ProjectError } from '../issues';
import { parseJsonText } from '../json-text';
import { migrations } from './migrations';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project, projectSchema } from './schema';

export type LoadResult =
  | { ok: true; project: Project; issues: GraphIssue[] }
  | { ok: false; issues: GraphIssue[] };

/** Parses and validates a project file's text. Graph issues (shape errors) are reported but still load, so the editor can show them. */
export function parseProject(text: string, source = 'the project file'): LoadResult {
  let raw: unknown;
  try {
    raw = parseJsonText(text, source);
  } catch (err) {
    return {
      ok: false,
      issues: [{ message: `${(err as Error).message}; fix the syntax or open a backup` }],
    };
  }
  return validateProject(raw, source);
}

export function validateProject(raw: unknown, source = 'the project file'): LoadResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      issues: [{ message: `${source} must hold a JSON object with format "${PROJECT_FORMAT}"` }],
    };
  }
  const obj = raw as Record<string, unknown>;
  if (obj.format !== PROJECT_FORMAT) {
    return {
      ok: false,
      issues: [
        {
          field: 'format',
          message: `${source} is not a ConvNet Studio project (format is ${JSON.stringify(obj.format)}, expected "${PROJECT_FORMAT}")`,
        },
      ],
    };
  }
  const version = obj.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return {
      ok: false,
      issues: [
        {
          field: 'version',
          message: `version must be a whole number ≥ 1, got ${JSON.stringify(version)}`,
        },
      ],
    };
  }
  if (version > PROJECT_VERSION) {
    return {
      ok: false,
      issues: [
        {
          field: 'version',
          message: `${source} was saved by a newer ConvNet Studio (file version ${version}; this one reads up to ${PROJECT_VERSION}); update ConvNet Studio to open it`,
        },
      ],
    };
  }
  let migrated: Record<string, unknown> = obj;
  for (let v = version; v < PROJECT_VERSION; v++) migrated = migrations[v](migrated);
  const parsed = projectSchema.safeParse(migrated);
  if (!parsed.success)
    return { ok: false, issues: parsed.error.issues.map((i) => schemaIssue(i, migrated)) };
  const project = parsed.data;
  return { ok: true, project, issues: inferGraph(project).issues };
}

/** Loads a project that must be free of problems (command line, export). */
export function loadValidProject(text: string, source?: string): Project {
  const result = parseProject(text, source);
  if (!result.ok || result.issues.length > 0) throw new ProjectError(result.issues);
  return result.project;
}

/** Maps a schema error's path to the node it concerns ("nodes[3].params" → node 'conv2'). */
function schemaIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): GraphIssue {
  const path = issue.path.map(String);
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`
      : issue.message;
  if ((path[0] === 'nodes' || path[0] === 'edges') && path.length >= 2) {
    const list = raw[path[0]];
    const item = Array.isArray(list)
      ? (list[Number(path[1])] as Record<string, unknown> | undefined)
      : undefined;
    const rest = path.slice(2).join('.');
    if (path[0] === 'nodes' && typeof item?.id === 'string')
      return { nodeId: item.id, field: rest || undefined, message };
    return { field: `${path[0]}[${path[1]}]${rest ? `.${rest}` : ''}`, message };
  }
  return { field: path.join('.') || undefined, message };
}

export { formatIssue };
