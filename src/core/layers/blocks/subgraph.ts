/**
 * Builds a block's inside as a graph of catalog layers. The entry is the node
 * 'input' (type Input, standing for whatever feeds the block); the last node
 * added is the block's output and must be its only sink.
 */
import type { Subgraph, SubgraphNode } from '../types';

export const BLOCK_INPUT = 'input';

export class SubgraphBuilder {
  private readonly nodes: SubgraphNode[] = [{ id: BLOCK_INPUT, type: 'Input' }];
  private readonly edges: Subgraph['edges'] = [];

  /** Adds a node fed by `from` (several sources are taken in the order given); returns its id. */
  add(
    id: string,
    type: string,
    params: Record<string, unknown>,
    from: string | string[] = this.last(),
  ): string {
    this.nodes.push({ id, type, params });
    for (const source of Array.isArray(from) ? from : [from])
      this.edges.push({ source, target: id });
    return id;
  }

  /** The id of the node added most recently (the block's input before any). */
  last(): string {
    return this.nodes[this.nodes.length - 1].id;
  }

  build(): Subgraph {
    return { nodes: this.nodes, edges: this.edges };
  }
}
