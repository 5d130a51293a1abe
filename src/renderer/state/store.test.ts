import { beforeEach, describe, expect, it } from 'vitest';
import { getPreset } from '../../core/presets';
import { useStudio } from './store';

const store = () => useStudio.getState();

describe('editor store', () => {
  beforeEach(() => store().newProject());

  it('builds LeNet’s first layers and infers their shapes as the course prints them', () => {
    const conv = store().addNode(
      'Conv2d',
      { x: 0, y: 100 },
      { out_channels: 6, kernel_size: 5, padding: 2 },
    );
    expect(store().connect('input', conv)).toBeNull();
    const act = store().addNode('Sigmoid', { x: 0, y: 200 });
    expect(store().connect(conv, act)).toBeNull();
    expect(store().inference.byId.get(conv)?.outputShape).toEqual([1, 6, 28, 28]);
    expect(store().inference.byId.get(conv)?.paramCount).toBe(156);
  });

  it('undoes and redoes edits; typing in one field is one undo step', () => {
    const conv = store().addNode('Conv2d', { x: 0, y: 100 });
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
});
