/**
 * DenseNet's blocks as in the course (d2l `DenseBlock`, `transition_block`).
 * A dense block repeats BatchNorm → ReLU → 3×3 conv and concatenates each
 * result onto its input, so the channels grow by num_channels per convolution;
 * a transition block shrinks channels with a 1×1 conv and halves the size.
 */
import { int } from '../fields';
import { defineBlock } from '../types';
import { SubgraphBuilder } from './subgraph';

export const DenseBlock = defineBlock({
  type: 'DenseBlock',
  label: 'Dense block',
  category: 'blocks',
  description:
    'num_convs × (BatchNorm → ReLU → 3×3 Conv2d), each output concatenated onto its input (DenseNet).',
  inputs: { min: 1, max: 1 },
  fields: {
    num_convs: int({ default: 4, min: 1, help: 'How many convolution blocks.' }),
    num_channels: int({
      default: 32,
      min: 1,
      help: 'Channels each convolution adds (the growth rate).',
    }),
  },
  expand(p) {
    const g = new SubgraphBuilder();
    for (let i = 1; i <= p.num_convs; i++) {
      const x = g.last();
      g.add(`bn${i}`, 'BatchNorm2d', {});
      g.add(`relu${i}`, 'ReLU', {});
      const y = g.add(`conv${i}`, 'Conv2d', {
        out_channels: p.num_channels,
        kernel_size: 3,
        padding: 1,
      });
      g.add(`cat${i}`, 'Concat', {}, [x, y]);
    }
    return g.build();
  },
});

export const TransitionBlock = defineBlock({
  type: 'TransitionBlock',
  label: 'Transition block',
  category: 'blocks',
  description:
    'BatchNorm → ReLU → 1×1 Conv2d → AvgPool2d 2/2: reduces the channels and halves the size between dense blocks.',
  inputs: { min: 1, max: 1 },
  fields: {
    num_channels: int({ default: 64, min: 1, help: 'Output channels of the 1×1 convolution.' }),
  },
  expand(p) {
    // Ids follow nn.Sequential's numbering, as the course's transition_block returns one.
    const g = new SubgraphBuilder();
    g.add('0', 'BatchNorm2d', {});
    g.add('1', 'ReLU', {});
    g.add('2', 'Conv2d', { out_channels: p.num_channels, kernel_size: 1 });
    g.add('3', 'AvgPool2d', { kernel_size: 2, stride: 2 });
    return g.build();
  },
});
