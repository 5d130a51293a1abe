/** One layer on the canvas: type, key parameters, live output shape and parameter count, or its error. */
import { Handle, type Node, type NodeProps, Position, useUpdateNodeInternals } from '@xyflow/react';
import { memo, useEffect } from 'react';
import { displayNameOf, getLayerDef } from '../../core/layers/registry';
import { useActions } from '../app/ActionsProvider';
import type { Graph } from '../state/graph-ops';
import type { LayoutDirection } from '../state/layout';
import { currentGraph, pathOf, useStudio } from '../state/store';
import { countText, keyParams, shapeText } from './format';

export type LayerNodeData = {
  nodeId: string;
  direction: LayoutDirection;
  /** Drawn inside a block being edited (its Input is the block's input). */
  inBlock: boolean;
};
export type LayerFlowNode = Node<LayerNodeData, 'layer'>;

function LayerNodeView({ id, data, selected }: NodeProps<LayerFlowNode>) {
  // Ports move when the layout turns (top/bottom ↔ left/right): React Flow must measure them again.
  const updateInternals = useUpdateNodeInternals();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the direction is what moves the ports
  useEffect(() => updateInternals(id), [data.direction, id, updateInternals]);
  const node = useStudio((s) => currentGraph(s).nodes.find((n) => n.id === data.nodeId));
  const info = useStudio((s) => s.inference.byId.get(pathOf(s, data.nodeId)));
  const blocks = useStudio((s) => s.project.blocks);
  const { run } = useActions();
  if (!node) return null;
  const def = getLayerDef(node.type);
  const unconnected = info?.unconnected === true;
  const error = unconnected ? undefined : info?.error;
  const classes = ['layer-node', `cat-${def?.category ?? 'unknown'}`];
  if (selected) classes.push('selected');
  if (error) classes.push('has-error');
  if (unconnected) classes.push('unconnected');
  const [into, out] =
    data.direction === 'LR' ? [Position.Left, Position.Right] : [Position.Top, Position.Bottom];
  const isInput = node.type === 'Input';
  return (
    <div
      className={classes.join(' ')}
      data-node-id={node.id}
      data-testid={`node-${node.id}`}
      title={def?.kind === 'block' ? 'Double-click to open' : undefined}
    >
      {def?.inputs.max !== 0 && <Handle type="target" position={into} className="port" />}
      <div className="layer-node-head">
        <span className="layer-type">
          {isInput && data.inBlock ? 'Block input' : displayNameOf(node.type, node.params)}
        </span>
        <span className="layer-id">{node.label ?? node.id}</span>
      </div>
      {def && !(isInput && data.inBlock) && (
        <div className="layer-params">
          {def.kind === 'block' && def.userDefined
            ? blockContents(blocks[String(node.params.block)])
            : keyParams(def, node.params)}
        </div>
      )}
      {error ? (
        <div className="layer-error" role="alert" data-testid="node-error" title={error}>
          {error}
        </div>
      ) : (
        <div className="layer-foot">
          {unconnected ? (
            <span className="layer-unconnected" data-testid="shape" title={info?.error}>
              not connected
            </span>
          ) : (
            <span
              className={`layer-shape${info?.outputShape ? '' : ' unknown'}`}
              data-testid="shape"
              title={info?.outputShape ? undefined : 'known once the layers before it are'}
            >
              {shapeText(info?.outputShape)}
            </span>
          )}
          <span className="layer-count">
            {info && info.paramCount > 0 ? `${countText(info.paramCount)} params` : ''}
          </span>
        </div>
      )}
      {def?.kind === 'block' && !error && (
        <button
          type="button"
          className="open-block nodrag"
          onClick={() => {
            useStudio.getState().select([node.id]);
            run('openBlock');
          }}
          title="Show what is inside this block (or double-click the card)"
        >
          Open ▸
        </button>
      )}
      <Handle type="source" position={out} className="port" />
    </div>
  );
}

/** A user block's card lists what it holds, e.g. "Conv2d ×2 · BatchNorm2d ×2 · ReLU". */
function blockContents(block: Graph | undefined): string {
  if (!block) return 'no such block';
  const counts = new Map<string, number>();
  for (const child of block.nodes)
    if (child.type !== 'Input') counts.set(child.type, (counts.get(child.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => (n > 1 ? `${type} ×${n}` : type)).join(' · ');
}

export const LayerNode = memo(LayerNodeView);
