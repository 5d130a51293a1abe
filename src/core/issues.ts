/** A problem found in a project, tied to the node (and field) at fault. */
export interface GraphIssue {
  /** Path of node ids from the top graph down ("stage2/0/conv1"); absent for file-level problems. */
  nodeId?: string;
  field?: string;
  message: string;
}

export function formatIssue(issue: GraphIssue): string {
  const where = issue.nodeId
    ? `node '${issue.nodeId}'${issue.field ? `, field '${issue.field}'` : ''}: `
    : issue.field
      ? `${issue.field}: `
      : '';
  return `${where}${issue.message}`;
}

/** Thrown where a caller needs a project without problems (CLI, compile, export). */
export class ProjectError extends Error {
  constructor(readonly issues: GraphIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ProjectError';
  }
}
