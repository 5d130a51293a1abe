import { beforeEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../core/presets';
import { useStudio } from './store';

const store = () => useStudio.getState();

function add(type: string, at = { x: 0, y: 0 }, params?: Record<string, unknown>): string {
  const added = store().addNode(type, at, params);
  if ('reason' in added) throw new Error(added.reason);
  return added.id;
}

describe('editor store', () => {
  beforeEach(() => store().newProject());

  it('builds LeNet’s first layers and infers their shapes as the course prints them', () => {
    const conv = add('Conv2d', { x: 0, y: 100 }, { out_channels: 6, kernel_size: 5, padding: 2 });
    expect(store().connect('input', conv)).toBeNull();
    const act = add('Sigmoid', { x: 0, y: 200 });
    expect(store().connect(conv, act)).toBeNull();
    expect(store().inference.byId.get(conv)?.outputShape).toEqual([1, 6, 28, 28]);
    expect(store().inference.byId.get(conv)?.paramCount).toBe(156);
  });

  it('undoes and redoes edits; typing in one field is one undo step', () => {
    const conv = add('Conv2d', { x: 0, y: 100 });
    store().connect('input', conv);
    store().setParam(conv, 'out_channels', 1);
    store().setParam(conv, 'out_channels', 16);
    expect(store().inference.byId.get(conv)?.outputShape?.[1]).toBe(16);
    store().undo();
    expect(store().project.nodes.find((n) => n.id === conv)?.params.out_channels).not.toBe(16);
    expect(store().project.nodes.find((n) => n.id === conv)?.params.out_channels).not.toBe(1);
    store().redo();
    expect(store().inference.byId.get(conv)?.outputShape?.[1]).toBe(16);
    store().undo();
    store().undo();
    expect(store().project.edges).toEqual([]);
  });

  it('shows a shape error on the node and clears it on undo', () => {
    store().load(getPreset('lenet')!.build(), null);
    const conv = store().project.nodes.find((n) => n.type === 'Conv2d')!.id;
    store().setParam(conv, 'kernel_size', 40);
    expect(store().inference.byId.get(conv)?.error).toMatch(/larger than its padded input/);
    store().undo();
    expect(store().inference.issues).toEqual([]);
  });

  it('pastes a copy under a new id, and deletes the selection with its edges', () => {
    store().load(getPreset('lenet')!.build(), null);
    const n = store().project.nodes.length;
    const original = store().project.nodes[2];
    store().select([original.id]);
    store().copy();
    store().paste();
    expect(store().project.nodes).toHaveLength(n + 1);
    const [copy] = store().selection;
    expect(copy).not.toBe(original.id);
    expect(store().project.nodes.find((x) => x.id === copy)?.params).toEqual(original.params);
    store().select([original.id]);
    store().deleteSelection();
    expect(store().project.nodes).toHaveLength(n);
    expect(
      store().project.edges.some((e) => e.source === original.id || e.target === original.id),
    ).toBe(false);
  });

  it('lays out presets that come without positions', () => {
    store().load(getPreset('resnet18')!.build(), null);
    const ys = store().project.nodes.map((node) => node.position!.y);
    expect(new Set(ys).size).toBeGreaterThan(5);
    expect(store().dirty).toBe(false);
  });

  it('is clean again when edits are undone back to the saved document', () => {
    store().load(getPreset('lenet')!.build(), 'lenet.json');
    const conv = store().project.nodes.find((n) => n.type === 'Conv2d')!.id;
    store().setParam(conv, 'out_channels', 8);
    expect(store().dirty).toBe(true);
    store().undo();
    expect(store().dirty).toBe(false);
    store().redo();
    store().markSaved('lenet.json');
    expect(store().dirty).toBe(false);
  });

  it('deletes a selected edge, leaving its layers', () => {
    store().load(getPreset('lenet')!.build(), null);
    const edges = store().project.edges.length;
    const [first] = store().project.edges;
    store().select([], [`${first.source}->${first.target}#0`]);
    store().deleteSelection();
    expect(store().project.edges).toHaveLength(edges - 1);
    expect(store().inference.byId.get(first.target)?.error).toMatch(/nothing is connected/);
  });

  it('edits inside a block of one’s own: every use changes, shapes are live, undo works', () => {
    store().load(getPreset('lenet')!.build(), null);
    const [, conv, act] = store().project.nodes.map((n) => n.id);
    store().select([conv, act]);
    expect(store().groupSelection('conv_act')).toBeNull();
    const [first] = store().selection;
    // A second use of the same block, after the first.
    store().select([first]);
    store().copy();
    store().paste();
    const [second] = store().selection;
    expect(store().connect(first, second)).toBeNull();
    expect(store().enterBlock(first)).toBe(true);
    expect(store().scope).toEqual([{ block: 'conv_act', path: first }]);
    const inner = store().project.blocks.conv_act.nodes.find((n) => n.type === 'Conv2d')!.id;
    store().setParam(inner, 'out_channels', 8);
    expect(store().inference.byId.get(`${first}/${inner}`)?.outputShape).toEqual([1, 8, 28, 28]);
    expect(store().inference.byId.get(`${second}/${inner}`)?.params?.out_channels).toBe(8);
    // A layer added inside, after the activation.
    const actInside = store().project.blocks.conv_act.nodes.find((n) => n.type === 'Sigmoid')!.id;
    const added = store().addNode('MaxPool2d', undefined, { kernel_size: 2 }, { after: actInside });
    if ('reason' in added) throw new Error(added.reason);
    expect(store().inference.byId.get(`${first}/${added.id}`)?.outputShape).toEqual([1, 8, 14, 14]);
    expect(store().addNode('Block', { x: 0, y: 0 }, { block: 'conv_act' })).toEqual({
      reason: "the block 'conv_act' cannot contain itself",
    });
    store().undo();
    store().undo();
    expect(store().inference.byId.get(`${first}/${inner}`)?.outputShape).toEqual([1, 6, 28, 28]);
    store().leaveBlock(0);
    expect(store().scope).toEqual([]);
    expect(store().selection).toEqual([first]);
  });

  it('ungroups a block back into its layers; an unused block leaves the palette', () => {
    store().load(getPreset('lenet')!.build(), null);
    const before = store().inference.totals.params;
    const [, conv, act] = store().project.nodes.map((n) => n.id);
    store().select([conv, act]);
    store().groupSelection('pair');
    const [block] = store().selection;
    expect(store().ungroup(block)).toBeNull();
    expect(store().selection).toEqual([conv, act]);
    expect(store().project.blocks).toEqual({});
    expect(store().inference.issues).toEqual([]);
    expect(store().inference.totals.params).toBe(before);
    expect(store().ungroup(conv)).toBe('select a block to ungroup');
  });

  it('reveals a problem inside a user block by opening it and selecting the layer', () => {
    store().load(getPreset('lenet')!.build(), null);
    const [, conv, act] = store().project.nodes.map((n) => n.id);
    store().select([conv, act]);
    store().groupSelection('pair');
    const [block] = store().selection;
    store().reveal(`${block}/${conv}`);
    expect(store().scope.map((s) => s.block)).toEqual(['pair']);
    expect(store().selection).toEqual([conv]);
  });
});
