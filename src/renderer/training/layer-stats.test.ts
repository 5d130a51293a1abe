import { describe, expect, it } from 'vitest';
import type { LayerStat } from '../../api/training-protocol';
import { gradientSummary } from './LayerStatsPanel';

const layer = (
  id: string,
  type: string,
  gradientStd: number,
  extra: Partial<LayerStat> = {},
): LayerStat => ({
  id,
  type,
  activationMean: 0,
  activationStd: 1,
  gradientMean: 0,
  gradientStd,
  ...extra,
});

describe('layer statistics summary', () => {
  it('says in words that a sigmoid network’s early layers get tiny gradients', () => {
    const text = gradientSummary([
      layer('conv1', 'Conv2d', 2e-5),
      layer('sigmoid1', 'Sigmoid', 8e-5, { saturatedFraction: 0.35 }),
      layer('fc3', 'Linear', 1.2e-2),
    ]);
    expect(text).toContain('Gradients reaching conv1 are 600× smaller than at fc3');
    expect(text).toContain("35% of sigmoid1's outputs are saturated");
  });

  it('reports dead ReLUs and healthy gradient flow', () => {
    const text = gradientSummary([
      layer('conv1', 'Conv2d', 1e-3),
      layer('relu1', 'ReLU', 1.2e-3, { deadFraction: 0.7 }),
      layer('fc', 'Linear', 2e-3),
    ]);
    expect(text).toContain('similar size');
    expect(text).toContain("70% of relu1's ReLUs output 0");
    expect(gradientSummary([layer('fc', 'Linear', 1)])).toBeUndefined();
  });
});
