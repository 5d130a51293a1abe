/**
 * Pure edits of the project document, used by the store and tested on their
 * own: adding nodes with fresh ids, connecting with the checks the canvas
 * needs, deleting, pasting, and grouping a selection into a user block.
 */
import type { Project, ProjectBlock, ProjectEdge, ProjectNode } from '../../core/document/schema';
import { defaultsOf } from '../../core/layers/fields';
import { getLayerDef, idStemOf } from '../../core/layers/registry';
import type { Subgraph } from '../../core/layers/types';
import { type LayoutDirection, layoutGraph, needsLayout } from './layout';

export type Graph = Pick<Project, 'nodes' | 'edges'>;

/** A readable id not yet used: conv1, conv2, … for the stem 'conv'. */
export function freshId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const stem = base.replace(/[^A-Za-z0-9_-]/g, '').toLowerCase() || 'node';
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
  return {
    id: freshId(idStemOf(type, params), taken),
    type,
    params: { ...defaults, ...params },
    position,
  };
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
    const id = freshId(idStemOf(n.type, n.params), taken);
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
  | { ok: true; graph: Graph; block: ProjectBlock; blockNodeId: string }
  | { ok: false; reason: string };

/**
 * Moves the selected nodes of `graph` into a new user block (to be stored as
 * blocks[name]) and puts one Block node in their place. The selection must
 * have one entry (all edges coming in start at the same node) and one exit
 * (one node feeds the rest).
 */
export function groupIntoBlock(
  graph: Graph,
  blocks: Project['blocks'],
  ids: Set<string>,
  name: string,
): GroupResult {
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    return { ok: false, reason: 'a block name may use letters, digits, _ and - only' };
  if (Object.hasOwn(blocks, name))
    return { ok: false, reason: `a block named '${name}' already exists` };
  const inside = graph.nodes.filter((n) => ids.has(n.id));
  if (inside.length === 0) return { ok: false, reason: 'select the layers to group first' };
  if (inside.some((n) => n.type === 'Input'))
    return {
      ok: false,
      reason: 'the Input node cannot go inside a block; leave it out of the selection',
    };
  const entering = graph.edges.filter((e) => !ids.has(e.source) && ids.has(e.target));
  const leaving = graph.edges.filter((e) => ids.has(e.source) && !ids.has(e.target));
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
    (n) => !graph.edges.some((e) => e.source === n.id && ids.has(e.target)),
  );
  if (exits.size > 1 || internalSinks.length !== 1)
    return { ok: false, reason: 'the selection must end in one layer (a block has one output)' };
  const [source] = sources;
  const entryId = freshId('in', ids);
  const block: ProjectBlock = {
    label: name,
    // Without positions: the block is laid out on its own the first time it is opened.
    nodes: [
      { id: entryId, type: 'Input', params: {} },
      ...inside.map(({ position: _position, ...n }) => n),
    ],
    edges: [
      ...graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
      ...entering.map((e) => ({ source: entryId, target: e.target })),
    ],
  };
  const taken = graph.nodes.filter((n) => !ids.has(n.id)).map((n) => n.id);
  const blockNode: ProjectNode = {
    id: freshId(name, taken),
    type: 'Block',
    params: { block: name },
    position: centre(inside),
  };
  // Edges keep their places so multi-input layers still take their inputs in order.
  const edges: ProjectEdge[] = [];
  let enteredOnce = false;
  for (const e of graph.edges) {
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
    block,
    graph: { nodes: [...graph.nodes.filter((n) => !ids.has(n.id)), blockNode], edges },
  };
}

function centre(nodes: ProjectNode[]): { x: number; y: number } {
  const xs = nodes.map((n) => n.position?.x ?? 0);
  const ys = nodes.map((n) => n.position?.y ?? 0);
  return { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 };
}

/** How far apart consecutive layers are drawn (a card and the gap after it), for edits that make room. */
const STEP = { TB: 150, LR: 270 } as const;

type Point = { x: number; y: number };

/** A point moved `distance` along the flow (down for top-down, right for left-to-right). */
function along(p: Point, distance: number, direction: LayoutDirection): Point {
  return direction === 'TB' ? { x: p.x, y: p.y + distance } : { x: p.x + distance, y: p.y };
}

/** How far `p` lies along the flow. */
function depth(p: Point | undefined, direction: LayoutDirection): number {
  return p ? (direction === 'TB' ? p.y : p.x) : 0;
}

export type Placed<G extends Graph> =
  | { ok: true; graph: G; ids: string[] }
  | { ok: false; reason: string };

/**
 * Replaces a block node by the layers inside it (`inside`: a user block's
 * definition or a catalog block's expansion), with fresh ids. What fed the
 * block feeds the inner layers its entry fed; the inner output feeds what the
 * block fed, in the same input places (multi-input layers keep their order).
 * Layers after the block move along to make room.
 */
