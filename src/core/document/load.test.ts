import { describe, expect, it } from 'vitest';
import { formatIssue } from '../issues';
import { parseProject } from './load';

const base = {
  format: 'convnet-studio',
  version: 1,
  nodes: [
    { id: 'input', type: 'Input', params: { channels: 1, height: 28, width: 28 } },
    { id: 'conv1', type: 'Conv2d', params: { out_channels: 6, kernel_size: 5, padding: 2 } },
  ],
  edges: [{ source: 'input', target: 'conv1' }],
};

const load = (doc: unknown) => parseProject(JSON.stringify(doc));

describe('project file', () => {
  it('loads a valid project and infers the notes’ first LeNet shape', () => {
    const r = load(base);
    expect(r.ok && r.issues).toEqual([]);
  });

  it('rejects broken JSON with the parser’s reason', () => {
    const r = parseProject('{"format": ');
    expect(r.ok).toBe(false);
    expect(formatIssue(r.issues[0])).toMatch(/not valid JSON/);
  });

  it('refuses a newer file version and says to update', () => {
    const r = load({ ...base, version: 99 });
    expect(r.ok).toBe(false);
    expect(formatIssue(r.issues[0])).toMatch(/newer ConvNet Studio.*update/);
  });

  it('names the node and field of a schema error', () => {
    const r = load({
      ...base,
      nodes: [base.nodes[0], { id: 'conv1', type: 'Conv2d', params: {}, colour: 'red' }],
    });
    expect(r.ok).toBe(false);
    expect(r.issues[0]).toMatchObject({ nodeId: 'conv1' });
  });

  it('names the node and field of a bad parameter', () => {
    const r = load({
      ...base,
      nodes: [base.nodes[0], { id: 'conv1', type: 'Conv2d', params: { kernel_size: 0 } }],
    });
    expect(r.ok && r.issues[0]).toMatchObject({ nodeId: 'conv1', field: 'kernel_size' });
  });

  it('reports a cycle with the loop', () => {
    const r = load({
      ...base,
      nodes: [...base.nodes, { id: 'conv2', type: 'Conv2d' }],
      edges: [
        ...base.edges,
        { source: 'conv1', target: 'conv2' },
        { source: 'conv2', target: 'conv1' },
      ],
    });
    expect(r.ok && formatIssue(r.issues[0])).toMatch(/cycle: conv1 → conv2 → conv1/);
  });

  it('reports a dangling edge and an unknown type by node', () => {
    const dangling = load({
      ...base,
      edges: [...base.edges, { source: 'conv1', target: 'ghost' }],
    });
    expect(dangling.ok && formatIssue(dangling.issues[0])).toMatch(
      /node 'conv1'.*'ghost', which is not a node/,
    );
    const unknown = load({ ...base, nodes: [base.nodes[0], { id: 'conv1', type: 'Conv3d' }] });
    expect(unknown.ok && unknown.issues[0]).toMatchObject({ nodeId: 'conv1', field: 'type' });
  });

  it('names the layer and the numbers of an impossible shape', () => {
    const r = load({
      ...base,
      nodes: [base.nodes[0], { id: 'conv1', type: 'Conv2d', params: { kernel_size: 31 } }],
    });
    expect(r.ok && formatIssue(r.issues[0])).toMatch(
      /node 'conv1'.*kernel 31×31 is larger than its padded input 28×28/,
    );
  });
});
