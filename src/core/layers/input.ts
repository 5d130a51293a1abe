/** The graph's entry: the image size it takes (the batch size is chosen when running). */
import { int } from './fields';
import { defineInput } from './types';

export const Input = defineInput({
  type: 'Input',
  label: 'Input',
  category: 'input',
  description:
    'The image that enters the network, C×H×W. Inside a block it stands for the block’s input.',
  inputs: { min: 0, max: 0 },
  fields: {
    channels: int({
      default: 1,
      min: 1,
      help: 'Image channels (1 for Fashion-MNIST, 3 for colour).',
    }),
    height: int({ default: 28, min: 1, help: 'Image height in pixels.' }),
    width: int({ default: 28, min: 1, help: 'Image width in pixels.' }),
  },
});
