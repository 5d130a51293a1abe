/** One layer on the canvas: type, key parameters, live output shape and parameter count, or its error. */
import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import type { NodeInfo } from '../../core/infer';
import { getLayerDef } from '../../core/layers/registry';
import { useStudio } from '../state/store';
import { countText, keyParams, shapeText } from './format';

export type LayerNodeData = { nodeId: string; onOpenBlock?: (nodeId: string) => void };
export type LayerFlowNode = Node<LayerNodeData, 'layer'>;

function LayerNodeView({ data, selected }: NodeProps<LayerFlowNode>) {
  const node = useStudio((s) => s.project.nodes.find((n) => n.id === data.nodeId));
  const info = useStudio((s) => s.inference.byId.get(data.nodeId));
  if (!node) return null;
  const def = getLayerDef(node.type);
  const error = info?.error;
  const isBlock = def?.expand !== undefined;
  const classes = ['layer-node', `cat-${def?.category ?? 'unknown'}`];
  if (selected) classes.push('selected');
  if (error) classes.push('has-error');
  return (
    <div className={classes.join(' ')} data-node-id={node.id} data-testid={`node-${node.id}`}>
      {def?.inputs.max !== 0 && <Handle type="target" position={Position.Top} className="port" />}
      <div className="layer-node-head">
        <span className="layer-type">
          {node.type === 'Block' ? String(node.params.block || 'Block') : node.type}
        </span>
        <span className="layer-id">{node.label ?? node.id}</span>
      </div>
      {def && (
        <div className="layer-params">
          {node.type === 'Block' ? blockContents(info?.children) : keyParams(def, node.params)}
        </div>
      )}
      <div className="layer-foot">
        <span className="layer-shape" data-testid="shape">
          {error ? '—' : shapeText(info?.outputShape)}
        </span>
        <span className="layer-count">
          {info && info.paramCount > 0 ? `${countText(info.paramCount)} params` : ''}
        </span>
      </div>
      {isBlock && !error && (
        <button
          type="button"
          className="open-block nodrag"
          onClick={() => data.onOpenBlock?.(node.id)}
          title="Show what is inside this block"
        >
          Open ▸
        </button>
      )}
      {error && (
        <div className="layer-error" role="alert" data-testid="node-error" title={error}>
          {error}
        </div>
      )}
      <Handle type="source" position={Position.Bottom} className="port" />
    </div>
  );
}

/** A user block's card lists what it holds, e.g. "Conv2d ×2 · BatchNorm2d ×2 · ReLU". */
function blockContents(children: NodeInfo[] | undefined): string {
  if (!children) return 'your block';
  const counts = new Map<string, number>();
  for (const child of children)
    if (child.type !== 'Input') counts.set(child.type, (counts.get(child.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(' · ');
}

export const LayerNode = memo(LayerNodeView);
