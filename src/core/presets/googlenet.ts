/**
 * GoogLeNet as the course defines it (d2l 8.4): five stages b1…b5 (kept as
 * the project's own blocks, so the summary shows them as the course does) and
 * a dense layer.
 */
import { blockRef, courseTraining, definePreset, type LayerSpec, sequentialBlock } from './preset';

const pool: LayerSpec = ['MaxPool2d', { kernel_size: 3, stride: 2, padding: 1 }];

function inception(c1: number, c2: [number, number], c3: [number, number], c4: number): LayerSpec {
  return ['Inception', { c1, c2, c3, c4 }];
}

export const googlenet = definePreset({
  name: 'googlenet',
  title: 'GoogLeNet',
  description:
    'Nine Inception blocks in three stages after a convolutional stem, global pooling, one dense layer.',
  input: [1, 96, 96],
  training: courseTraining(0.01),
  blocks: {
    b1: sequentialBlock('Stem: 7×7 convolution and max pooling', [
      ['Conv2d', { out_channels: 64, kernel_size: 7, stride: 2, padding: 3 }],
      ['ReLU'],
      pool,
    ]),
    b2: sequentialBlock('1×1 and 3×3 convolutions, max pooling', [
      ['Conv2d', { out_channels: 64, kernel_size: 1 }],
      ['ReLU'],
      ['Conv2d', { out_channels: 192, kernel_size: 3, padding: 1 }],
      ['ReLU'],
      pool,
    ]),
    b3: sequentialBlock('Two Inception blocks, max pooling', [
      inception(64, [96, 128], [16, 32], 32),
      inception(128, [128, 192], [32, 96], 64),
      pool,
    ]),
    b4: sequentialBlock('Five Inception blocks, max pooling', [
      inception(192, [96, 208], [16, 48], 64),
      inception(160, [112, 224], [24, 64], 64),
      inception(128, [128, 256], [24, 64], 64),
      inception(112, [144, 288], [32, 64], 64),
      inception(256, [160, 320], [32, 128], 128),
      pool,
    ]),
    b5: sequentialBlock('Two Inception blocks, global average pooling', [
      inception(256, [160, 320], [32, 128], 128),
      inception(384, [192, 384], [48, 128], 128),
      ['AdaptiveAvgPool2d', { output_size: 1 }],
      ['Flatten'],
    ]),
  },
  layers: [
    blockRef('b1'),
    blockRef('b2'),
    blockRef('b3'),
    blockRef('b4'),
    blockRef('b5'),
    ['Linear', { out_features: 10 }],
  ],
});
