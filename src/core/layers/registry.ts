/** The layer catalog: every layer type, once. Adding a layer is its module plus one line here. */

import { GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from './activation';
import { DenseBlock, TransitionBlock } from './blocks/dense';
import { Inception } from './blocks/inception';
import { NiNBlock } from './blocks/nin';
import { Residual } from './blocks/residual';
import { ResNeXtBlock } from './blocks/resnext';
import { UserBlock } from './blocks/user-block';
import { VGGBlock } from './blocks/vgg';
import { Conv2d } from './conv';
import { Linear } from './dense';
import { Input } from './input';
import { Add, Concat } from './merge';
import { BatchNorm1d, BatchNorm2d } from './norm';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './pool';
import { Dropout, Flatten } from './structure';
import type { LayerDef } from './types';

const all: LayerDef[] = [
  Input,
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  BatchNorm2d,
  BatchNorm1d,
  ReLU,
  Sigmoid,
  Tanh,
  LeakyReLU,
  GELU,
  Softmax,
  Linear,
  Flatten,
  Dropout,
  Add,
  Concat,
  VGGBlock,
  NiNBlock,
  Inception,
  Residual,
  ResNeXtBlock,
  DenseBlock,
  TransitionBlock,
  UserBlock,
];

export const layerRegistry: ReadonlyMap<string, LayerDef> = new Map(
  all.map((def) => [def.type, def]),
);

export function getLayerDef(type: string): LayerDef | undefined {
  return layerRegistry.get(type);
}

export function layerTypes(): string[] {
  return [...layerRegistry.keys()];
}
