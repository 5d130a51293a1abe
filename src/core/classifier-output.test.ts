import { describe, expect, it } from 'vitest';
import { classifierOutputIssue } from './classifier-output';
import { inferGraph } from './infer';
import { getPreset } from './presets';

const infer = (name: string, edit = (p: ReturnType<typeof build>) => p) =>
  inferGraph(edit(build(name)));
const build = (name: string) => getPreset(name)!.build();

describe('a classifier’s output against its dataset', () => {
  it('accepts LeNet, NiN and ResNet-18 for ten classes', () => {
    for (const name of ['lenet', 'nin', 'resnet18'])
      expect(classifierOutputIssue(infer(name), 10, 'Fashion-MNIST')).toBeNull();
  });

  it('names the last Linear and its field when the count is wrong', () => {
    const seven = infer('lenet', (p) => ({
      ...p,
      nodes: p.nodes.map((n) => (n.id === 'fc3' ? { ...n, params: { out_features: 7 } } : n)),
    }));
    expect(classifierOutputIssue(seven, 10, 'Fashion-MNIST')).toEqual({
      nodeId: 'fc3',
      field: 'out_features',
      message:
        "the network ends in 1×7 but Fashion-MNIST has 10 classes: its last layer must give 10 outputs (set fc3's out_features to 10)",
    });
  });

  it('says to flatten and add a Linear when the network does not end in N×classes', () => {
    const cut = infer('lenet', (p) => {
      const keep = new Set(p.nodes.slice(0, 7).map((n) => n.id));
      return {
        ...p,
        nodes: p.nodes.filter((n) => keep.has(n.id)),
        edges: p.edges.filter((e) => keep.has(e.source) && keep.has(e.target)),
      };
    });
    expect(classifierOutputIssue(cut, 10, 'MNIST')?.message).toBe(
      "the network ends in 1×16×5×5, but a classifier of MNIST's 10 classes must end in N×10: add Flatten and a Linear with out_features 10 at the end",
    );
  });

  it('finds the layer inside a block of one’s own, and stops at a catalog block', () => {
    expect(classifierOutputIssue(infer('resnet18'), 5, 'a folder')).toMatchObject({
      nodeId: 'last/2',
      field: 'out_features',
    });
    const nin = classifierOutputIssue(infer('nin'), 5, 'a folder');
    expect(nin?.field).toBeUndefined();
    expect(nin?.message).toMatch(/its last layer is inside the block/);
  });
});
