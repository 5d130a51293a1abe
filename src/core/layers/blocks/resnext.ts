/**
 * The ResNeXt block of the course (d2l `ResNeXtBlock`): 1×1 conv to
 * bot_channels = round(num_channels·bot_mul), a 3×3 grouped conv with
 * bot_channels // groups groups (d2l's `groups` is the channels per group),
 * a 1×1 conv back to num_channels, BatchNorm after each; the shortcut takes a
 * 1×1 conv + BatchNorm when use_1x1conv; then add and ReLU.
 */
import { ShapeError } from '../../shape';
import { bool, float, int } from '../fields';
import { defineBlock } from '../types';
import { unmatchedShortcut } from './residual';
import { BLOCK_INPUT, SubgraphBuilder } from './subgraph';

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export const ResNeXtBlock = defineBlock({
  type: 'ResNeXtBlock',
  label: 'ResNeXt block',
  category: 'blocks',
  description:
    'Bottleneck residual block whose 3×3 convolution is split into groups (ResNeXt), with a skip connection.',
  inputs: { min: 1, max: 1 },
  fields: {
    num_channels: int({ default: 64, min: 1, help: 'Output channels of the block.' }),
    groups: int({
      default: 16,
      min: 1,
      help: 'Channels per group of the 3×3 convolution, as in the course: it gets bot_channels // groups groups.',
    }),
    bot_mul: float({
      default: 1,
      min: 0,
      help: 'Bottleneck width: bot_channels = round(num_channels × bot_mul).',
    }),
    use_1x1conv: bool({
      default: false,
      help: 'Pass the skip connection through a 1×1 convolution + BatchNorm; needed when the channels or the stride change.',
    }),
    strides: int({ default: 1, min: 1, help: 'Stride of the 3×3 convolution and the shortcut.' }),
  },
  expand(p) {
    const botChannels = roundHalfEven(p.num_channels * p.bot_mul);
    const convGroups = Math.floor(botChannels / p.groups);
    if (botChannels < 1) {
      throw new ShapeError(
        `bot_mul ${p.bot_mul} leaves round(${p.num_channels} × ${p.bot_mul}) = ${botChannels} bottleneck channels; raise bot_mul`,
        'bot_mul',
      );
    }
    if (convGroups < 1 || botChannels % convGroups !== 0) {
      throw new ShapeError(
        `groups=${p.groups} channels per group does not fit the ${botChannels} bottleneck channels (the 3×3 convolution would get ${botChannels} // ${p.groups} = ${convGroups} groups); choose groups that divides ${botChannels}`,
        'groups',
      );
    }
    const g = new SubgraphBuilder();
    g.add('conv1', 'Conv2d', { out_channels: botChannels, kernel_size: 1 });
    g.add('bn1', 'BatchNorm2d', {});
    g.add('relu1', 'ReLU', {});
    g.add('conv2', 'Conv2d', {
      out_channels: botChannels,
      kernel_size: 3,
      stride: p.strides,
      padding: 1,
      groups: convGroups,
    });
    g.add('bn2', 'BatchNorm2d', {});
    g.add('relu2', 'ReLU', {});
    g.add('conv3', 'Conv2d', { out_channels: p.num_channels, kernel_size: 1 });
    const main = g.add('bn3', 'BatchNorm2d', {});
    let shortcut = BLOCK_INPUT;
    if (p.use_1x1conv) {
      g.add(
        'conv4',
        'Conv2d',
        { out_channels: p.num_channels, kernel_size: 1, stride: p.strides },
        BLOCK_INPUT,
      );
      shortcut = g.add('bn4', 'BatchNorm2d', {});
    }
    g.add('add', 'Add', {}, [main, shortcut], {
      otherwise: { field: 'use_1x1conv', explain: unmatchedShortcut },
    });
    g.add('relu3', 'ReLU', {});
    return g.build();
  },
});
