/**
 * Automatic layout with dagre, top-down or left-to-right, sized for the
 * editor's node cards. Given the view it must fit, a long chain folds into
 * columns (top-down) or rows (left-to-right), so that a network like LeNet is
 * shown whole at a zoom where its cards can be read.
 */
import dagre from '@dagrejs/dagre';
import type { Project } from '../../core/document/schema';
import { getLayerDef } from '../../core/layers/registry';
import type { Graph } from './graph-ops';

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 80;
const BLOCK_HEIGHT = 112;
/** Space between consecutive layers along the flow, and between side-by-side ones. */
export const RANK_GAP = 48;
const NODE_GAP = 40;
/** Space between the columns (rows) a long chain folds into: room for the edge that turns back. */
const FOLD_GAP = 90;
const MARGIN = 20;
/** A fold must bring the zoom within this fraction of the best folding's, or it is not made. */
const WORTH_FOLDING = 0.85;
/** Below this zoom a card's text is too small to read. */
export const READABLE_ZOOM = 0.6;

export type LayoutDirection = 'TB' | 'LR';

export interface LayoutOptions {
  direction?: LayoutDirection;
  /** Measured card sizes; cards not in it are estimated. */
  sizes?: Map<string, { width: number; height: number }>;
  /** The view the graph should fit; without it the graph stays one column (row). */
  view?: { width: number; height: number };
}

type Size = { width: number; height: number };
type Box = { id: string; x: number; y: number; width: number; height: number };

/** A card's size before it is drawn: blocks carry an Open button under their shape line. */
function estimatedSize(node: Graph['nodes'][number]): Size {
  return {
    width: NODE_WIDTH,
    height: getLayerDef(node.type)?.kind === 'block' ? BLOCK_HEIGHT : NODE_HEIGHT,
  };
}

export function layoutGraph<G extends Graph>(graph: G, options: LayoutOptions = {}): G {
  const direction = options.direction ?? 'TB';
  const estimates = new Map(graph.nodes.map((n) => [n.id, estimatedSize(n)]));
  const sizeOf = (id: string): Size => options.sizes?.get(id) ?? estimates.get(id)!;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: direction, nodesep: NODE_GAP, ranksep: RANK_GAP, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { ...sizeOf(n.id) });
  for (const e of graph.edges)
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const boxes: Box[] = graph.nodes.map((n) => {
    const placed = g.node(n.id);
    const size = sizeOf(n.id);
    return {
      id: n.id,
      x: placed.x - size.width / 2,
      y: placed.y - size.height / 2,
      ...size,
    };
  });
  const folded = options.view ? fold(boxes, graph.edges, direction, options.view) : boxes;
  const at = new Map(folded.map((b) => [b.id, b]));
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      const b = at.get(n.id)!;
      return { ...n, position: { x: Math.round(b.x + MARGIN), y: Math.round(b.y + MARGIN) } };
    }),
  };
}

/**
 * Folds the ranks into bands side by side (columns for top-down, rows for
 * left-to-right) so the whole graph fits `view` at the largest zoom (up to
 * 1). A fold only falls where one edge alone links the ranks on either side,
 * so a branch (a skip connection) is never cut in two, unless no such folding
 * is readable: then also where one layer's output alone crosses. Written for top-down;
 * left-to-right swaps the axes.
 */
