/** The NiN block of the course (d2l `nin_block`): a convolution, then two 1×1 convolutions, each followed by ReLU. */

import { int, padding, pair } from '../fields';
import { defineBlock } from '../types';
import { SubgraphBuilder } from './subgraph';

export const NiNBlock = defineBlock({
  type: 'NiNBlock',
  idStem: 'nin',
  label: 'NiN block',
  category: 'blocks',
  description:
    'Conv2d + ReLU, then two 1×1 Conv2d + ReLU: a small per-pixel MLP across channels (Network in Network).',
  inputs: { min: 1, max: 1 },
  fields: {
    out_channels: int({ default: 96, min: 1, help: 'Output channels of all three convolutions.' }),
    kernel_size: pair({ default: 11, help: 'Kernel of the first convolution.' }),
    strides: pair({ default: 4, help: 'Stride of the first convolution.' }),
    padding: padding({ default: 0, help: 'Padding of the first convolution.' }),
  },
  expand(p) {
    // Ids follow nn.Sequential's numbering, as the course's nin_block returns one.
    const g = new SubgraphBuilder();
    g.add(
      '0',
      'Conv2d',
      {
        out_channels: p.out_channels,
        kernel_size: p.kernel_size,
        stride: p.strides,
        padding: p.padding,
      },
      g.last(),
      { fields: { kernel_size: 'kernel_size', stride: 'strides', padding: 'padding' } },
    );
    g.add('1', 'ReLU', {});
    g.add('2', 'Conv2d', { out_channels: p.out_channels, kernel_size: 1 });
    g.add('3', 'ReLU', {});
    g.add('4', 'Conv2d', { out_channels: p.out_channels, kernel_size: 1 });
    g.add('5', 'ReLU', {});
    return g.build();
  },
});
