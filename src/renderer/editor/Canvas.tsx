/**
 * The node-graph canvas: the project's nodes and edges drawn by React Flow,
 * kept in the store (React Flow only reports changes). Layers are dropped in
 * from the palette; connections are checked before they are made.
 */
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  ReactFlow,
  useReactFlow,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { checkConnection, edgeKey } from '../state/graph-ops';
import { NODE_WIDTH } from '../state/layout';
import { useStudio } from '../state/store';
import { type LayerFlowNode, LayerNode } from './LayerNode';
import { showGraph } from './viewport';

export const PALETTE_MIME = 'application/x-convnet-layer';

const nodeTypes = { layer: LayerNode };

export function Canvas({ onOpenBlock }: { onOpenBlock(nodeId: string): void }) {
  const nodes = useStudio((s) => s.project.nodes);
  const edges = useStudio((s) => s.project.edges);
  const selection = useStudio((s) => s.selection);
  const selectedEdges = useStudio((s) => s.selectedEdges);
  const inference = useStudio((s) => s.inference);
  const [sizes, setSizes] = useState(new Map<string, { width: number; height: number }>());
  const [hint, setHint] = useState<string | null>(null);
  const dragKey = useRef('');
  const flow = useReactFlow();
  const pane = useRef<HTMLDivElement>(null);
  const loadCount = useStudio((s) => s.loadCount);

  // A newly opened graph is shown whole once its nodes have been measured.
  useEffect(() => {
    if (loadCount === 0) return;
    const timer = setTimeout(() => showGraph(flow, pane.current), 60);
    return () => clearTimeout(timer);
  }, [loadCount, flow]);

  const flowNodes = useMemo<LayerFlowNode[]>(() => {
    const selected = new Set(selection);
    return nodes.map((n) => ({
      id: n.id,
      type: 'layer',
      position: n.position ?? { x: 0, y: 0 },
      data: { nodeId: n.id, onOpenBlock },
      selected: selected.has(n.id),
      measured: sizes.get(n.id),
      width: NODE_WIDTH,
    }));
  }, [nodes, selection, sizes, onOpenBlock]);

  const flowEdges = useMemo<Edge[]>(() => {
    const selected = new Set(selectedEdges);
    return edges.map((e, i) => {
      const id = edgeKey(e, i);
      const broken = inference.byId.get(e.target)?.error !== undefined;
      return {
        id,
        source: e.source,
        target: e.target,
        selected: selected.has(id),
        className: broken ? 'edge-into-error' : undefined,
      };
    });
  }, [edges, selectedEdges, inference]);

  const onNodesChange = useCallback((changes: NodeChange<LayerFlowNode>[]) => {
    const store = useStudio.getState();
    const moved = new Map<string, { x: number; y: number }>();
    let selection: Set<string> | null = null;
    let measured: Map<string, { width: number; height: number }> | null = null;
    for (const change of changes) {
      if (change.type === 'position' && change.position) moved.set(change.id, change.position);
      else if (change.type === 'select') {
        selection ??= new Set(store.selection);
        if (change.selected) selection.add(change.id);
        else selection.delete(change.id);
      } else if (change.type === 'dimensions' && change.dimensions) {
        measured ??= new Map();
        measured.set(change.id, change.dimensions);
      }
    }
    if (moved.size > 0) store.moveNodes(moved, dragKey.current);
    if (selection) store.select([...selection], store.selectedEdges);
    if (measured) {
      const updates = measured;
      setSizes((old) => {
        const next = new Map(old);
        for (const [id, size] of updates) next.set(id, size);
        return next;
      });
    }
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const store = useStudio.getState();
    let selected: Set<string> | null = null;
    for (const change of changes) {
      if (change.type === 'select') {
        selected ??= new Set(store.selectedEdges);
        if (change.selected) selected.add(change.id);
        else selected.delete(change.id);
      }
    }
    if (selected) store.select(store.selection, [...selected]);
  }, []);

  const onConnect = useCallback((connection: Connection) => {
    const refusal = useStudio.getState().connect(connection.source, connection.target);
    setHint(refusal);
  }, []);

  const isValidConnection = useCallback(
    (connection: Connection | Edge) =>
      checkConnection(useStudio.getState().project, connection.source, connection.target).ok,
    [],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (event.dataTransfer.types.includes(PALETTE_MIME)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const payload = event.dataTransfer.getData(PALETTE_MIME);
      if (!payload) return;
      event.preventDefault();
      const { type, params } = JSON.parse(payload) as {
        type: string;
        params?: Record<string, unknown>;
      };
      const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      useStudio.getState().addNode(type, { x: at.x - NODE_WIDTH / 2, y: at.y - 20 }, params);
    },
    [flow],
  );

  return (
    <div
      ref={pane}
      className="canvas"
      role="application"
      aria-label="Network canvas"
      onDragOver={onDragOver}
      onDrop={onDrop}
      data-testid="canvas"
    >
      <ReactFlow<LayerFlowNode>
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectStart={() => setHint(null)}
        onConnectEnd={(_event, state) => {
          // Dropped on a port that refused the connection: say why.
          if (state.fromNode && state.toNode && !state.isValid) {
            const check = checkConnection(
              useStudio.getState().project,
              state.fromNode.id,
              state.toNode.id,
            );
            if (!check.ok) setHint(check.reason);
          }
        }}
        isValidConnection={isValidConnection}
        onNodeDragStart={() => {
          dragKey.current = `move:${Date.now()}`;
        }}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control']}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        minZoom={0.1}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
        defaultEdgeOptions={{ type: 'smoothstep' }}
      >
        <Background gap={20} size={1} />
        <MiniMap pannable zoomable className="minimap" nodeBorderRadius={6} />
        <Controls showInteractive={false} />
      </ReactFlow>
      {hint && (
        <div className="canvas-hint" role="status">
          {hint}
        </div>
      )}
    </div>
  );
}
