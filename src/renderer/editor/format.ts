/** Numbers as the editor shows them: shapes N×C×H×W, counts with thin grouping, bytes and MACs scaled. */
import type { Field } from '../../core/layers/fields';
import type { LayerDef } from '../../core/layers/types';
import { formatShape, type Shape } from '../../core/shape';
import { formatField } from './field-text';

export function shapeText(shape: Shape | undefined): string {
  return shape ? formatShape(shape) : '?';
}

export function countText(n: number): string {
  return n.toLocaleString('en-US');
}

export function scaled(n: number, unit = ''): string {
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of steps)
    if (Math.abs(n) >= size)
      return `${(n / size).toFixed(n / size >= 100 ? 0 : 1)} ${suffix}${unit}`;
  return `${n} ${unit}`.trim();
}

const shortNames: Record<string, string> = {
  out_channels: 'out',
  out_features: 'out',
  kernel_size: 'k',
  stride: 's',
  padding: 'p',
  dilation: 'd',
  groups: 'g',
};

/** The few parameters worth showing on a node card: the first (the layer's main one) and those set away from their defaults. */
export function keyParams(def: LayerDef, params: Record<string, unknown>): string {
  const entries = Object.entries(def.fields) as [string, Field][];
  const value = (name: string, field: Field) => formatField(field, params[name] ?? field.default);
  const shown = entries
    .filter(
      ([name, field], i) => i === 0 || value(name, field) !== formatField(field, field.default),
    )
    .slice(0, 4);
  return shown
    .map(([name, field]) => `${shortNames[name] ?? name} ${value(name, field) || '–'}`)
    .join(' · ');
}
