import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { describeWith, PYTHON, pytorch } from '../../../test/support/requirements';
import { crossEntropy, meanSquaredError } from './losses';
import { createOptimizer, type OptimizerConfig } from './optimizers';
import { learningRateAt, type ScheduleOptions } from './schedules';

const REFERENCE = fileURLToPath(
  new URL('../../../test/parity/training_reference.py', import.meta.url),
);

/** Deterministic values in [-1, 1) so both sides see the same numbers. */
function values(count: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: count }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 2 - 1;
  });
}

const shapes = [[3, 2, 2, 2], [3], [4, 5]];
const params = shapes.map((shape, i) => ({
  shape,
  data: values(
    shape.reduce((a, b) => a * b, 1),
    7 + i,
  ),
}));
const STEPS = 4;
const grads = Array.from({ length: STEPS }, (_, step) =>
  params.map((p, i) => values(p.data.length, 100 * step + i + 1)),
);

const configs: { config: OptimizerConfig; kwargs: Record<string, unknown> }[] = [
  { config: { name: 'sgd', lr: 0.1 }, kwargs: { lr: 0.1 } },
  {
    config: { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
    kwargs: { lr: 0.05, momentum: 0.9, weight_decay: 0.01 },
  },
  { config: { name: 'adam', lr: 0.01 }, kwargs: { lr: 0.01 } },
  { config: { name: 'adam', lr: 0.01, weightDecay: 0.1 }, kwargs: { lr: 0.01, weight_decay: 0.1 } },
  {
    config: { name: 'adamw', lr: 0.01, weightDecay: 0.1 },
    kwargs: { lr: 0.01, weight_decay: 0.1 },
  },
];

const logits = [
  [2, -1, 0.5, 80],
  [-3, 4, 1, 0],
  [100, -100, 0, 5],
];
const labels = [3, 1, 2];
const pred = [values(6, 3)];
const target = [values(6, 4)];

function keyed<T>(list: T[]): Map<string, T> {
  return new Map(list.map((v, i) => [`p${i}`, v]));
}

/** Runs `steps` of the given grads on fresh variables, optionally via a state round-trip midway. */
async function runOptimizer(config: OptimizerConfig, roundTripAfter?: number): Promise<number[][]> {
  const variables = keyed(params.map((p) => tf.variable(tf.tensor(p.data, p.shape))));
  let optimizer = createOptimizer(tf, variables, config);
  for (const [step, stepGrads] of grads.entries()) {
    if (step === roundTripAfter) {
      const state = await optimizer.getState();
      optimizer.dispose();
      optimizer = createOptimizer(tf, variables, config);
      optimizer.setState(state);
    }
    const g = Object.fromEntries(stepGrads.map((d, i) => [`p${i}`, tf.tensor(d, shapes[i])]));
    optimizer.step(g);
    tf.dispose(Object.values(g));
  }
  const result = [...variables.values()].map((v) => Array.from(v.dataSync()));
  optimizer.dispose();
  for (const v of variables.values()) v.dispose();
  return result;
}

function expectClose(actual: number[], expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...actual.map((a, i) => Math.abs(a - expected[i])));
  expect(worst).toBeLessThan(tolerance);
}

/** Schedules with their settings: the defaults (a third of the run, ×0.1; down to 0) and others. */
const schedules: Record<string, Omit<ScheduleOptions, 'lr'>> = {
  stepDefault: { schedule: 'step', epochs: 10, gamma: 0.1, etaMin: 0 },
  stepEvery4: { schedule: 'step', epochs: 10, stepSize: 4, gamma: 0.5, etaMin: 0 },
  cosineDefault: { schedule: 'cosine', epochs: 7, gamma: 0.1, etaMin: 0 },
  cosineToFloor: { schedule: 'cosine', epochs: 12, gamma: 0.1, etaMin: 0.01 },
};

describeWith([pytorch], 'optimizers, schedules and losses match PyTorch', () => {
  let reference: {
    optimizers: number[][][];
    schedules: Record<string, number[]>;
    losses: Record<string, number>;
  };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const input = JSON.stringify({
      params,
      grads,
      optimizers: configs.map((c) => ({ name: c.config.name, kwargs: c.kwargs })),
      schedules,
      baseLr: 0.1,
      logits,
      labels,
      pred,
      target,
    });
    reference = JSON.parse(execFileSync(PYTHON, [REFERENCE], { input, encoding: 'utf8' }));
  });

  configs.forEach(({ config }, i) => {
    const title = `${config.name} ${JSON.stringify(config)}`;
    it(`${title}: ${STEPS} steps give PyTorch's parameters`, async () => {
      (await runOptimizer(config)).forEach((p, j) => {
        expectClose(p, reference.optimizers[i][j], 1e-5);
      });
    });
    it(`${title}: resuming from exported state continues identically`, async () => {
      const straight = await runOptimizer(config);
      const resumed = await runOptimizer(config, 2);
      expect(resumed).toEqual(straight);
    });
  });

  it('step and cosine schedules, with their settings, give StepLR and CosineAnnealingLR rates per epoch', () => {
    for (const [name, lrs] of Object.entries(reference.schedules)) {
      const options = { lr: 0.1, ...schedules[name] };
      const ours = lrs.map((_, epoch) => learningRateAt(options, epoch));
      expectClose(ours, lrs, 1e-9);
    }
  });

  it('cross-entropy on large logits and MSE (mean and sum) equal PyTorch', () => {
    const ce = crossEntropy(tf, tf.tensor2d(logits), tf.tensor1d(labels, 'int32'));
    expect(ce.dataSync()[0]).toBeCloseTo(reference.losses.crossEntropy, 4);
    const p = tf.tensor2d(pred);
    const t = tf.tensor2d(target);
    expect(meanSquaredError(tf, p, t).dataSync()[0]).toBeCloseTo(reference.losses.mseMean, 5);
    expect(meanSquaredError(tf, p, t, 'sum').dataSync()[0]).toBeCloseTo(reference.losses.mseSum, 5);
    tf.dispose([ce, p, t]);
  });
});

it('rejects a learning rate that is not positive', () => {
  expect(() => createOptimizer(tf, new Map(), { name: 'sgd', lr: 0 })).toThrow(/learning rate/);
});
