/** Block settings checked against the course's PyTorch definitions, with the input each gets. */
import type { Shape } from '../../src/core/shape';

export interface BlockCase {
  type: string;
  params: Record<string, unknown>;
  input: Shape;
}

export const blockCases: BlockCase[] = [
  { type: 'VGGBlock', params: { num_convs: 2, out_channels: 8 }, input: [2, 3, 16, 16] },
  {
    type: 'NiNBlock',
    params: { out_channels: 8, kernel_size: 5, strides: 2, padding: 1 },
    input: [2, 3, 17, 17],
  },
  { type: 'Inception', params: { c1: 4, c2: [3, 6], c3: [2, 5], c4: 7 }, input: [2, 5, 9, 9] },
  {
    type: 'Residual',
    params: { num_channels: 3, use_1x1conv: false, strides: 1 },
    input: [4, 3, 6, 6],
  },
  {
    type: 'Residual',
    params: { num_channels: 6, use_1x1conv: true, strides: 2 },
    input: [4, 3, 6, 6],
  },
  {
    type: 'ResNeXtBlock',
    params: { num_channels: 32, groups: 16, bot_mul: 1, use_1x1conv: false, strides: 1 },
    input: [4, 32, 12, 12],
  },
  {
    type: 'ResNeXtBlock',
    params: { num_channels: 24, groups: 4, bot_mul: 0.25, use_1x1conv: true, strides: 2 },
    input: [2, 16, 9, 9],
  },
  { type: 'DenseBlock', params: { num_convs: 2, num_channels: 10 }, input: [4, 3, 8, 8] },
  { type: 'TransitionBlock', params: { num_channels: 10 }, input: [4, 23, 8, 8] },
];

/** A graph of one block applied to the input. */
export function blockGraph(c: BlockCase) {
  return {
    nodes: [
      { id: 'input', type: 'Input' },
      { id: 'block', type: c.type, params: c.params },
    ],
    edges: [{ source: 'input', target: 'block' }],
  };
}
