import { describe, expect, it } from 'vitest';
import type { Project } from '../../core/document/schema';
import { inferGraph } from '../../core/infer';
import { checkConnection, freshId, groupIntoBlock, pasteGraph } from './graph-ops';

function chain(): Project {
  return {
    format: 'convnet-studio',
    version: 1,
    name: 't',
    blocks: {},
    nodes: [
      { id: 'input', type: 'Input', params: { channels: 1, height: 28, width: 28 } },
      {
        id: 'conv1',
        type: 'Conv2d',
        params: { out_channels: 6, kernel_size: 5, padding: 2 },
        position: { x: 0, y: 100 },
      },
      { id: 'relu1', type: 'ReLU', params: {}, position: { x: 0, y: 200 } },
      { id: 'pool1', type: 'MaxPool2d', params: { kernel_size: 2 }, position: { x: 0, y: 300 } },
    ],
    edges: [
      { source: 'input', target: 'conv1' },
      { source: 'conv1', target: 'relu1' },
      { source: 'relu1', target: 'pool1' },
    ],
  };
}

describe('graph edits', () => {
  it('names new layers conv1, conv2, … skipping taken ids', () => {
    expect(freshId('Conv2d', ['conv1', 'conv3'])).toBe('conv2');
    expect(freshId('MaxPool2d', [])).toBe('maxpool1');
  });

  it('refuses cycles, duplicates, self loops and a second input to a one-input layer', () => {
    const p = chain();
    expect(checkConnection(p, 'pool1', 'conv1')).toEqual({
      ok: false,
      reason: expect.stringContaining('cycle'),
    });
    expect(checkConnection(p, 'conv1', 'relu1')).toEqual({
      ok: false,
      reason: expect.stringContaining('already'),
    });
    expect(checkConnection(p, 'conv1', 'conv1').ok).toBe(false);
    expect(checkConnection(p, 'input', 'relu1')).toEqual({
      ok: false,
      reason: 'ReLU takes at most 1 input',
    });
    expect(checkConnection(p, 'pool1', 'input').ok).toBe(false);
  });

  it('pastes a copy with fresh ids and its internal edges, shifted', () => {
    const p = chain();
    const piece = { nodes: p.nodes.slice(1, 3), edges: [p.edges[1]] };
    const { graph, ids } = pasteGraph(p, piece, { x: 40, y: 40 });
    expect(ids).toEqual(['conv2', 'relu2']);
    expect(graph.edges.at(-1)).toEqual({ source: 'conv2', target: 'relu2' });
    expect(graph.nodes.find((n) => n.id === 'conv2')?.position).toEqual({ x: 40, y: 140 });
  });

  it('groups a chain into a user block that infers to the same shapes and parameters', () => {
    const p = chain();
    const before = inferGraph(p);
    const grouped = groupIntoBlock(p, new Set(['conv1', 'relu1']), 'conv_relu');
    if (!grouped.ok) throw new Error(grouped.reason);
    const after = inferGraph(grouped.project);
    expect(after.issues).toEqual([]);
    expect(after.outputShape).toEqual(before.outputShape);
    expect(after.totals.params).toBe(before.totals.params);
    expect(grouped.project.nodes.map((n) => n.type)).toEqual(['Input', 'MaxPool2d', 'Block']);
    expect(after.byId.get(`${grouped.blockNodeId}/conv1`)?.outputShape).toEqual([1, 6, 28, 28]);
  });

  it('explains why a selection cannot become a block', () => {
    const p = chain();
    expect(groupIntoBlock(p, new Set(['input', 'conv1']), 'b')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('Input'),
    });
    expect(groupIntoBlock(p, new Set(['conv1']), 'bad name')).toMatchObject({ ok: false });
  });
});
