/** Shape rules, parameter counts and shape errors of the primitive layers (no tfjs needed). */
import { describe, expect, it } from 'vitest';
import { inferGraph } from '../infer';
import { formatIssue } from '../issues';

type Node = { id: string; type: string; params?: Record<string, unknown> };

/** Input (C×H×W, batch 1) → nodes in a chain. */
function chainGraph([c, h, w]: number[], ...nodes: Node[]) {
  const all = [
    { id: 'input', type: 'Input', params: { channels: c, height: h, width: w } },
    ...nodes,
  ];
  return {
    nodes: all,
    edges: all.slice(1).map((n, i) => ({ source: all[i].id, target: n.id })),
  };
}

/** Input feeding two branches a and b, merged by `merge` (edges in order a, b). */
function mergeGraph(size: number[], a: Node, b: Node, merge: string) {
  const [c, h, w] = size;
  return {
    nodes: [
      { id: 'input', type: 'Input', params: { channels: c, height: h, width: w } },
      a,
      b,
      { id: 'merge', type: merge },
    ],
    edges: [
      { source: 'input', target: a.id },
      { source: 'input', target: b.id },
      { source: a.id, target: 'merge' },
      { source: b.id, target: 'merge' },
    ],
  };
}

const issuesOf = (graph: Parameters<typeof inferGraph>[0]) =>
  inferGraph(graph).issues.map(formatIssue);

describe('shape errors name the layer, the field and the numbers', () => {
  it('Conv2d kernel larger than its padded input', () => {
    const graph = chainGraph([1, 4, 4], {
      id: 'conv',
      type: 'Conv2d',
      params: { kernel_size: [7, 3], padding: 1 },
    });
    expect(issuesOf(graph)).toEqual([
      "node 'conv', field 'kernel_size': Conv2d: kernel 7×3 is larger than its padded input 6×6 (input 4×4 plus padding); use a smaller kernel, more padding, or a larger input",
    ]);
  });

  it('MaxPool2d window larger than its input', () => {
    const graph = chainGraph([3, 2, 2], {
      id: 'pool',
      type: 'MaxPool2d',
      params: { kernel_size: 3 },
    });
    expect(issuesOf(graph)[0]).toMatch(
      /^node 'pool', field 'kernel_size': MaxPool2d: kernel 3×3 is larger than its padded input 2×2/,
    );
  });

  it('pooling padding over half the kernel, as PyTorch refuses', () => {
    const graph = chainGraph([1, 8, 8], {
      id: 'pool',
      type: 'AvgPool2d',
      params: { kernel_size: [3, 4], padding: [2, 1] },
    });
    expect(issuesOf(graph)).toEqual([
      "node 'pool', field 'padding': AvgPool2d: padding 2×1 is more than half the kernel 3×4; PyTorch allows at most 1×2 here, so lower the padding or enlarge the kernel",
    ]);
  });

  it('groups that do not divide the channels', () => {
    const graph = chainGraph([3, 8, 8], {
      id: 'conv',
      type: 'Conv2d',
      params: { out_channels: 4, groups: 2 },
    });
    expect(issuesOf(graph)).toEqual([
      "node 'conv', field 'groups': groups=2 must divide both the input channels (3) and out_channels (4)",
    ]);
  });

  it('Add of unequal shapes lists them', () => {
    const graph = mergeGraph(
      [3, 5, 5],
      { id: 'a', type: 'Conv2d', params: { out_channels: 3, kernel_size: 3, padding: 1 } },
      { id: 'b', type: 'Conv2d', params: { out_channels: 4, kernel_size: 3 } },
      'Add',
    );
    expect(issuesOf(graph)[0]).toMatch(
      /^node 'merge': Add needs inputs of equal shape but got 1×3×5×5, 1×4×3×3; /,
    );
  });

  it('Concat of different heights and widths', () => {
    const graph = mergeGraph(
      [3, 5, 5],
      { id: 'a', type: 'Conv2d', params: { out_channels: 2, kernel_size: 1 } },
      { id: 'b', type: 'Conv2d', params: { out_channels: 2, kernel_size: 3 } },
      'Concat',
    );
    expect(issuesOf(graph)[0]).toMatch(
      /^node 'merge': Concat joins along the channels, so every other dimension must match, but got 1×2×5×5, 1×2×3×3/,
    );
  });

  it('Linear on a feature map asks for a Flatten', () => {
    const graph = chainGraph([1, 28, 28], { id: 'fc', type: 'Linear' });
    expect(issuesOf(graph)).toEqual([
      "node 'fc': Linear needs a 2-D input N×F but got 1×1×28×28; put a Flatten (or global pooling + Flatten) before it",
    ]);
  });

  it('BatchNorm2d and pooling need a feature map', () => {
    const graph = chainGraph(
      [1, 4, 4],
      { id: 'flat', type: 'Flatten' },
      { id: 'bn', type: 'BatchNorm2d' },
    );
    expect(issuesOf(graph)[0]).toMatch(
      /^node 'bn': BatchNorm2d needs a 4-D input N×C×H×W but got 1×16/,
    );
  });

  it('Add with a single input says how many it takes', () => {
    const graph = chainGraph([1, 4, 4], { id: 'sum', type: 'Add' });
    expect(issuesOf(graph)).toEqual([
      "node 'sum': Add takes 2 to any number of inputs but 1 are connected",
    ]);
  });

  it('parameters out of range name the field', () => {
    const graph = chainGraph([1, 4, 4], { id: 'drop', type: 'Dropout', params: { p: 1.5 } });
    expect(issuesOf(graph)).toEqual(["node 'drop', field 'p': p must be at most 1"]);
  });
});

