/** The VGG block of the course (d2l `vgg_block`): n × (3×3 conv, padding 1, ReLU), then 2×2 max pooling, stride 2. */
import { int } from '../fields';
import { defineBlock } from '../types';
import { SubgraphBuilder } from './subgraph';

export const VGGBlock = defineBlock({
  type: 'VGGBlock',
  idStem: 'block',
  label: 'VGG block',
  category: 'blocks',
  description:
    'n × (3×3 Conv2d with padding 1 + ReLU) then MaxPool2d 2/2: keeps the size through the convolutions, then halves it.',
  inputs: { min: 1, max: 1 },
  fields: {
    num_convs: int({
      default: 1,
      min: 1,
      help: 'How many 3×3 convolutions (each followed by ReLU).',
    }),
    out_channels: int({ default: 64, min: 1, help: 'Output channels of every convolution.' }),
  },
  expand(p) {
    // Ids follow nn.Sequential's numbering, as the course's vgg_block returns one.
    const g = new SubgraphBuilder();
    let index = 0;
    for (let i = 0; i < p.num_convs; i++) {
      g.add(String(index++), 'Conv2d', {
        out_channels: p.out_channels,
        kernel_size: 3,
        padding: 1,
      });
      g.add(String(index++), 'ReLU', {});
    }
    g.add(String(index), 'MaxPool2d', { kernel_size: 2, stride: 2 });
    return g.build();
  },
});
