/** AlexNet as the course defines it (d2l 8.1), for 1-channel 224×224 Fashion-MNIST. */
import { courseTraining, definePreset, type LayerSpec } from './preset';

const pool: LayerSpec = ['MaxPool2d', { kernel_size: 3, stride: 2 }];

export const alexnet = definePreset({
  name: 'alexnet',
  title: 'AlexNet',
  description:
    'Five convolutions (11×11 stride 4 first) with max pooling and two 4096-wide dense layers with dropout.',
  input: [1, 224, 224],
  training: courseTraining(0.01),
  layers: [
    ['Conv2d', { out_channels: 96, kernel_size: 11, stride: 4, padding: 1 }],
    ['ReLU'],
    pool,
    ['Conv2d', { out_channels: 256, kernel_size: 5, padding: 2 }],
    ['ReLU'],
    pool,
    ['Conv2d', { out_channels: 384, kernel_size: 3, padding: 1 }],
    ['ReLU'],
    ['Conv2d', { out_channels: 384, kernel_size: 3, padding: 1 }],
    ['ReLU'],
    ['Conv2d', { out_channels: 256, kernel_size: 3, padding: 1 }],
    ['ReLU'],
    pool,
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
