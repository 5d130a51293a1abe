/** Network in Network as the course defines it (d2l 8.3): NiN blocks, no dense layers, global average pooling. */
import { courseTraining, definePreset, type LayerSpec } from './preset';

const pool: LayerSpec = ['MaxPool2d', { kernel_size: 3, stride: 2 }];

export const nin = definePreset({
  name: 'nin',
  title: 'NiN',
  description:
    'Four NiN blocks with max pooling; the last gives one channel per class, averaged globally.',
  input: [1, 224, 224],
  training: courseTraining(0.05),
  layers: [
    ['NiNBlock', { out_channels: 96, kernel_size: 11, strides: 4, padding: 0 }],
    pool,
    ['NiNBlock', { out_channels: 256, kernel_size: 5, strides: 1, padding: 2 }],
    pool,
    ['NiNBlock', { out_channels: 384, kernel_size: 3, strides: 1, padding: 1 }],
    pool,
    ['Dropout', { p: 0.5 }],
    ['NiNBlock', { out_channels: 10, kernel_size: 3, strides: 1, padding: 1 }],
    ['AdaptiveAvgPool2d', { output_size: 1 }],
    ['Flatten'],
  ],
});
