import { describe, expect, it } from 'vitest';
import { ProjectError } from './issues';
import { getPreset } from './presets/index';
import { formatBytes, formatCount, formatSummaryText, summarize } from './summary';

describe('layer summary', () => {
  const lenet = summarize(getPreset('lenet')!.build());

  it('has one row per top-level layer with shape, params, MACs, receptive field and memory', () => {
    expect(lenet.layers).toHaveLength(12);
    expect(lenet.layers[0]).toEqual({
      name: 'conv1',
      path: 'conv1',
      type: 'Conv2d',
      outputShape: [1, 6, 28, 28],
      params: 156,
      // 6 kernels of 5×5×1 at each of the 28×28 outputs
      macs: 6 * 28 * 28 * 25,
      receptiveField: [5, 5],
      memoryBytes: 6 * 28 * 28 * 4,
    });
    // 5×5 conv, 2×2/2 pool, 5×5 conv: 5 + 1 + 4·2 = 14, pool: + 1·2 = 16
    expect(lenet.layers[5].receptiveField).toEqual([16, 16]);
    expect(lenet.totalParams).toBe(61_706);
    expect(lenet.macs).toBe(lenet.layers.reduce((s, l) => s + l.macs, 0));
    expect(lenet.inputShape).toEqual([1, 1, 28, 28]);
    expect(lenet.outputShape).toEqual([1, 10]);
  });

  it('scales MACs and memory with the batch', () => {
    const batch8 = summarize(getPreset('lenet')!.build(), { inputShape: [8, 1, 28, 28] });
    expect(batch8.macs).toBe(8 * lenet.macs);
    expect(batch8.memoryBytes).toBe(8 * lenet.memoryBytes);
    expect(batch8.totalParams).toBe(lenet.totalParams);
  });

  it('gives blocks their layers as children, without the block’s Input', () => {
    const resnet = summarize(getPreset('resnet18')!.build());
    const b3 = resnet.layers.find((l) => l.name === 'b3')!;
    expect(b3.children!.map((c) => `${c.name}:${c.type}`)).toEqual(['0:Residual', '1:Residual']);
    const first = b3.children![0];
    expect(first.path).toBe('b3/0');
    expect(first.children!.map((c) => c.name)).toEqual([
      'conv1',
      'bn1',
      'relu1',
      'conv2',
      'bn2',
      'conv3',
      'add',
      'relu2',
    ]);
    expect(b3.params).toBe(b3.children!.reduce((s, c) => s + c.params, 0));
  });

  it('reads like the course’s layer_summary, in aligned columns', () => {
    const text = formatSummaryText(lenet);
    const lines = text.split('\n');
    const conv1 = lines.find((l) => l.startsWith('conv1'))!;
    expect(conv1).toMatch(/Conv2d output shape:\s+\[1, 6, 28, 28\]\s+156\s/);
    expect(lines.find((l) => l.startsWith('fc3'))).toMatch(
      /Linear output shape:\s+\[1, 10\]\s+850/,
    );
    // The shape column starts at the same place on every row.
    const rows = lines.filter((l) => l.includes('output shape:'));
    expect(new Set(rows.map((l) => l.indexOf('['))).size).toBe(1);
    expect(text).toContain('Total params: 61,706');
  });

  it('lists the layers inside blocks, indented, when asked', () => {
    const resnet = summarize(getPreset('resnet18')!.build());
    expect(formatSummaryText(resnet)).not.toMatch(/conv1/);
    const expanded = formatSummaryText(resnet, { expand: true });
    expect(expanded).toMatch(/\n {4}conv3 +Conv2d output shape: +\[1, 128, 12, 12\]/);
  });

  it('refuses a project with problems, naming the node', () => {
    const project = getPreset('lenet')!.build();
    const broken = { ...project, edges: [...project.edges, { source: 'fc3', target: 'conv1' }] };
    expect(() => summarize(broken)).toThrow(ProjectError);
    expect(() => summarize(broken)).toThrow(/cycle/);
  });

  it('formats counts and bytes for people', () => {
    expect(formatCount(4_704)).toBe('4,704');
    expect(formatCount(117_600)).toBe('117.6K');
    expect(formatCount(319_081_472)).toBe('319.1M');
    expect(formatBytes(40)).toBe('40 B');
    expect(formatBytes(18_816)).toBe('18.4 KiB');
  });
});
