/**
 * The Residual block of the course (d2l `Residual`):
 * conv1 (3×3, stride) → bn1 → ReLU → conv2 (3×3) → bn2, plus the input
 * (through a 1×1 conv3 with the same stride when use_1x1conv), then ReLU.
 */
import { formatShape, type Shape } from '../../shape';
import { bool, int } from '../fields';
import { defineBlock } from '../types';
import { BLOCK_INPUT, SubgraphBuilder } from './subgraph';

export const Residual = defineBlock({
  type: 'Residual',
  label: 'Residual',
  category: 'blocks',
  description:
    'Two 3×3 Conv2d + BatchNorm with a skip connection added before the last ReLU (ResNet).',
  inputs: { min: 1, max: 1 },
  fields: {
    num_channels: int({ default: 64, min: 1, help: 'Output channels of both convolutions.' }),
    use_1x1conv: bool({
      default: false,
      help: 'Pass the skip connection through a 1×1 convolution; needed when the channels or the stride change.',
    }),
    strides: int({
      default: 1,
      min: 1,
      help: 'Stride of the first convolution (and of the 1×1 shortcut): 2 halves the size.',
    }),
  },
  expand(p) {
    const g = new SubgraphBuilder();
    g.add('conv1', 'Conv2d', {
      out_channels: p.num_channels,
      kernel_size: 3,
      padding: 1,
      stride: p.strides,
    });
    g.add('bn1', 'BatchNorm2d', {});
    g.add('relu1', 'ReLU', {});
    g.add('conv2', 'Conv2d', { out_channels: p.num_channels, kernel_size: 3, padding: 1 });
    const main = g.add('bn2', 'BatchNorm2d', {});
    const shortcut = p.use_1x1conv
      ? g.add(
          'conv3',
          'Conv2d',
          { out_channels: p.num_channels, kernel_size: 1, stride: p.strides },
          BLOCK_INPUT,
        )
      : BLOCK_INPUT;
    g.add('add', 'Add', {}, [main, shortcut], {
      otherwise: { field: 'use_1x1conv', explain: unmatchedShortcut },
    });
    g.add('relu2', 'ReLU', {});
    return g.build();
  },
});

/**
 * A residual block's Add fails when the skip connection (the input itself)
 * does not match the convolutions' output: the block's use_1x1conv fixes it.
 * Shared with the ResNeXt block, whose skip connection works the same way.
 */
export function unmatchedShortcut([main, shortcut]: Shape[]): string {
  return `the convolutions give ${formatShape(main)} but the skip connection carries the block's input, ${formatShape(shortcut)}, so the two cannot be added: turn on use_1x1conv (a 1×1 convolution on the skip connection then gives the block's channels and stride)`;
}