export function ungroupBlock<G extends Graph>(
  graph: G,
  nodeId: string,
  inside: Subgraph,
  direction: LayoutDirection = 'TB',
): Placed<G> {
  const block = graph.nodes.find((n) => n.id === nodeId);
  if (!block) return { ok: false, reason: `there is no layer '${nodeId}'` };
  const entry = inside.nodes.find((n) => n.type === 'Input');
  const sinks = inside.nodes.filter(
    (n) => n !== entry && !inside.edges.some((e) => e.source === n.id),
  );
  if (!entry || sinks.length !== 1)
    return {
      ok: false,
      reason: `the inside of '${nodeId}' does not run from one input to one output`,
    };
  const taken = new Set(graph.nodes.filter((n) => n.id !== nodeId).map((n) => n.id));
  const rename = new Map<string, string>();
  const drawn = drawnPositions(inside, direction);
  const origin = block.position ?? { x: 0, y: 0 };
  // The first layer the entry feeds takes the block's place; the rest keep their places around it.
  const first = inside.edges.find((e) => e.source === entry.id)?.target ?? sinks[0].id;
  const anchor = drawn.get(first)!;
  const nodes: ProjectNode[] = [];
  for (const n of inside.nodes) {
    if (n === entry) continue;
    const id = taken.has(n.id) ? freshId(n.id.replace(/\d+$/, ''), taken) : n.id;
    taken.add(id);
    rename.set(n.id, id);
    const at = drawn.get(n.id)!;
    nodes.push({
      id,
      type: n.type,
      params: { ...(n.params ?? {}) },
      ...(n.label ? { label: n.label } : {}),
      position: { x: origin.x + at.x - anchor.x, y: origin.y + at.y - anchor.y },
    });
  }
  const incoming = graph.edges.find((e) => e.target === nodeId);
  const inner = inside.edges.flatMap((e) => {
    if (e.source !== entry.id)
      return [{ source: rename.get(e.source)!, target: rename.get(e.target)! }];
    return incoming ? [{ source: incoming.source, target: rename.get(e.target)! }] : [];
  });
  const exit = rename.get(sinks[0].id)!;
  const edges: ProjectEdge[] = [];
  for (const e of graph.edges) {
    if (e.target === nodeId) edges.push(...inner);
    else if (e.source === nodeId) edges.push({ source: exit, target: e.target });
    else edges.push(e);
  }
  if (!incoming) edges.push(...inner);
  const grown =
    Math.max(...nodes.map((n) => depth(n.position, direction))) - depth(origin, direction);
  const rest = graph.nodes.filter((n) => n.id !== nodeId);
  return {
    ok: true,
    graph: {
      ...graph,
      nodes: [...shift(rest, downstreamOf(graph, nodeId), grown, direction), ...nodes],
      edges,
    },
    ids: nodes.map((n) => n.id),
  };
}

/** Where a new layer goes: on an edge (by its index), after a layer, or on its own. */
export type InsertPlace = { edge: number } | { after: string } | null;

/**
 * Adds `node`. On an edge s → t it goes between them (t keeps its input
 * place); after a layer s it takes over s's outgoing edges and is fed by s.
 * A node without a position is put one step after s; layers downstream move
 * along to make room.
 */
export function insertNode<G extends Graph>(
  graph: G,
  node: ProjectNode,
  place: InsertPlace,
  direction: LayoutDirection = 'TB',
): Placed<G> {
  if (place === null)
    return { ok: true, graph: { ...graph, nodes: [...graph.nodes, node] }, ids: [node.id] };
  if (getLayerDef(node.type)?.inputs.max === 0)
    return { ok: false, reason: `${node.type} takes no input, so it cannot go after a layer` };
  const source = 'edge' in place ? graph.edges[place.edge]?.source : place.after;
  const from = graph.nodes.find((n) => n.id === source);
  if (!from) return { ok: false, reason: 'that layer or connection is no longer there' };
  const moving =
    'edge' in place
      ? [place.edge]
      : graph.edges.flatMap((e, i) => (e.source === from.id ? [i] : []));
  const edges = graph.edges.map((e, i) =>
    moving.includes(i) ? { source: node.id, target: e.target } : e,
  );
  edges.push({ source: from.id, target: node.id });
  const at = node.position ?? along(from.position ?? { x: 0, y: 0 }, STEP[direction], direction);
  const later = new Set<string>();
  for (const i of moving) {
    const target = graph.edges[i].target;
    later.add(target);
    for (const id of downstreamOf(graph, target)) later.add(id);
  }
  // Room for the new layer: everything after it starts at least one step further on.
  const nearest = Math.min(
    ...graph.nodes.filter((n) => later.has(n.id)).map((n) => depth(n.position, direction)),
  );
  const room = Math.max(0, depth(at, direction) + STEP[direction] - nearest);
  const nodes = [...shift(graph.nodes, later, room, direction), { ...node, position: at }];
  return { ok: true, graph: { ...graph, nodes, edges }, ids: [node.id] };
}

/** Every node reachable from `id` (not `id` itself). */
function downstreamOf(graph: Graph, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const at = stack.pop()!;
    for (const e of graph.edges)
      if (e.source === at && !seen.has(e.target)) {
        seen.add(e.target);
        stack.push(e.target);
      }
  }
  return seen;
}

function shift(
  nodes: ProjectNode[],
  ids: Set<string>,
  distance: number,
  direction: LayoutDirection,
): ProjectNode[] {
  if (distance <= 0 || !Number.isFinite(distance)) return nodes;
  return nodes.map((n) =>
    ids.has(n.id) && n.position ? { ...n, position: along(n.position, distance, direction) } : n,
  );
}

/** Where a block's inner layers are drawn: their own positions, or laid out when they have none. */
function drawnPositions(inside: Subgraph, direction: LayoutDirection): Map<string, Point> {
  const graph = { nodes: inside.nodes as ProjectNode[], edges: inside.edges };
  const placed = needsLayout(graph) ? layoutGraph(graph, { direction }) : graph;
  return new Map(placed.nodes.map((n) => [n.id, n.position!]));
}
