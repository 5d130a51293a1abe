/**
 * The node-graph canvas: the graph being edited (the project's top level, or
 * a block of the user's own opened for editing) drawn by React Flow, kept in
 * the store (React Flow only reports changes). Layers are dropped in from the
 * palette: onto an edge to insert them there, or after the selected layer;
 * connections are checked before they are made. Right-click opens the
 * context menu.
 */
import {
  Background,
  type Connection,
  type Edge,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  ReactFlow,
  useReactFlow,
} from '@xyflow/react';
import {
  type DragEvent,
  type MouseEvent as ReactMouseEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { useActions } from '../app/ActionsProvider';
import { checkConnection, edgeKey, type InsertPlace } from '../state/graph-ops';
import { layoutDirectionOf, layoutGraph, NODE_WIDTH, needsLayout } from '../state/layout';
import { currentGraph, useStudio } from '../state/store';
import { type LayerFlowNode, LayerNode } from './LayerNode';
import type { PaletteItem } from './palette-items';
import { centreOn, fitGraph, MINIMAP_ROOM, showGraph } from './viewport';

export const PALETTE_MIME = 'application/x-convnet-layer';

const nodeTypes = { layer: LayerNode };

/** Where a context menu was asked for: on a layer, a connection or the empty canvas. */
export interface MenuRequest {
  kind: 'node' | 'edge' | 'pane';
  /** Screen position of the click. */
  x: number;
  y: number;
  /** The same point on the canvas, where "add layer here" puts it. */
  at: { x: number; y: number };
}

/** Adds a palette item to the graph being edited; says why at the canvas's foot when it cannot. */
export function addLayer(
  item: Pick<PaletteItem, 'type' | 'params'>,
  position: { x: number; y: number } | undefined,
  place: InsertPlace,
): void {
  const store = useStudio.getState();
  const added = store.addNode(item.type, position, item.params, place);
  if ('reason' in added && place !== null) {
    // Cannot go there (an Input after a layer): add it on its own instead.
    const alone = store.addNode(item.type, position ?? { x: 0, y: 0 }, item.params, null);
    store.setHint('reason' in alone ? alone.reason : added.reason);
  } else store.setHint('reason' in added ? added.reason : null);
}

/** The edge under a screen point (an edge's wide invisible stroke), as its index in the graph. */
function edgeAt(x: number, y: number): number | null {
  const element = document
    .elementsFromPoint(x, y)
    .find((el) => el.closest('.react-flow__edge'))
    ?.closest('.react-flow__edge');
  const key = element?.getAttribute('data-id');
  if (!key) return null;
  const edges = currentGraph(useStudio.getState()).edges;
  const index = edges.findIndex((e, i) => edgeKey(e, i) === key);
  return index >= 0 ? index : null;
}

export function Canvas({
  onContextMenu,
  minimap,
}: {
  onContextMenu(request: MenuRequest): void;
  minimap: boolean;
}) {
  const graph = useStudio(currentGraph);
  const scope = useStudio((s) => s.scope);
  const selection = useStudio((s) => s.selection);
  const selectedEdges = useStudio((s) => s.selectedEdges);
  const inference = useStudio((s) => s.inference);
  const direction = useStudio((s) => layoutDirectionOf(s.project));
  const hint = useStudio((s) => s.hint);
  const view = useStudio((s) => s.view);
  const [sizes, setSizes] = useState(new Map<string, { width: number; height: number }>());
  const [dropEdge, setDropEdge] = useState<string | null>(null);
  const dragKey = useRef('');
  const flow = useReactFlow();
  const pane = useRef<HTMLDivElement>(null);
  const { run } = useActions();
  // Read when fitting, so that showing or hiding the map does not move the view.
  const withMap = useRef(minimap);
  withMap.current = minimap;

  // The canvas's size lets the automatic layout fold long chains to fit it.
  useEffect(() => {
    const element = pane.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      // The map's corner is not room for the graph.
      if (width > 0 && height > 0)
        useStudio.getState().setCanvasSize({ width: width - (minimap ? MINIMAP_ROOM : 0), height });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [minimap]);

  // A freshly opened graph (or block) is shown whole once its nodes have been measured;
  // a node asked for (a summary row, a problem) is brought to the middle.
  useEffect(() => {
    if (view.seq === 0) return;
    const timer = setTimeout(() => {
      if (view.centre) centreOn(flow, view.centre, pane.current, view.onlyIfHidden);
      else if (view.whole) fitGraph(flow, withMap.current);
      else showGraph(flow, pane.current, withMap.current);
    }, 60);
    return () => clearTimeout(timer);
  }, [view, flow]);

  // A block's inside may come without positions (written by hand): draw it laid out.
  const drawn = useMemo(
    () => (needsLayout(graph) ? layoutGraph(graph, { direction }) : graph),
    [graph, direction],
  );

  const prefix = scope.length > 0 ? `${scope.at(-1)!.path}/` : '';
  const flowNodes = useMemo<LayerFlowNode[]>(() => {
    const selected = new Set(selection);
    return drawn.nodes.map((n) => ({
      id: n.id,
      type: 'layer',
      position: n.position!,
      data: { nodeId: n.id, direction, inBlock: prefix !== '' },
      selected: selected.has(n.id),
      measured: sizes.get(n.id),
      width: NODE_WIDTH,
    }));
  }, [drawn, selection, sizes, direction, prefix]);

  const flowEdges = useMemo<Edge[]>(() => {
    const selected = new Set(selectedEdges);
    return drawn.edges.map((e, i) => {
      const id = edgeKey(e, i);
      const target = inference.byId.get(prefix + e.target);
      const broken = target?.error !== undefined && !target.unconnected;
      return {
        id,
        source: e.source,
        target: e.target,
        selected: selected.has(id),
        className: [broken ? 'edge-into-error' : '', id === dropEdge ? 'drop-target' : '']
          .join(' ')
          .trim(),
        interactionWidth: 24,
      };
    });
  }, [drawn, selectedEdges, inference, prefix, dropEdge]);

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
      store.noteSizes(updates);
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
    const store = useStudio.getState();
    store.setHint(store.connect(connection.source, connection.target));
  }, []);

  const isValidConnection = useCallback(
    (connection: Connection | Edge) =>
      checkConnection(currentGraph(useStudio.getState()), connection.source, connection.target).ok,
    [],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    const index = edgeAt(event.clientX, event.clientY);
    const edges = currentGraph(useStudio.getState()).edges;
    const key = index === null ? null : edgeKey(edges[index], index);
    setDropEdge((old) => (old === key ? old : key));
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const payload = event.dataTransfer.getData(PALETTE_MIME);
      setDropEdge(null);
      if (!payload) return;
      event.preventDefault();
      const item = JSON.parse(payload) as Pick<PaletteItem, 'type' | 'params'>;
      const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const edge = edgeAt(event.clientX, event.clientY);
      // Onto an edge: inserted there. Otherwise after the selected layer, if one is.
      const state = useStudio.getState();
      const place: InsertPlace =
        edge !== null
          ? { edge }
          : state.selection.length === 1
            ? { after: state.selection[0] }
            : null;
      addLayer(item, { x: at.x - NODE_WIDTH / 2, y: at.y - 20 }, place);
    },
    [flow],
  );

  const menu = useCallback(
    (kind: MenuRequest['kind'], event: ReactMouseEvent | MouseEvent) => {
      event.preventDefault();
      onContextMenu({
        kind,
        x: event.clientX,
        y: event.clientY,
        at: flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }),
      });
    },
    [flow, onContextMenu],
  );

  return (
    <div
      ref={pane}
      className={scope.length > 0 ? 'canvas in-block' : 'canvas'}
      role="application"
      aria-label="Network canvas"
      onDragOver={onDragOver}
      onDragLeave={() => setDropEdge(null)}
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
        onConnectStart={() => useStudio.getState().setHint(null)}
        onConnectEnd={(_event, state) => {
          // Dropped on a port that refused the connection: say why.
          if (state.fromNode && state.toNode && !state.isValid) {
            const check = checkConnection(
              currentGraph(useStudio.getState()),
              state.fromNode.id,
              state.toNode.id,
            );
            if (!check.ok) useStudio.getState().setHint(check.reason);
          }
        }}
        isValidConnection={isValidConnection}
        onMoveStart={(event) => {
          // Panned or zoomed by hand (not by a fit): leave the view where the user put it.
          if (event) useStudio.getState().viewMoved();
        }}
        onNodeDragStart={() => {
          dragKey.current = `move:${Date.now()}`;
        }}
        onNodeDoubleClick={(_event, node) => {
          useStudio.getState().select([node.id]);
          run('openBlock');
        }}
        onNodeContextMenu={(event, node) => {
          const store = useStudio.getState();
          if (!store.selection.includes(node.id)) store.select([node.id]);
          menu('node', event);
        }}
        onSelectionContextMenu={(event) => menu('node', event)}
        onEdgeContextMenu={(event, edge) => {
          useStudio.getState().select([], [edge.id]);
          menu('edge', event);
        }}
        onPaneContextMenu={(event) => {
          // The canvas's menu is about that spot: "Add layer here" must not follow a selection.
          useStudio.getState().select([]);
          menu('pane', event);
        }}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control']}
        connectionRadius={28}
        zoomOnDoubleClick={false}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        minZoom={0.1}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
        defaultEdgeOptions={{ type: 'smoothstep' }}
      >
        <Background gap={20} size={1} />
        {minimap && (
          <MiniMap
            pannable
            zoomable
            className="minimap"
            nodeBorderRadius={6}
            ariaLabel="Map of the graph: click to go there"
            onClick={(_event, at) =>
              void flow.setCenter(at.x, at.y, { zoom: flow.getZoom(), duration: 200 })
            }
          />
        )}
      </ReactFlow>
      {hint && (
        <div className="canvas-hint" role="status">
          {hint}
          <button
            type="button"
            className="link"
            onClick={() => useStudio.getState().setHint(null)}
            aria-label="Dismiss"
          >
            ×
          </button>
        </div>
      )}
    </div>
  );
}
