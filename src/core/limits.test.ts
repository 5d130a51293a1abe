/**
 * What one small project may make the studio compute is bounded: blocks that
 * reuse each other, huge numbers and huge files are refused quickly, naming
 * the limit, instead of stalling the host or exhausting its memory.
 */
import { describe, expect, it } from 'vitest';
import { nestedBlocks } from '../../test/support/hostile-projects';
import { parseProject } from './document/load';
import { inferGraph } from './infer';
import { LIMITS } from './limits';
import { formatSummaryText, summarize } from './summary';

function chain(layers: { type: string; params?: Record<string, unknown> }[]) {
  const nodes = [
    { id: 'input', type: 'Input', params: { channels: 1, height: 28, width: 28 } },
    ...layers.map((l, i) => ({ id: `l${i}`, type: l.type, params: l.params ?? {} })),
  ];
  return { nodes, edges: nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id })) };
}

describe('expansion is bounded', () => {
  it('blocks that use each other nine levels deep (10^10 layers) are refused at the limit', () => {
    const text = JSON.stringify(nestedBlocks(9));
    expect(text.length).toBeLessThan(10_000);
    const loaded = parseProject(text, 'nested.json');
    if (!loaded.ok) throw new Error('the project should load');
    // Unbounded, this would never finish (the test's timeout would fail it).
    const result = inferGraph(loaded.project);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0].message).toMatch(
      /expands to more than 10,000 layers.*blocks that use other blocks multiply/,
    );
    expect(result.issues[0].nodeId).toMatch(/^top(\/u\d)*$/);
  });

  it('a network just under the limit still works', () => {
    // 10 × 10 × 10 convolutions and the Inputs of 111 blocks: 1,113 nodes.
    const result = inferGraph(nestedBlocks(2) as Parameters<typeof inferGraph>[0]);
    expect(result.issues).toEqual([]);
    expect(result.primitives).toHaveLength(1001);
  });

  it('a built-in block asked for a billion convolutions fails on its own field at once', () => {
    const result = inferGraph(chain([{ type: 'VGGBlock', params: { num_convs: 1e9 } }]));
    expect(result.issues[0]).toMatchObject({ nodeId: 'l0' });
    expect(result.issues[0].message).toMatch(/more than 10,000 layers/);
  });
});

describe('sizes are bounded', () => {
  it('a 2^31-channel convolution is refused, naming its weight and the limit', () => {
    const result = inferGraph(
      chain([{ type: 'Conv2d', params: { out_channels: 2 ** 31, kernel_size: 3 } }]),
    );
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0].nodeId).toBe('l0');
    expect(result.issues[0].message).toMatch(
      /Conv2d would output 2147483648×26×26 = 1451.7 G values per image, more than the studio's limit of 268.4 M/,
    );
  });

  it('a Linear whose weight alone is too large', () => {
    const result = inferGraph(
      chain([{ type: 'Flatten' }, { type: 'Linear', params: { out_features: 2 ** 20 } }]),
    );
    expect(result.issues[0].message).toMatch(
      /Linear's weight would be 1048576×784 = 822.1 M values, more than the studio's limit of 268.4 M per tensor/,
    );
  });

  it('a network whose parameters together pass the limit', () => {
    // Each 5000×5000×3×3 weight is within the per-tensor limit; six of them are not.
    const wide = { type: 'Conv2d', params: { out_channels: 5000, kernel_size: 3, padding: 1 } };
    const result = inferGraph(chain([wide, wide, wide, wide, wide, wide]));
    expect(result.totals.params).toBeGreaterThan(LIMITS.params);
    expect(result.issues.map((i) => i.message)).toEqual([
      expect.stringMatching(
        /the network has 1,125,\d{3},\d{3} parameters; the studio trains at most 1,073,741,824/,
      ),
    ]);
  });

  it('an input of a billion pixels is refused at the Input', () => {
    const result = inferGraph({
      nodes: [{ id: 'input', type: 'Input', params: { channels: 3, height: 1e5, width: 1e5 } }],
      edges: [],
    });
    expect(result.issues[0]).toMatchObject({ nodeId: 'input' });
  });
});

describe('large files', () => {
  it('a project of 200,000 layers is refused by count before anything is expanded', () => {
    const { nodes, edges } = chain(Array.from({ length: 200_000 }, () => ({ type: 'ReLU' })));
    const result = inferGraph({ nodes, edges });
    expect(result.issues).toEqual([
      {
        message:
          "the project has 200,001 layers, more than the studio's limit of 10,000 (the largest classic networks have about 1,000); remove layers",
      },
    ]);
  });

  it('the summary of a network at the limit prints without overflowing the stack', () => {
    const { nodes, edges } = chain(
      Array.from({ length: LIMITS.layers - 1 }, () => ({ type: 'ReLU' })),
    );
    const text = formatSummaryText(summarize({ nodes, edges }));
    expect(text.split('\n').length).toBeGreaterThan(LIMITS.layers);
  });

  it('a long cycle is reported without deep recursion', () => {
    const { nodes, edges } = chain(Array.from({ length: 9000 }, () => ({ type: 'ReLU' })));
    edges.push({ source: 'l8999', target: 'l0' });
    const result = inferGraph({ nodes, edges });
    expect(result.issues[0].message).toMatch(/the graph has a cycle: l0 → l1 → /);
  });
});
