/**
 * A catalog block opened (VGG, Residual, Inception, …): its inside, made from
 * its parameters, laid out to fit and drawn read-only with each inner layer's
 * shape. Blocks inside open further; the trail leads back out. To change the
 * inside itself, ungroup the block into layers. (Blocks of the user's own
 * open on the canvas instead, where they are edited.)
 */
import {
  Background,
  Handle,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
} from '@xyflow/react';
import { memo, useMemo, useState } from 'react';
import type { ProjectNode } from '../../core/document/schema';
import type { NodeInfo } from '../../core/infer';
import { getLayerDef } from '../../core/layers/registry';
import { type LayoutDirection, layoutDirectionOf, layoutGraph } from '../state/layout';
import { useStudio } from '../state/store';
import { countText, keyParams, shapeText } from './format';

type InnerData = {
  info: NodeInfo;
  params: Record<string, unknown>;
  direction: LayoutDirection;
  onOpen(id: string): void;
};
type InnerNode = Node<InnerData, 'inner'>;

const InnerLayer = memo(function InnerLayer({ data }: NodeProps<InnerNode>) {
  const { info } = data;
  const def = getLayerDef(info.type);
  const name = info.id.slice(info.id.lastIndexOf('/') + 1);
  const [into, out] =
    data.direction === 'LR' ? [Position.Left, Position.Right] : [Position.Top, Position.Bottom];
  return (
    <div
      className={`layer-node cat-${def?.category ?? 'unknown'}${info.error ? ' has-error' : ''}`}
    >
      {def?.inputs.max !== 0 && (
        <Handle type="target" position={into} className="port" isConnectable={false} />
      )}
      <div className="layer-node-head">
        <span className="layer-type">{info.type === 'Input' ? 'Block input' : info.type}</span>
        <span className="layer-id">{info.label ?? name}</span>
      </div>
      {def && info.type !== 'Input' && (
        <div className="layer-params">{keyParams(def, data.params)}</div>
      )}
      {info.error ? (
        <div className="layer-error" title={info.error}>
          {info.error}
        </div>
      ) : (
        <div className="layer-foot">
          <span className="layer-shape">{shapeText(info.outputShape)}</span>
          <span className="layer-count">
            {info.paramCount > 0 ? `${countText(info.paramCount)} params` : ''}
          </span>
        </div>
      )}
      {info.children && (
        <button type="button" className="open-block nodrag" onClick={() => data.onOpen(info.id)}>
          Open ▸
        </button>
      )}
      <Handle type="source" position={out} className="port" isConnectable={false} />
    </div>
  );
});

const nodeTypes = { inner: InnerLayer };

/** Room the view gives the graph (the dialog is 90% × 84% of the window, less its header). */
function viewSize() {
  return { width: window.innerWidth * 0.9 - 60, height: window.innerHeight * 0.84 - 90 };
}

export function BlockView({ pathId, onClose }: { pathId: string; onClose(): void }) {
  const [trail, setTrail] = useState([pathId]);
  const inference = useStudio((s) => s.inference);
  const project = useStudio((s) => s.project);
  const direction = layoutDirectionOf(project);
  const current = trail.at(-1)!;
  const info = inference.byId.get(current);

  const graph = useMemo(() => {
    // Inference expanded the block once, with the shape entering it: its layers and edges.
    if (!info?.children || !info.childEdges) return null;
    const prefix = `${current}/`;
    const children = new Map(info.children.map((child) => [child.id.slice(prefix.length), child]));
    const nodes: ProjectNode[] = [...children].map(([id, child]) => ({
      id,
      type: child.type,
      params: child.params ?? {},
    }));
    const laidOut = layoutGraph({ nodes, edges: info.childEdges }, { direction, view: viewSize() });
    const flowNodes: InnerNode[] = laidOut.nodes.flatMap((n) => {
      const child = children.get(n.id);
      if (!child) return [];
      return [
        {
          id: n.id,
          type: 'inner' as const,
          position: n.position!,
          data: {
            info: child,
            params: n.params,
            direction,
            onOpen: (id: string) => setTrail((t) => [...t, id]),
          },
          draggable: false,
          connectable: false,
        },
      ];
    });
    return {
      nodes: flowNodes,
      edges: info.childEdges.map((e, i) => ({
        id: `${i}`,
        source: e.source,
        target: e.target,
        type: 'smoothstep',
      })),
    };
  }, [info, current, direction]);

  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Inside the block">
      <div className="modal block-view">
        <header className="modal-head">
          <nav className="trail">
            {trail.map((id, i) => (
              <button
                key={id}
                type="button"
                className="link"
                onClick={() => setTrail(trail.slice(0, i + 1))}
                disabled={i === trail.length - 1}
              >
                {id.slice(id.lastIndexOf('/') + 1)}{' '}
                <span className="muted">({inference.byId.get(id)?.type})</span>
              </button>
            ))}
          </nav>
          <span className="muted">
            Made from the block’s parameters (change them in the inspector). To edit the inside
            itself, ungroup the block into layers.
          </span>
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </header>
        <div className="block-canvas">
          {graph ? (
            // A new view for each level, so each opens fitted.
            <ReactFlowProvider key={current}>
              <ReactFlow
                nodes={graph.nodes}
                edges={graph.edges}
                nodeTypes={nodeTypes}
                fitView
                fitViewOptions={{ maxZoom: 1, padding: 0.05 }}
                nodesConnectable={false}
                nodesDraggable={false}
                proOptions={{ hideAttribution: true }}
                minZoom={0.1}
              >
                <Background gap={20} size={1} />
              </ReactFlow>
            </ReactFlowProvider>
          ) : (
            <p className="muted pad">
              {info?.error ?? 'This block has nothing to show until its input is connected.'}
            </p>
          )}
        </div>
      </div>
    </div>
  );
}
