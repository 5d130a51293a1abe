/** How the command line reports failures: one clear message, exit code 1. */
import { formatIssue, ProjectError } from '../core/issues';
import { WriteError } from '../node/file-writes';

/** A mistake in how a command was called (bad option value, unknown preset or file). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** A project with problems, with where it came from (a preset name or a file path). */
export class ProjectSourceError extends ProjectError {
  constructor(
    readonly source: string,
    issues: ProjectError['issues'],
  ) {
    super(issues);
  }
}

/** The text printed for a failed command. ProjectErrors list their issues one per line, naming nodes. */
export function describeError(err: unknown): string {
  if (err instanceof ProjectError) {
    const where = err instanceof ProjectSourceError ? err.source : 'the project';
    const count = err.issues.length;
    return [
      `error: ${where} has ${count} problem${count === 1 ? '' : 's'}:`,
      ...err.issues.map((issue) => `  - ${formatIssue(issue)}`),
    ].join('\n');
  }
  if (err instanceof CliError || err instanceof WriteError) return `error: ${err.message}`;
  if (err instanceof Error) return `error: ${err.message}\n${err.stack ?? ''}`;
  return `error: ${String(err)}`;
}
