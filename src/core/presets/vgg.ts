/** VGG as the course defines it (d2l 8.2): VGG blocks, then AlexNet's dense head. */
import { courseTraining, definePreset, type LayerSpec, type Preset } from './preset';

/** (num_convs, out_channels) per block, as the course's `arch`. */
type VGGArch = [numConvs: number, outChannels: number][];

function vgg(name: string, title: string, description: string, arch: VGGArch): Preset {
  const blocks: LayerSpec[] = arch.map(([numConvs, outChannels]) => [
    'VGGBlock',
    { num_convs: numConvs, out_channels: outChannels },
  ]);
  return definePreset({
    name,
    title,
    description,
    input: [1, 224, 224],
    training: courseTraining(0.01),
    layers: [
      ...blocks,
      ['Flatten'],
      ['Linear', { out_features: 4096 }],
      ['ReLU'],
      ['Dropout', { p: 0.5 }],
      ['Linear', { out_features: 4096 }],
      ['ReLU'],
      ['Dropout', { p: 0.5 }],
      ['Linear', { out_features: 10 }],
    ],
  });
}

export const vgg11 = vgg(
  'vgg11',
  'VGG-11',
  'Five VGG blocks (8 convolutions, 64 to 512 channels) and a 4096-wide dense head.',
  [
    [1, 64],
    [1, 128],
    [2, 256],
    [2, 512],
    [2, 512],
  ],
);

export const vgg11Tiny = vgg(
  'vgg11-tiny',
  'VGG-11 (narrow)',
  'VGG-11 with a quarter of the channels (16 to 128), as the course trains it on Fashion-MNIST.',
  [
    [1, 16],
    [1, 32],
    [2, 64],
    [2, 128],
    [2, 128],
  ],
);
