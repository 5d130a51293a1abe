/** Projects made to make the studio compute too much, shared by the limit and fault tests. */
import type { ProjectBlock, ProjectInput, ProjectNode } from '../../src/core/document/schema';

/** Block b0 is ten 3×3 convolutions; each b{k} is ten uses of b{k-1}: 10^(depth+1) layers from a few KB. */
export function nestedBlocks(depth: number): ProjectInput {
  const blocks: Record<string, ProjectBlock> = {};
  for (let level = 0; level <= depth; level++) {
    const nodes: ProjectNode[] = [{ id: 'in', type: 'Input', params: {} }];
    for (let i = 0; i < 10; i++) {
      nodes.push(
        level === 0
          ? { id: `c${i}`, type: 'Conv2d', params: { out_channels: 1, kernel_size: 3, padding: 1 } }
          : { id: `u${i}`, type: 'Block', params: { block: `b${level - 1}` } },
      );
    }
    const edges = nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id }));
    blocks[`b${level}`] = { nodes, edges };
  }
  return {
    format: 'convnet-studio',
    version: 1,
    nodes: [
      { id: 'input', type: 'Input', params: { channels: 1, height: 8, width: 8 } },
      { id: 'top', type: 'Block', params: { block: `b${depth}` } },
    ],
    edges: [{ source: 'input', target: 'top' }],
    blocks,
  };
}
