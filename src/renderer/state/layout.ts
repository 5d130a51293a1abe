/** Automatic top-to-bottom layout with dagre, sized for the editor's node cards. */
import dagre from '@dagrejs/dagre';
import type { Graph } from './graph-ops';

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 96;

export function layoutGraph<G extends Graph>(
  graph: G,
  sizes?: Map<string, { width: number; height: number }>,
): G {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 48, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const size = sizes?.get(n.id) ?? { width: NODE_WIDTH, height: NODE_HEIGHT };
    g.setNode(n.id, { ...size });
  }
  for (const e of graph.edges)
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      const placed = g.node(n.id);
      const size = sizes?.get(n.id) ?? { width: NODE_WIDTH, height: NODE_HEIGHT };
      return {
        ...n,
        position: {
          x: Math.round(placed.x - size.width / 2),
          y: Math.round(placed.y - size.height / 2),
        },
      };
    }),
  };
}

/** True when some node has no position yet (presets and hand-written files). */
export function needsLayout(graph: Graph): boolean {
  return graph.nodes.some((n) => n.position === undefined);
}