function fold(boxes: Box[], edges: Graph['edges'], direction: LayoutDirection, view: Size): Box[] {
  const flip = (b: Box): Box =>
    direction === 'TB' ? b : { id: b.id, x: b.y, y: b.x, width: b.height, height: b.width };
  const down = boxes.map(flip);
  const viewDown = direction === 'TB' ? view : { width: view.height, height: view.width };
  const ranks = ranksOf(down);
  const left = Math.min(...down.map((b) => b.x));
  const width = Math.max(...down.map((b) => b.x + b.width)) - left;
  const height = (band: Rank[]) => band.at(-1)!.bottom - band[0].top;
  // Room along the flow for the edges that turn back between bands.
  const room = { width: viewDown.width - 2 * MARGIN, height: viewDown.height - 4 * MARGIN };
  const folding = (segments: Rank[][]) => {
    const candidates: { zoom: number; bands: Rank[][] }[] = [];
    for (let target = 1; target >= 0.1; target -= 0.05) {
      const bands = pack(segments, room.height / target);
      const wide = bands.length * width + (bands.length - 1) * FOLD_GAP;
      candidates.push({
        bands,
        zoom: Math.min(1, room.width / wide, room.height / Math.max(...bands.map(height))),
      });
    }
    // The fewest bands that come close to the best zoom: a fold that gains little is not worth it.
    const bestZoom = Math.max(...candidates.map((c) => c.zoom));
    return candidates
      .filter((c) => c.zoom >= bestZoom * WORTH_FOLDING)
      .reduce((a, b) => (b.bands.length < a.bands.length ? b : a));
  };
  let best = folding(cleanSegments(ranks, edges, false));
  if (best.zoom < READABLE_ZOOM) {
    // No clean place to fold (a DenseBlock's every unit is skipped over): fold where one
    // layer's output alone crosses, even if it forks there, rather than leave it unreadable.
    const forked = folding(cleanSegments(ranks, edges, true));
    if (forked.zoom > best.zoom) best = forked;
  }
  const moved = new Map<string, Box>();
  best.bands.forEach((band, i) => {
    const dy = ranks[0].top - band[0].top;
    const dx = i * (width + FOLD_GAP);
    for (const rank of band)
      for (const b of rank.boxes) moved.set(b.id, { ...b, x: b.x + dx, y: b.y + dy });
  });
  return down.map((b) => flip(moved.get(b.id)!));
}

/**
 * Runs of ranks between the places a fold may fall: one edge alone from one
 * rank to the next, or (`forks`) the edges of one layer's output alone, from
 * the last rank before the fold.
 */
function cleanSegments(ranks: Rank[], edges: Graph['edges'], forks: boolean): Rank[][] {
  const rankOf = new Map<string, number>();
  ranks.forEach((rank, i) => {
    for (const b of rank.boxes) rankOf.set(b.id, i);
  });
  const segments: Rank[][] = [[ranks[0]]];
  for (let gap = 0; gap < ranks.length - 1; gap++) {
    const crossing = edges.filter((e) => {
      const from = rankOf.get(e.source);
      const to = rankOf.get(e.target);
      return from !== undefined && to !== undefined && from <= gap && to > gap;
    });
    const oneSource =
      crossing.length > 0 &&
      crossing.every((e) => e.source === crossing[0].source) &&
      rankOf.get(crossing[0].source) === gap;
    const clean =
      oneSource && (forks || (crossing.length === 1 && rankOf.get(crossing[0].target) === gap + 1));
    if (clean) segments.push([ranks[gap + 1]]);
    else segments.at(-1)!.push(ranks[gap + 1]);
  }
  return segments;
}

/** Fills bands in order with whole segments, up to `tallest` each (a taller segment gets a band of its own). */
function pack(segments: Rank[][], tallest: number): Rank[][] {
  const bands: Rank[][] = [];
  for (const segment of segments) {
    const band = bands.at(-1);
    if (band && segment.at(-1)!.bottom - band[0].top <= tallest) band.push(...segment);
    else bands.push([...segment]);
  }
  return bands;
}

interface Rank {
  boxes: Box[];
  top: number;
  bottom: number;
}

/** Boxes grouped by the rank dagre put them on (same centre along the flow), in flow order. */
function ranksOf(boxes: Box[]): Rank[] {
  const byCentre = new Map<number, Box[]>();
  for (const b of boxes) {
    const centre = Math.round(b.y + b.height / 2);
    byCentre.set(centre, [...(byCentre.get(centre) ?? []), b]);
  }
  return [...byCentre.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, list]) => ({
      boxes: list,
      top: Math.min(...list.map((b) => b.y)),
      bottom: Math.max(...list.map((b) => b.y + b.height)),
    }));
}

/** True when some node has no position yet (presets and hand-written files). */
export function needsLayout(graph: Graph): boolean {
  return graph.nodes.some((n) => n.position === undefined);
}

/** The direction the project is laid out in (kept with the drawing in the file's `ui`). */
export function layoutDirectionOf(project: Project): LayoutDirection {
  return project.ui?.layoutDirection === 'LR' ? 'LR' : 'TB';
}
