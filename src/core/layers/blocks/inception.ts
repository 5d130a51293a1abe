/**
 * The Inception block of the course (d2l `Inception`, GoogLeNet): four paths
 * on the same input, concatenated along channels:
 * 1×1 conv; 1×1 conv → 3×3 conv; 1×1 conv → 5×5 conv; 3×3 max pool → 1×1 conv,
 * each convolution followed by ReLU.
 */
import { ShapeError } from '../../shape';
import { int, intList } from '../fields';
import { defineBlock } from '../types';
import { BLOCK_INPUT, SubgraphBuilder } from './subgraph';

function twoChannels(name: 'c2' | 'c3', value: number[]): [number, number] {
  if (value.length !== 2) {
    throw new ShapeError(
      `${name} needs two channel counts [1×1 reduction, ${name === 'c2' ? '3×3' : '5×5'} output] but has ${value.length}`,
      name,
    );
  }
  return [value[0], value[1]];
}

export const Inception = defineBlock({
  type: 'Inception',
  label: 'Inception',
  category: 'blocks',
  description:
    'Four parallel paths (1×1, 1×1→3×3, 1×1→5×5, max pool→1×1) concatenated along channels (GoogLeNet).',
  inputs: { min: 1, max: 1 },
  fields: {
    c1: int({ default: 64, min: 1, help: 'Path 1: channels of the 1×1 convolution.' }),
    c2: intList({
      default: [96, 128],
      help: 'Path 2: channels of the 1×1 reduction and of the 3×3 convolution.',
    }),
    c3: intList({
      default: [16, 32],
      help: 'Path 3: channels of the 1×1 reduction and of the 5×5 convolution.',
    }),
    c4: int({
      default: 32,
      min: 1,
      help: 'Path 4: channels of the 1×1 convolution after pooling.',
    }),
  },
  expand(p) {
    const [c2Reduce, c2Out] = twoChannels('c2', p.c2);
    const [c3Reduce, c3Out] = twoChannels('c3', p.c3);
    const g = new SubgraphBuilder();
    // Listed in the order PyTorch's forward runs them, so execution order matches.
    g.add('b1_1', 'Conv2d', { out_channels: p.c1, kernel_size: 1 }, BLOCK_INPUT);
    const path1 = g.add('b1_relu', 'ReLU', {});
    g.add('b2_1', 'Conv2d', { out_channels: c2Reduce, kernel_size: 1 }, BLOCK_INPUT);
    g.add('b2_1_relu', 'ReLU', {});
    g.add('b2_2', 'Conv2d', { out_channels: c2Out, kernel_size: 3, padding: 1 });
    const path2 = g.add('b2_relu', 'ReLU', {});
    g.add('b3_1', 'Conv2d', { out_channels: c3Reduce, kernel_size: 1 }, BLOCK_INPUT);
    g.add('b3_1_relu', 'ReLU', {});
    g.add('b3_2', 'Conv2d', { out_channels: c3Out, kernel_size: 5, padding: 2 });
    const path3 = g.add('b3_relu', 'ReLU', {});
    g.add('b4_1', 'MaxPool2d', { kernel_size: 3, stride: 1, padding: 1 }, BLOCK_INPUT);
    g.add('b4_2', 'Conv2d', { out_channels: p.c4, kernel_size: 1 });
    const path4 = g.add('b4_relu', 'ReLU', {});
    g.add('concat', 'Concat', {}, [path1, path2, path3, path4]);
    return g.build();
  },
});
