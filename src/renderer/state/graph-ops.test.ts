import { describe, expect, it } from 'vitest';
import type { Project } from '../../core/document/schema';
import { inferGraph } from '../../core/infer';
import { Residual } from '../../core/layers/blocks/residual';
import {
  checkConnection,
  freshId,
  groupIntoBlock,
  insertNode,
  newNode,
  pasteGraph,
  ungroupBlock,
} from './graph-ops';

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

function grouped(p: Project, ids: string[], name: string): Project {
  const result = groupIntoBlock(p, p.blocks, new Set(ids), name);
  if (!result.ok) throw new Error(result.reason);
  return { ...p, ...result.graph, blocks: { ...p.blocks, [name]: result.block } };
}

describe('graph edits', () => {
  it('names new layers conv1, conv2, … skipping taken ids', () => {
    expect(freshId('conv', ['conv1', 'conv3'])).toBe('conv2');
    // The stem is the type's own (as presets name layers): pool1, fc1, bn1.
    expect(newNode('MaxPool2d', { x: 0, y: 0 }, []).id).toBe('pool1');
    expect(newNode('Linear', { x: 0, y: 0 }, ['fc1']).id).toBe('fc2');
    expect(newNode('Block', { x: 0, y: 0 }, [], { block: 'Stem' }).id).toBe('stem1');
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
    const project = grouped(p, ['conv1', 'relu1'], 'conv_relu');
    const after = inferGraph(project);
    expect(after.issues).toEqual([]);
    expect(after.outputShape).toEqual(before.outputShape);
    expect(after.totals.params).toBe(before.totals.params);
    expect(project.nodes.map((n) => n.type)).toEqual(['Input', 'MaxPool2d', 'Block']);
    expect(after.byId.get('conv_relu1/conv1')?.outputShape).toEqual([1, 6, 28, 28]);
  });

  it('ungroups a block back into the same layers and edges, and the shapes stay', () => {
    const p = chain();
    const project = grouped(p, ['conv1', 'relu1'], 'conv_relu');
    const result = ungroupBlock(project, 'conv_relu1', project.blocks.conv_relu);
    if (!result.ok) throw new Error(result.reason);
    expect(result.ids).toEqual(['conv1', 'relu1']);
    expect(new Set(result.graph.edges.map((e) => `${e.source}->${e.target}`))).toEqual(
      new Set(p.edges.map((e) => `${e.source}->${e.target}`)),
    );
    const after = inferGraph({ ...result.graph, blocks: {} });
    expect(after.issues).toEqual([]);
    expect(after.totals.params).toBe(inferGraph(p).totals.params);
    // The first inner layer takes the block's place; the pool after it moves down to make room.
    const at = (id: string) => result.graph.nodes.find((n) => n.id === id)!.position!;
    expect(at('conv1')).toEqual(project.nodes.find((n) => n.id === 'conv_relu1')!.position);
    expect(at('pool1').y).toBeGreaterThan(at('relu1').y);
  });

  it('ungroups a catalog block: a Residual’s skip connection comes out whole', () => {
    const p = chain();
    const withResidual = {
      ...p,
      nodes: [...p.nodes, { id: 'res', type: 'Residual', params: {}, position: { x: 0, y: 400 } }],
      edges: [...p.edges, { source: 'pool1', target: 'res' }],
    };
    const inside = Residual.expand(
      { num_channels: 6, use_1x1conv: true, strides: 1 },
      { blocks: {}, input: [1, 6, 14, 14] },
    );
    const result = ungroupBlock(withResidual, 'res', inside);
    if (!result.ok) throw new Error(result.reason);
    const into = (id: string) =>
      result.graph.edges.filter((e) => e.target === id).map((e) => e.source);
    const add = result.ids.find((id) => id.startsWith('add'))!;
    expect(into(add)).toHaveLength(2);
    expect(result.graph.edges.filter((e) => e.source === 'pool1').length).toBe(2);
    expect(inferGraph({ ...result.graph, blocks: {} }).outputShape).toEqual([1, 6, 14, 14]);
  });

  it('inserts a layer on an edge, keeping the target’s input place, and makes room after it', () => {
    const p = chain();
    const node = { id: 'bn1', type: 'BatchNorm2d', params: {} };
    const result = insertNode(p, node, { edge: 1 });
    if (!result.ok) throw new Error(result.reason);
    expect(result.graph.edges).toEqual([
      { source: 'input', target: 'conv1' },
      { source: 'bn1', target: 'relu1' },
      { source: 'relu1', target: 'pool1' },
      { source: 'conv1', target: 'bn1' },
    ]);
    const at = (id: string) => result.graph.nodes.find((n) => n.id === id)!.position!;
    expect(at('bn1').y).toBeGreaterThan(at('conv1').y);
    expect(at('relu1').y).toBeGreaterThan(at('bn1').y);
    expect(at('pool1').y).toBeGreaterThan(at('relu1').y);
  });

  it('inserts after a layer: the new layer takes over what it fed', () => {
    const p = chain();
    const result = insertNode(p, { id: 'drop1', type: 'Dropout', params: {} }, { after: 'relu1' });
    if (!result.ok) throw new Error(result.reason);
    expect(result.graph.edges).toContainEqual({ source: 'relu1', target: 'drop1' });
    expect(result.graph.edges).toContainEqual({ source: 'drop1', target: 'pool1' });
    expect(insertNode(p, { id: 'x', type: 'Input', params: {} }, { after: 'relu1' }).ok).toBe(
      false,
    );
  });

  it('explains why a selection cannot become a block', () => {
    const p = chain();
    expect(groupIntoBlock(p, {}, new Set(['input', 'conv1']), 'b')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('Input'),
    });
    expect(groupIntoBlock(p, {}, new Set(['conv1']), 'bad name')).toMatchObject({ ok: false });
  });
});
