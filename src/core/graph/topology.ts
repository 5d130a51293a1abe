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
  const position = new Map(ids.map((id, i) => [id, i]));
  // The ready nodes, earliest in the file first: a binary heap keeps this O(n log n).
  const ready = new MinHeap<string>((a, b) => position.get(a)! - position.get(b)!);
  for (const id of ids) if (indegree.get(id) === 0) ready.push(id);
  for (let id = ready.pop(); id !== undefined; id = ready.pop()) {
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

/**
 * The nodes of one cycle, for a message that shows the loop. Depth-first with
 * an explicit stack: a long chain must not exhaust the call stack.
 */
export function findCycle(graph: GraphLike, among: string[]): string[] {
  const outputs = outputsOf(graph);
  const candidates = new Set(among);
  const state = new Map<string, 'open' | 'done'>();
  for (const start of among) {
    if (state.has(start)) continue;
    // The current path, each with the index of its next output to try.
    const path: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, 'open');
    while (path.length > 0) {
      const top = path[path.length - 1];
      const targets = outputs.get(top.id) ?? [];
      if (top.next >= targets.length) {
        state.set(top.id, 'done');
        path.pop();
        continue;
      }
      const next = targets[top.next++];
      if (!candidates.has(next)) continue;
      if (state.get(next) === 'open') {
        const ids = path.map((p) => p.id);
        return ids.slice(ids.indexOf(next)).concat(next);
      }
      if (!state.has(next)) {
        state.set(next, 'open');
        path.push({ id: next, next: 0 });
      }
    }
  }
  return among;
}

/** A binary min-heap under `before` (negative: a comes first). */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => number) {}

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(items[i], items[parent]) >= 0) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const first = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < items.length && this.before(items[left], items[least]) < 0) least = left;
        if (right < items.length && this.before(items[right], items[least]) < 0) least = right;
        if (least === i) break;
        [items[i], items[least]] = [items[least], items[i]];
        i = least;
      }
    }
    return first;
  }
}
