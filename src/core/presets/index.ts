/** The classic networks of the course, ready to open, summarise, train and export. */
import { alexnet } from './alexnet';
import { densenet } from './densenet';
import { googlenet } from './googlenet';
import { lenet } from './lenet';
import { nin } from './nin';
import type { Preset } from './preset';
import { resnet18, resnext18 } from './resnet';
import { vgg11, vgg11Tiny } from './vgg';

export type { Preset } from './preset';

export const presets: readonly Preset[] = [
  lenet,
  alexnet,
  vgg11,
  vgg11Tiny,
  nin,
  googlenet,
  resnet18,
  resnext18,
  densenet,
];

export function getPreset(name: string): Preset | undefined {
  return presets.find((p) => p.name === name);
}

export function presetNames(): string[] {
  return presets.map((p) => p.name);
}
