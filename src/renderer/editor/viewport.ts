/**
 * Fitting the graph in view. The automatic layout folds long chains so a
 * graph usually fits at a readable zoom; one that still does not (a very large
 * graph drawn by hand) is shown from its start at a readable zoom instead of
 * shrunk until its cards cannot be read. The map in the corner is kept clear.
 */
import type { Edge, Node, ReactFlowInstance } from '@xyflow/react';
import { READABLE_ZOOM } from '../state/layout';

export { READABLE_ZOOM };

const MARGIN = 24;
/** The map's corner (its width and margin), kept free of nodes when it is shown. */
export const MINIMAP_ROOM = 230;

type Flow = ReactFlowInstance<Node, Edge>;

function padding(minimap: boolean) {
  // Above and below, room for the edges that turn back between folded columns.
  return {
    top: `${MARGIN * 2}px`,
    left: `${MARGIN}px`,
    bottom: `${MARGIN * 2}px`,
    right: `${minimap ? MINIMAP_ROOM : MARGIN}px`,
  } as const;
}

/** Zooms to show the whole graph (never beyond 1:1). */
export function fitGraph(flow: Flow, minimap: boolean): void {
  void flow.fitView({ maxZoom: 1, padding: padding(minimap), duration: 200 });
}

/** Shows a freshly opened graph: whole when that is readable, else from its start. */
export function showGraph(flow: Flow, pane: HTMLElement | null, minimap: boolean): void {
  const nodes = flow.getNodes();
  if (!pane || nodes.length === 0) return;
  const bounds = flow.getNodesBounds(nodes);
  const { width, height } = pane.getBoundingClientRect();
  const room = {
    width: width - MARGIN - (minimap ? MINIMAP_ROOM : MARGIN),
    height: height - 2 * MARGIN,
  };
  const fitZoom = Math.min(room.width / bounds.width, room.height / bounds.height, 1);
  if (fitZoom >= READABLE_ZOOM) {
    void flow.fitView({ maxZoom: 1, padding: padding(minimap) });
    return;
  }
  const zoom = READABLE_ZOOM;
  const tall = bounds.height / room.height > bounds.width / room.width;
  void flow.setViewport({
    zoom,
    x: tall
      ? MARGIN + room.width / 2 - (bounds.x + bounds.width / 2) * zoom
      : MARGIN - bounds.x * zoom,
    y: tall
      ? MARGIN - bounds.y * zoom
      : MARGIN + room.height / 2 - (bounds.y + bounds.height / 2) * zoom,
  });
}

/**
 * Brings a node to the middle of the view, zooming in to a readable size if
 * needed; with `onlyIfHidden`, only when it is not already wholly in view.
 */
export function centreOn(
  flow: Flow,
  nodeId: string,
  pane: HTMLElement | null,
  onlyIfHidden = false,
): void {
  const node = flow.getNode(nodeId);
  if (!node || !pane) return;
  const width = node.measured?.width ?? 0;
  const height = node.measured?.height ?? 0;
  if (onlyIfHidden) {
    const { x, y, zoom } = flow.getViewport();
    const paneBox = pane.getBoundingClientRect();
    const left = node.position.x * zoom + x;
    const top = node.position.y * zoom + y;
    const right = left + width * zoom;
    const bottom = top + height * zoom;
    // Under the map counts as hidden too.
    const map = pane.querySelector('.minimap')?.getBoundingClientRect();
    const underMap =
      map !== undefined &&
      paneBox.left + left < map.right &&
      map.left < paneBox.left + right &&
      paneBox.top + top < map.bottom &&
      map.top < paneBox.top + bottom;
    const shown =
      left >= 0 && top >= 0 && right <= paneBox.width && bottom <= paneBox.height && !underMap;
    if (shown) return;
  }
  void flow.setCenter(node.position.x + width / 2, node.position.y + height / 2, {
    zoom: Math.max(flow.getZoom(), READABLE_ZOOM),
    duration: 250,
  });
}
