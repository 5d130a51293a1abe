/**
 * Where the editor is: the project's top level, or inside one of the user's
 * own blocks (opened from a use of it, possibly nested). Edits apply to the
 * graph of the innermost open block, which is the block's one definition, so
 * every use of it changes; shapes are those of the use it was opened from.
 */
import type { Project, ProjectBlock } from '../../core/document/schema';
import type { Graph } from './graph-ops';

export interface ScopeStep {
  /** The block's name in `project.blocks`. */
  block: string;
  /** Path id of the Block node it was opened from ("b1", "b1/inner"): its shapes are that use's. */
  path: string;
}

/** The graph edits apply to. */
export function graphAt(project: Project, scope: ScopeStep[]): Graph {
  const step = scope.at(-1);
  return step ? project.blocks[step.block] : project;
}

/** The project with the graph at `scope` replaced. */
export function withGraphAt(project: Project, scope: ScopeStep[], graph: Graph): Project {
  const step = scope.at(-1);
  if (!step) return { ...project, nodes: graph.nodes, edges: graph.edges };
  const block: ProjectBlock = {
    ...project.blocks[step.block],
    nodes: graph.nodes,
    edges: graph.edges,
  };
  return { ...project, blocks: { ...project.blocks, [step.block]: block } };
}

/** The prefix that turns a node id at `scope` into its inference path id. */
export function pathPrefix(scope: ScopeStep[]): string {
  const step = scope.at(-1);
  return step ? `${step.path}/` : '';
}

/** The steps that still stand after an edit or undo (a block may have been ungrouped away). */
export function validScope(project: Project, scope: ScopeStep[]): ScopeStep[] {
  const kept: ScopeStep[] = [];
  for (const step of scope) {
    if (!Object.hasOwn(project.blocks, step.block)) break;
    kept.push(step);
  }
  return kept.length === scope.length ? scope : kept;
}
