/**
 * Builds a block's inside as a graph of catalog layers. The entry is the node
 * 'input' (type Input, standing for whatever feeds the block); the last node
 * added is the block's output and must be its only sink.
 */
import { formatLimit, LIMITS } from '../../limits';
import { ShapeError } from '../../shape';
import type { InnerFix, Subgraph, SubgraphNode } from '../types';

export const BLOCK_INPUT = 'input';

export class SubgraphBuilder {
  private readonly nodes: SubgraphNode[] = [{ id: BLOCK_INPUT, type: 'Input' }];
  private readonly edges: Subgraph['edges'] = [];
  private readonly fixes: Record<string, InnerFix> = {};

  /**
   * Adds a node fed by `from` (several sources are taken in the order given);
   * returns its id. `fix` says which of the block's parameters fixes a problem of this node.
   */
  add(
    id: string,
    type: string,
    params: Record<string, unknown>,
    from: string | string[] = this.last(),
    fix?: InnerFix,
  ): string {
    // Checked as it grows: a block asked for a billion convolutions must fail at once.
    if (this.nodes.length >= LIMITS.layers) {
      throw new ShapeError(
        `this block would hold more than ${formatLimit(LIMITS.layers)} layers, the studio's limit for a whole network; use smaller numbers`,
      );
    }
    this.nodes.push({ id, type, params });
    for (const source of Array.isArray(from) ? from : [from])
      this.edges.push({ source, target: id });
    if (fix) this.fixes[id] = fix;
    return id;
  }

  /** The id of the node added most recently (the block's input before any). */
  last(): string {
    return this.nodes[this.nodes.length - 1].id;
  }

  build(): Subgraph {
    const fixed = Object.keys(this.fixes).length > 0;
    return { nodes: this.nodes, edges: this.edges, ...(fixed ? { fixes: this.fixes } : {}) };
  }
}
