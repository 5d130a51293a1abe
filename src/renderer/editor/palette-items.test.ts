import { describe, expect, it } from 'vitest';
import { bestMatch, paletteGroups } from './palette-items';

const pick = (query: string) => {
  const items = paletteGroups({}, query).flatMap((g) => g.items);
  return items[bestMatch(items, query)]?.type;
};

describe('the layer picker’s first choice', () => {
  it('is the layer the query names, before layers that only mention it', () => {
    // Add's description speaks of residual connections and comes first in the list.
    expect(pick('Residual')).toBe('Residual');
    expect(pick('resid')).toBe('Residual');
    expect(pick('batchnorm2')).toBe('BatchNorm2d');
    expect(pick('relu')).toBe('ReLU');
  });
  it('falls back to the first match by description', () => {
    const items = paletteGroups({}, 'skip connection').flatMap((g) => g.items);
    expect(items.length).toBeGreaterThan(0);
    expect(bestMatch(items, 'skip connection')).toBe(0);
  });
});
