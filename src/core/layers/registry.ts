/** The layer catalog: every layer type, once. Adding a layer is its module plus one line here. */
import { Conv2d } from './conv';
import { Input } from './input';
import type { LayerDef } from './types';

const all: LayerDef[] = [Input, Conv2d];

export const layerRegistry: ReadonlyMap<string, LayerDef> = new Map(
  all.map((def) => [def.type, def]),
);

export function getLayerDef(type: string): LayerDef | undefined {
  return layerRegistry.get(type);
}

export function layerTypes(): string[] {
  return [...layerRegistry.keys()];
}
