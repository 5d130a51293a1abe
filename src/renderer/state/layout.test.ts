import { describe, expect, it } from 'vitest';
import type { Project } from '../../core/document/schema';
import { DenseBlock } from '../../core/layers/blocks/dense';
import { Residual } from '../../core/layers/blocks/residual';
import { getPreset } from '../../core/presets';
import { layoutGraph, NODE_WIDTH } from './layout';

const lenet = () => getPreset('lenet')!.build();

function boxes(graph: ReturnType<typeof lenet>) {
  return graph.nodes.map((n) => ({ id: n.id, ...n.position!, width: NODE_WIDTH, height: 80 }));
}

function overlapping(list: ReturnType<typeof boxes>): string[] {
  const hits: string[] = [];
  for (const [i, a] of list.entries())
    for (const b of list.slice(i + 1))
      if (
        a.x < b.x + b.width &&
        b.x < a.x + a.width &&
        a.y < b.y + b.height &&
        b.y < a.y + a.height
      )
        hits.push(`${a.id}/${b.id}`);
  return hits;
}

describe('automatic layout', () => {
  it('draws a chain as one column without a view to fit', () => {
    const laidOut = layoutGraph(lenet());
    expect(new Set(laidOut.nodes.map((n) => n.position!.x)).size).toBe(1);
  });

  it('folds LeNet into columns that fit a 880×600 canvas at a readable zoom, in flow order', () => {
    const laidOut = layoutGraph(lenet(), { view: { width: 880, height: 600 } });
    const columns = [...new Set(laidOut.nodes.map((n) => n.position!.x))].sort((a, b) => a - b);
    expect(columns.length).toBeGreaterThan(1);
    const list = boxes(laidOut);
    expect(overlapping(list)).toEqual([]);
    const width = Math.max(...list.map((b) => b.x + b.width)) - Math.min(...list.map((b) => b.x));
    const height = Math.max(...list.map((b) => b.y + b.height)) - Math.min(...list.map((b) => b.y));
    expect(Math.min(880 / width, 600 / height)).toBeGreaterThan(0.6);
    // Each column continues where the last one ended: the flow reads down, then across.
    const order = laidOut.nodes.map((n) => [columns.indexOf(n.position!.x), n.position!.y]);
    for (let i = 1; i < order.length; i++)
      expect(order[i][0] > order[i - 1][0] || order[i][1] > order[i - 1][1]).toBe(true);
  });

  it('lays out left to right, folding into rows', () => {
    const laidOut = layoutGraph(lenet(), { direction: 'LR', view: { width: 880, height: 600 } });
    const [input, conv] = laidOut.nodes;
    expect(conv.position!.x).toBeGreaterThan(input.position!.x);
    expect(conv.position!.y).toBe(input.position!.y);
    expect(new Set(laidOut.nodes.map((n) => n.position!.y)).size).toBeGreaterThan(1);
    expect(overlapping(boxes(laidOut))).toEqual([]);
  });

  it('never folds across a branch: a skip connection stays within one column', () => {
    const inside = Residual.expand(
      { num_channels: 8, use_1x1conv: false, strides: 1 },
      { blocks: {}, input: [1, 8, 16, 16] },
    );
    // Two residual units in a row, as a user draws them at the top level.
    const rename = (suffix: string) => (id: string) =>
      id === 'input' ? 'input' : `${id}${suffix}`;
    const unit = (suffix: string, entry: string) => ({
      nodes: inside.nodes
        .filter((n) => n.type !== 'Input')
        .map((n) => ({ ...n, id: rename(suffix)(n.id), params: n.params ?? {} })),
      edges: inside.edges.map((e) => ({
        source: e.source === 'input' ? entry : rename(suffix)(e.source),
        target: rename(suffix)(e.target),
      })),
    });
    // Two residual units with a pooling layer between them: the one place a fold may fall.
    const a = unit('a', 'input');
    const b = unit('b', 'pool');
    const graph: Pick<Project, 'nodes' | 'edges'> = {
      nodes: [
        { id: 'input', type: 'Input', params: {} },
        ...a.nodes,
        { id: 'pool', type: 'MaxPool2d', params: { kernel_size: 2 } },
        ...b.nodes,
      ],
      edges: [...a.edges, { source: 'relu2a', target: 'pool' }, ...b.edges],
    };
    const laidOut = layoutGraph(graph, { view: { width: 1200, height: 700 } });
    const at = (id: string) => laidOut.nodes.find((n) => n.id === id)!.position!;
    // Folded: the second unit is in a later column, starting back at the top.
    expect(at('pool').y).toBeLessThan(at('adda').y);
    expect(at('pool').x).toBeGreaterThan(at('adda').x + 200);
    const column = (id: string) => Math.floor((at(id).x + NODE_WIDTH / 2) / 380);
    // Each unit's skip connection (its input to its Add) lies within one column.
    expect(column('input')).toBe(column('adda'));
    expect(column('pool')).toBe(column('addb'));
  });

  it('folds a DenseBlock, whose every unit is skipped over, where one layer’s output forks', () => {
    const inside = DenseBlock.expand(
      { num_convs: 4, num_channels: 32 },
      { blocks: {}, input: [1, 64, 24, 24] },
    );
    const graph = {
      nodes: inside.nodes.map((n) => ({ ...n, params: n.params ?? {} })),
      edges: inside.edges,
    };
    const view = { width: 1200, height: 650 };
    const laidOut = layoutGraph(graph, { view });
    const list = boxes(laidOut as ReturnType<typeof lenet>);
    expect(new Set(list.map((b) => b.x)).size).toBeGreaterThan(2);
    expect(overlapping(list)).toEqual([]);
    const width = Math.max(...list.map((b) => b.x + b.width)) - Math.min(...list.map((b) => b.x));
    const height = Math.max(...list.map((b) => b.y + b.height)) - Math.min(...list.map((b) => b.y));
    expect(Math.min(view.width / width, view.height / height)).toBeGreaterThan(0.6);
  });
});
