/**
 * ResNet-18 as the course defines it (d2l 8.6), and ResNeXt-18: the same
 * layout with ResNeXt blocks. The stem b1, the stages b2…b5 and the head are
 * the project's own blocks, so the summary shows them as the course's
 * nn.Sequential rows.
 */
import type { ProjectBlock } from '../document/schema';
import {
  blockRef,
  courseTraining,
  definePreset,
  type LayerSpec,
  type Preset,
  sequentialBlock,
} from './preset';

/** (num_residuals, num_channels) per stage, as the course's `arch`. */
const resnet18Arch: [number, number][] = [
  [2, 64],
  [2, 128],
  [2, 256],
  [2, 512],
];

type ResidualLayer = (numChannels: number, downsample: boolean) => LayerSpec;

function resnetLike(
  info: Pick<Preset, 'name' | 'title' | 'description'>,
  residual: ResidualLayer,
): Preset {
  const blocks: Record<string, ProjectBlock> = {
    b1: sequentialBlock('Stem: 7×7 convolution, BatchNorm, ReLU, max pooling', [
      ['Conv2d', { out_channels: 64, kernel_size: 7, stride: 2, padding: 3 }],
      ['BatchNorm2d'],
      ['ReLU'],
      ['MaxPool2d', { kernel_size: 3, stride: 2, padding: 1 }],
    ]),
  };
  resnet18Arch.forEach(([numResiduals, numChannels], i) => {
    // The course's ResNet.block: the first block of every stage but the first halves the size.
    const firstBlock = i === 0;
    blocks[`b${i + 2}`] = sequentialBlock(
      `Stage ${i + 1}: ${numResiduals} blocks, ${numChannels} channels`,
      Array.from({ length: numResiduals }, (_, j) => residual(numChannels, j === 0 && !firstBlock)),
    );
  });
  blocks.last = sequentialBlock('Head: global average pooling, dense layer', [
    ['AdaptiveAvgPool2d', { output_size: 1 }],
    ['Flatten'],
    ['Linear', { out_features: 10 }],
  ]);
  return definePreset({
    ...info,
    input: [1, 96, 96],
    training: courseTraining(0.01),
    blocks,
    layers: Object.keys(blocks).map(blockRef),
  });
}

export const resnet18 = resnetLike(
  {
    name: 'resnet18',
    title: 'ResNet-18',
    description:
      'A 7×7 stem and four stages of two Residual blocks (64 to 512 channels), global pooling.',
  },
  (numChannels, downsample) => [
    'Residual',
    { num_channels: numChannels, use_1x1conv: downsample, strides: downsample ? 2 : 1 },
  ],
);

/** ResNeXt settings as the course's example block ResNeXtBlock(32, 16, 1): 16 channels per group, no bottleneck narrowing. */
const RESNEXT_GROUPS = 16;
const RESNEXT_BOT_MUL = 1;

export const resnext18 = resnetLike(
  {
    name: 'resnext18',
    title: 'ResNeXt-18',
    description:
      'ResNet-18’s layout with ResNeXt blocks: grouped 3×3 convolutions of 16 channels per group.',
  },
  (numChannels, downsample) => [
    'ResNeXtBlock',
    {
      num_channels: numChannels,
      groups: RESNEXT_GROUPS,
      bot_mul: RESNEXT_BOT_MUL,
      use_1x1conv: downsample,
      strides: downsample ? 2 : 1,
    },
  ],
);
