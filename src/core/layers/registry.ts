/**
 * The layer catalog: every layer type, once. Adding a layer is its module plus
 * one line here; the types derived below then make every per-type table
 * (exporters, importers) a compile error until it has an entry for it.
 */

import { GELU, LeakyReLU, ReLU, ReLU6, Sigmoid, Softmax, Tanh } from './activation';
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
import { Dropout, Dropout2d, Flatten, ZeroPad2d } from './structure';
import type { LayerDef } from './types';

const catalog = [
  Input,
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  BatchNorm2d,
  BatchNorm1d,
  ReLU,
  ReLU6,
  Sigmoid,
  Tanh,
  LeakyReLU,
  GELU,
  Softmax,
  Linear,
  Flatten,
  ZeroPad2d,
  Dropout,
  Dropout2d,
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
] as const;

type CatalogDef = (typeof catalog)[number];

/** Every layer type of the catalog: 'Conv2d' | 'MaxPool2d' | … | 'Block'. */
export type LayerType = CatalogDef['type'];

/** The types that reach the exporters and the compiled model: the Input and the layers that compute. */
export type PrimitiveType = Extract<CatalogDef, { kind: 'input' | 'primitive' }>['type'];

/** Composite blocks, expanded into primitives by shape inference. */
export type BlockType = Extract<CatalogDef, { kind: 'block' }>['type'];

/** The definition of one layer type, with its own parameter type. */
export type LayerDefOf<T extends LayerType> = Extract<CatalogDef, { type: T }>;

/** The parsed parameters of one layer type (every field present, defaults filled in). */
export type LayerParams<T extends LayerType> = T extends LayerType
  ? LayerDefOf<T> extends LayerDef<string, infer P>
    ? P
    : never
  : never;

export const layerRegistry: ReadonlyMap<LayerType, LayerDef> = new Map(
  catalog.map((def) => [def.type, def as LayerDef]),
);

export function isLayerType(type: string): type is LayerType {
  return layerRegistry.has(type as LayerType);
}

export function getLayerDef(type: string): LayerDef | undefined {
  return layerRegistry.get(type as LayerType);
}

export function layerTypes(): LayerType[] {
  return [...layerRegistry.keys()];
}

/** The primitive types (the Input included), in catalog order. */
export function primitiveTypes(): PrimitiveType[] {
  return catalog.filter((def) => def.kind !== 'block').map((def) => def.type as PrimitiveType);
}

/** The stem of a new node's id: the type's (conv → conv1) or, for a user block, its name. */
export function idStemOf(type: string, params: Record<string, unknown> = {}): string {
  const def = getLayerDef(type);
  if (!def) return type;
  return (def.kind === 'block' && def.nameOf?.(params)) || def.idStem;
}

/** What a node is called on its card and in exports: its type, or a user block's name. */
export function displayNameOf(type: string, params: Record<string, unknown> = {}): string {
  const def = getLayerDef(type);
  return (def?.kind === 'block' && def.nameOf?.(params)) || type;
}
