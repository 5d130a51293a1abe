/**
 * DenseNet as the course defines it (d2l 8.7): a stem, four dense blocks of
 * four convolutions (growth rate 32) with transition blocks halving the
 * channels between them, and a BatchNorm-ReLU-pooling head.
 */
import { blockRef, courseTraining, definePreset, type LayerSpec, sequentialBlock } from './preset';

const STEM_CHANNELS = 64;
const GROWTH_RATE = 32;
const ARCH = [4, 4, 4, 4];

function denseLayers(): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let channels = STEM_CHANNELS;
  ARCH.forEach((numConvs, i) => {
    layers.push([
      'DenseBlock',
      { num_convs: numConvs, num_channels: GROWTH_RATE },
      `dense_blk${i + 1}`,
    ]);
    channels += numConvs * GROWTH_RATE;
    if (i !== ARCH.length - 1) {
      channels = Math.floor(channels / 2);
      layers.push(['TransitionBlock', { num_channels: channels }, `tran_blk${i + 1}`]);
    }
  });
  return layers;
}

export const densenet = definePreset({
  name: 'densenet',
  title: 'DenseNet',
  description:
    'A 7×7 stem, four dense blocks (growth rate 32) joined by transition blocks, global pooling.',
  input: [1, 96, 96],
  training: courseTraining(0.01),
  blocks: {
    b1: sequentialBlock('Stem: 7×7 convolution, BatchNorm, ReLU, max pooling', [
      ['Conv2d', { out_channels: STEM_CHANNELS, kernel_size: 7, stride: 2, padding: 3 }],
      ['BatchNorm2d'],
      ['ReLU'],
      ['MaxPool2d', { kernel_size: 3, stride: 2, padding: 1 }],
    ]),
    last: sequentialBlock('Head: BatchNorm, ReLU, global average pooling, dense layer', [
      ['BatchNorm2d'],
      ['ReLU'],
      ['AdaptiveAvgPool2d', { output_size: 1 }],
      ['Flatten'],
      ['Linear', { out_features: 10 }],
    ]),
  },
  layers: [blockRef('b1'), ...denseLayers(), blockRef('last')],
});
