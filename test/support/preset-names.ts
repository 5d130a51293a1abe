/** The preset names docs/design.md fixes, in the order the studio lists them. */
export const DESIGN_PRESET_NAMES = [
  'lenet',
  'alexnet',
  'vgg11',
  'vgg11-tiny',
  'nin',
  'googlenet',
  'resnet18',
  'resnext18',
  'densenet',
];
