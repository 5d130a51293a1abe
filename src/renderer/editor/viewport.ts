/**
 * Shows a freshly opened graph: whole when it fits at a readable zoom,
 * otherwise from its top at a readable zoom (a long chain like LeNet shrunk to
 * fit would be too small to read).
 */
import type { Edge, Node, ReactFlowInstance } from '@xyflow/react';

const READABLE_ZOOM = 0.6;
const MARGIN = 24;

export function showGraph(flow: ReactFlowInstance<Node, Edge>, pane: HTMLElement | null): void {
  const nodes = flow.getNodes();
  if (!pane || nodes.length === 0) return;
  const bounds = flow.getNodesBounds(nodes);
  const { width, height } = pane.getBoundingClientRect();
  const fitZoom = Math.min(
    (width - 2 * MARGIN) / bounds.width,
    (height - 2 * MARGIN) / bounds.height,
    1,
  );
  if (fitZoom >= READABLE_ZOOM) {
    void flow.fitView({ maxZoom: 1, padding: 0.1 });
    return;
  }
  const zoom = Math.max(fitZoom, READABLE_ZOOM);
  void flow.setViewport({
    zoom,
    x: width / 2 - (bounds.x + bounds.width / 2) * zoom,
    y: MARGIN - bounds.y * zoom,
  });
}
