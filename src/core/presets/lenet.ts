/** The course's LeNet-5 (d2l 7.6): sigmoid activations, average pooling, padding 2 on the first convolution. */
import { courseTraining, definePreset } from './preset';

const pool = { kernel_size: 2, stride: 2 };

export const lenet = definePreset({
  name: 'lenet',
  title: 'LeNet-5',
  description:
    'The course’s LeNet: two 5×5 sigmoid convolutions with average pooling, three dense layers.',
  input: [1, 28, 28],
  training: courseTraining(0.1),
  layers: [
    ['Conv2d', { out_channels: 6, kernel_size: 5, padding: 2 }],
    ['Sigmoid'],
    ['AvgPool2d', pool],
    ['Conv2d', { out_channels: 16, kernel_size: 5 }],
    ['Sigmoid'],
    ['AvgPool2d', pool],
    ['Flatten'],
    ['Linear', { out_features: 120 }],
    ['Sigmoid'],
    ['Linear', { out_features: 84 }],
    ['Sigmoid'],
    ['Linear', { out_features: 10 }],
  ],
});
