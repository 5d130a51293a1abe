/** Ordering and structure checks for a graph of nodes and edges (a DAG). */
import type { GraphIssue } from '../issues';

export interface GraphLike {
  nodes: { id: string; type: string }[];
  edges: { source: string; target: string }[];
}

/** Incoming sources of each node, in edge order (the order multi-input layers take them). */
export function inputsOf(graph: GraphLike): Map<string, string[]> {
  const inputs = new Map<string, string[]>(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) inputs.get(e.target)?.push(e.source);
  return inputs;
}

export function outputsOf(graph: GraphLike): Map<string, string[]> {
  const outputs = new Map<string, string[]>(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) outputs.get(e.source)?.push(e.target);
  return outputs;
}

/** Duplicate ids and edges whose ends are missing. */
export function structureIssues(graph: GraphLike, prefix = ''): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    if (seen.has(n.id))
      issues.push({
        nodeId: prefix + n.id,
        message: `the id '${n.id}' is used by more than one node; ids must be unique`,
      });
    seen.add(n.id);
  }
  for (const e of graph.edges) {
    for (const end of ['source', 'target'] as const) {
      if (!seen.has(e[end])) {
        issues.push({
          nodeId: prefix + (end === 'source' ? e.target : e.source),
          message: `an edge ${e.source} → ${e.target} names ${end} '${e[end]}', which is not a node; remove the edge or add the node`,
        });
      }
    }
    if (e.source === e.target)
      issues.push({
        nodeId: prefix + e.source,
        message: 'an edge connects this node to itself; graphs must not have cycles',
      });
  }
  return issues;
}

/**
 * Kahn's algorithm; nodes left over lie on (or after) a cycle. Ties keep the
 * file's node order so summaries list layers as the user wrote them.
 */
export function topologicalOrder(graph: GraphLike): { order: string[]; cyclic: string[] } {
  const ids = graph.nodes.map((n) => n.id);
  const known = new Set(ids);
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const e of graph.edges)
    if (known.has(e.source) && known.has(e.target))
      indegree.set(e.target, indegree.get(e.target)! + 1);
  const outputs = outputsOf(graph);
  const order: string[] = [];
  const ready = ids.filter((id) => indegree.get(id) === 0);
  const position = new Map(ids.map((id, i) => [id, i]));
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const next of outputs.get(id) ?? []) {
      if (!known.has(next)) continue;
      const d = indegree.get(next)! - 1;
      indegree.set(next, d);
      if (d === 0) ready.push(next);
    }
  }
  const placed = new Set(order);
  return { order, cyclic: ids.filter((id) => !placed.has(id)) };
}

/** The nodes of one cycle, for a message that shows the loop. */
export function findCycle(graph: GraphLike, among: string[]): string[] {
  const outputs = outputsOf(graph);
  const candidates = new Set(among);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'open');
    stack.push(id);
    for (const next of outputs.get(id) ?? []) {
      if (!candidates.has(next)) continue;
      if (state.get(next) === 'open') return stack.slice(stack.indexOf(next)).concat(next);
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of among) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return among;
}