describe('shape rules and parameter counts', () => {
  const infoOf = (graph: Parameters<typeof inferGraph>[0], id: string) => {
    const inference = inferGraph(graph);
    expect(inference.issues).toEqual([]);
    return inference.byId.get(id)!;
  };

  it('pooling: stride defaults to the kernel; the inspector shows the formula', () => {
    const pool = infoOf(
      chainGraph([2, 4, 4], {
        id: 'pool',
        type: 'MaxPool2d',
        params: { kernel_size: 3, padding: 1, stride: 2 },
      }),
      'pool',
    );
    expect(pool.outputShape).toEqual([1, 2, 2, 2]);
    expect(pool.explain).toEqual([
      'H_out = ⌊(H + pad − k) / stride⌋ + 1 = ⌊(4 + 2 − 3) / 2⌋ + 1 = 2',
      'W_out = ⌊(W + pad − k) / stride⌋ + 1 = ⌊(4 + 2 − 3) / 2⌋ + 1 = 2',
    ]);
    const byDefault = infoOf(
      chainGraph([1, 9, 9], { id: 'pool', type: 'AvgPool2d', params: { kernel_size: 3 } }),
      'pool',
    );
    expect(byDefault.outputShape).toEqual([1, 1, 3, 3]);
  });

  it('pooling with ceil_mode rounds up, drops a window that would start past the input, and says so', () => {
    const pool = infoOf(
      chainGraph([1, 5, 8], {
        id: 'pool',
        type: 'MaxPool2d',
        params: { kernel_size: 2, padding: 1, stride: 2, ceil_mode: true },
      }),
      'pool',
    );
    // H: ⌈(5 + 2 − 2) / 2⌉ + 1 = 4, but window 4 would start at 6 − 1 = 5, past the input: 3.
    // W: ⌈(8 + 2 − 2) / 2⌉ + 1 = 5, and window 5 starts at 8 − 1 = 7, inside: 5 (floor: 5).
    expect(pool.outputShape).toEqual([1, 1, 3, 5]);
    expect(pool.explain).toEqual([
      'H_out = ⌈(H + pad − k) / stride⌉ + 1 = ⌈(5 + 2 − 2) / 2⌉ + 1 − 1 (that last window would start past the input) = 3',
      'W_out = ⌈(W + pad − k) / stride⌉ + 1 = ⌈(8 + 2 − 2) / 2⌉ + 1 = 5',
    ]);
    const avg = infoOf(
      chainGraph([1, 8, 8], {
        id: 'pool',
        type: 'AvgPool2d',
        params: { kernel_size: 3, stride: 2, ceil_mode: true },
      }),
      'pool',
    );
    // ⌈(8 − 3) / 2⌉ + 1 = 4 (floor: 3); the last window covers 2 of its 3 rows and columns.
    expect(avg.outputShape).toEqual([1, 1, 4, 4]);
  });

  it('AdaptiveAvgPool2d gives its output size whatever the input', () => {
    const info = infoOf(
      chainGraph([5, 7, 10], {
        id: 'gap',
        type: 'AdaptiveAvgPool2d',
        params: { output_size: [3, 4] },
      }),
      'gap',
    );
    expect(info.outputShape).toEqual([1, 5, 3, 4]);
  });

  it('Flatten → Linear: features C·H·W, parameters in·out + out', () => {
    const graph = chainGraph(
      [16, 5, 5],
      { id: 'flat', type: 'Flatten' },
      { id: 'fc', type: 'Linear', params: { out_features: 120 } },
    );
    expect(infoOf(graph, 'flat').outputShape).toEqual([1, 400]);
    const fc = infoOf(graph, 'fc');
    expect(fc.outputShape).toEqual([1, 120]);
    expect(fc.paramCount).toBe(400 * 120 + 120);
    expect(fc.macs).toBe(400 * 120);
  });

  it('BatchNorm2d counts weight and bias but not its running statistics', () => {
    const bn = infoOf(chainGraph([6, 4, 4], { id: 'bn', type: 'BatchNorm2d' }), 'bn');
    expect(bn.paramCount).toBe(12);
    expect(bn.outputShape).toEqual([1, 6, 4, 4]);
  });

  it('Concat adds up channels; Add keeps the shape', () => {
    const a = { id: 'a', type: 'Conv2d', params: { out_channels: 2, kernel_size: 1 } };
    const b = { id: 'b', type: 'Conv2d', params: { out_channels: 5, kernel_size: 3, padding: 1 } };
    expect(infoOf(mergeGraph([3, 6, 6], a, b, 'Concat'), 'merge').outputShape).toEqual([
      1, 7, 6, 6,
    ]);
    const same = { ...b, params: { out_channels: 2, kernel_size: 3, padding: 1 } };
    expect(infoOf(mergeGraph([3, 6, 6], a, same, 'Add'), 'merge').outputShape).toEqual([
      1, 2, 6, 6,
    ]);
  });

  it('activations, Dropout and Softmax keep the shape and have no parameters', () => {
    for (const type of ['ReLU', 'Sigmoid', 'Tanh', 'LeakyReLU', 'GELU', 'Softmax', 'Dropout']) {
      const info = infoOf(chainGraph([3, 4, 4], { id: 'act', type }), 'act');
      expect(info.outputShape).toEqual([1, 3, 4, 4]);
      expect(info.paramCount).toBe(0);
    }
  });
});
