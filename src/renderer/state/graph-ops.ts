/**
 * Pure edits of the project document, used by the store and tested on their
 * own: adding nodes with fresh ids, connecting with the checks the canvas
 * needs, deleting, pasting, and grouping a selection into a user block.
 */
import type { Project, ProjectEdge, ProjectNode } from '../../core/document/schema';
import { defaultsOf } from '../../core/layers/fields';
import { getLayerDef } from '../../core/layers/registry';

export type Graph = Pick<Project, 'nodes' | 'edges'>;

/** A readable id not yet used: conv1, conv2, … for Conv2d. */
export function freshId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const stem =
    base
      .replace(/[^A-Za-z0-9_-]/g, '')
      .replace(/2d$/i, '')
      .toLowerCase() || 'node';
  for (let i = 1; ; i++) if (!used.has(`${stem}${i}`)) return `${stem}${i}`;
}

export function newNode(
  type: string,
  position: { x: number; y: number },
  taken: Iterable<string>,
  params?: Record<string, unknown>,
): ProjectNode {
  const def = getLayerDef(type);
  const defaults = def ? defaultsOf(def.fields) : {};
  return { id: freshId(type, taken), type, params: { ...defaults, ...params }, position };
}

export type ConnectionCheck = { ok: true } | { ok: false; reason: string };

/** Whether source → target may be added: no self loop, no duplicate, no cycle, room for another input. */
export function checkConnection(graph: Graph, source: string, target: string): ConnectionCheck {
  if (source === target) return { ok: false, reason: 'a layer cannot feed itself' };
  if (graph.edges.some((e) => e.source === source && e.target === target))
    return { ok: false, reason: 'these layers are already connected' };
  if (reaches(graph, target, source))
    return { ok: false, reason: 'that would make a cycle; data must flow one way' };
  const targetNode = graph.nodes.find((n) => n.id === target);
  const def = targetNode ? getLayerDef(targetNode.type) : undefined;
  if (def) {
    const incoming = graph.edges.filter((e) => e.target === target).length;
    if (incoming >= def.inputs.max)
      return {
        ok: false,
        reason:
          def.inputs.max === 0
            ? `${def.type} takes no input`
            : `${def.type} takes at most ${def.inputs.max} input${def.inputs.max === 1 ? '' : 's'}`,
      };
  }
  return { ok: true };
}

function reaches(graph: Graph, from: string, to: string): boolean {
  const stack = [from];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of graph.edges) if (e.source === id) stack.push(e.target);
  }
  return false;
}

export function deleteNodes<G extends Graph>(graph: G, ids: Set<string>): G {
  return {
    ...graph,
    nodes: graph.nodes.filter((n) => !ids.has(n.id)),
    edges: graph.edges.filter((e) => !ids.has(e.source) && !ids.has(e.target)),
  };
}

export function edgeKey(edge: ProjectEdge, index: number): string {
  return `${edge.source}->${edge.target}#${index}`;
}

/** The selected nodes and the edges between them, for the clipboard. */
export function copySelection(graph: Graph, ids: Set<string>): Graph {
  return {
    nodes: graph.nodes.filter((n) => ids.has(n.id)),
    edges: graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  };
}

/** Adds a copied piece with fresh ids, shifted so it does not hide the original. Returns the new ids. */
export function pasteGraph<G extends Graph>(
  graph: G,
  piece: Graph,
  offset: { x: number; y: number },
): { graph: G; ids: string[] } {
  const taken = new Set(graph.nodes.map((n) => n.id));
  const rename = new Map<string, string>();
  const nodes = piece.nodes.map((n) => {
    const id = freshId(n.type === 'Block' ? String(n.params.block ?? 'block') : n.type, taken);
    taken.add(id);
    rename.set(n.id, id);
    const at = n.position ?? { x: 0, y: 0 };
    return { ...n, id, position: { x: at.x + offset.x, y: at.y + offset.y } };
  });
  const edges = piece.edges.map((e) => ({
    source: rename.get(e.source)!,
    target: rename.get(e.target)!,
  }));
  return {
    graph: { ...graph, nodes: [...graph.nodes, ...nodes], edges: [...graph.edges, ...edges] },
    ids: nodes.map((n) => n.id),
  };
}

export type GroupResult =
  | { ok: true; project: Project; blockNodeId: string }
  | { ok: false; reason: string };

/**
 * Moves the selected nodes into a new user block (project.blocks[name]) and
 * puts one Block node in their place. The selection must have one entry (all
 * edges coming in start at the same node) and one exit (one node feeds the rest).
 */
export function groupIntoBlock(project: Project, ids: Set<string>, name: string): GroupResult {
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    return { ok: false, reason: 'a block name may use letters, digits, _ and - only' };
  if (project.blocks[name]) return { ok: false, reason: `a block named '${name}' already exists` };
  const inside = project.nodes.filter((n) => ids.has(n.id));
  if (inside.length === 0) return { ok: false, reason: 'select the layers to group first' };
  if (inside.some((n) => n.type === 'Input'))
    return {
      ok: false,
      reason: 'the Input node cannot go inside a block; leave it out of the selection',
    };
  const entering = project.edges.filter((e) => !ids.has(e.source) && ids.has(e.target));
  const leaving = project.edges.filter((e) => ids.has(e.source) && !ids.has(e.target));
  const sources = new Set(entering.map((e) => e.source));
  if (sources.size !== 1)
    return {
      ok: false,
      reason:
        sources.size === 0
          ? 'nothing feeds the selection; a block needs one input'
          : 'the selection is fed from several layers; a block takes one input',
    };
  const exits = new Set(leaving.map((e) => e.source));
  const internalSinks = inside.filter(
    (n) => !project.edges.some((e) => e.source === n.id && ids.has(e.target)),
  );
  if (exits.size > 1 || internalSinks.length !== 1)
    return { ok: false, reason: 'the selection must end in one layer (a block has one output)' };
  const [source] = sources;
  const entryId = freshId('in', ids);
  const block = {
    label: name,
    nodes: [
      { id: entryId, type: 'Input', params: {} },
      ...inside.map(({ position: _position, ...n }) => n),
    ],
    edges: [
      ...project.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
      ...entering.map((e) => ({ source: entryId, target: e.target })),
    ],
  };
  const taken = project.nodes.filter((n) => !ids.has(n.id)).map((n) => n.id);
  const blockNode: ProjectNode = {
    id: freshId(name, taken),
    type: 'Block',
    params: { block: name },
    position: centre(inside),
  };
  // Edges keep their places so multi-input layers still take their inputs in order.
  const edges: ProjectEdge[] = [];
  let enteredOnce = false;
  for (const e of project.edges) {
    if (ids.has(e.source) && ids.has(e.target)) continue;
    if (ids.has(e.target)) {
      if (!enteredOnce) edges.push({ source, target: blockNode.id });
      enteredOnce = true;
    } else if (ids.has(e.source)) edges.push({ source: blockNode.id, target: e.target });
    else edges.push(e);
  }
  return {
    ok: true,
    blockNodeId: blockNode.id,
    project: {
      ...project,
      nodes: [...project.nodes.filter((n) => !ids.has(n.id)), blockNode],
      edges,
      blocks: { ...project.blocks, [name]: block },
    },
  };
}

function centre(nodes: ProjectNode[]): { x: number; y: number } {
  const xs = nodes.map((n) => n.position?.x ?? 0);
  const ys = nodes.map((n) => n.position?.y ?? 0);
  return { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 };
}
