import { describe, expect, it } from 'vitest';
import type { EpochEvent } from '../../api/training-protocol';
import { joinCurves, LayerHistory, RunSeries, smooth } from './series';

const epoch = (n: number, valAcc: number): EpochEvent => ({
  event: 'epoch',
  epoch: n,
  epochs: 3,
  trainLoss: 1 / n,
  trainAcc: valAcc,
  valLoss: 1.1 / n,
  valAcc,
  samplesPerSec: 100,
  etaSec: 0,
  lr: 0.1,
  seconds: 1,
  backend: 'cpu',
  memoryBytes: 0,
  tensors: 0,
});

describe('training curves data', () => {
  it('smooths without pulling the first points towards zero', () => {
    expect(smooth([2, 2, 2], 0.9)).toEqual([2, 2, 2].map((v) => expect.closeTo(v, 10)));
    const s = smooth([1, 0], 0.5);
    expect(s[0]).toBeCloseTo(1, 10);
    // (0.5·0.5·1 + 0.5·0) / (1 − 0.25)
    expect(s[1]).toBeCloseTo(1 / 3, 10);
    expect(smooth([3, 5], 0)).toEqual([3, 5]);
  });

  it('drops the batches and epochs a resumed run repeats', () => {
    const series = new RunSeries();
    for (const x of [0.25, 0.5, 0.75, 1]) series.addBatch(x, x);
    series.addEpoch(epoch(1, 0.5));
    series.addBatch(1.25, 9);
    series.addBatch(0.75, 7);
    series.addBatch(1, 8);
    expect(series.batchX).toEqual([0.25, 0.5, 0.75, 1]);
    expect(series.batchLoss).toEqual([0.25, 0.5, 7, 8]);
    series.addEpoch(epoch(1, 0.6));
    expect(series.epochs.map((e) => e.valAcc)).toEqual([0.6]);
  });

  it('joins series with different x values, leaving gaps where one has no point', () => {
    const joined = joinCurves([
      [
        [0.5, 1],
        [3, 2],
      ],
      [[1], [0.7]],
      [[2], [0.8]],
    ]);
    expect(joined).toEqual([
      [0.5, 1, 2],
      [3, 2, null],
      [null, 0.7, null],
      [null, null, 0.8],
    ]);
  });

  it('follows the gradient spread of the layers with weights, dropping what a resumed run repeats', () => {
    const stat = (id: string, type: string, gradientStd?: number) => ({
      id,
      type,
      activationMean: 0,
      activationStd: 1,
      gradientStd,
    });
    const history = new LayerHistory();
    history.add(0.5, [
      stat('conv1', 'Conv2d', 1e-5),
      stat('act1', 'Sigmoid', 2e-5),
      stat('fc', 'Linear', 1e-2),
    ]);
    history.add(1, [stat('conv1', 'Conv2d', 2e-5), stat('fc', 'Linear')]);
    history.add(0.75, [stat('conv1', 'Conv2d', 3e-5), stat('fc', 'Linear', 3e-2)]);
    expect(history.ids).toEqual(['conv1', 'fc']);
    expect(history.x).toEqual([0.5, 0.75]);
    expect(history.gradients).toEqual([
      [1e-5, 3e-5],
      [1e-2, 3e-2],
    ]);
    history.add(1.25, [stat('conv1', 'Conv2d', 4e-5)]);
    expect(history.gradients[1]).toEqual([1e-2, 3e-2, null]);
  });
});
