/**
 * Runs one training step both ways, the compiled WebGPU step and the
 * op-by-op reference on tfjs's cpu backend, from the same weights and batch,
 * and reports the largest relative difference in each thing compared.
 */
import { compileModel } from '../../src/core/compile/model';
import { type GraphInference, inferValidGraph } from '../../src/core/infer';
import type { TF } from '../../src/core/layers/types';
import type { Shape } from '../../src/core/shape';
import type { OptimizerConfig } from '../../src/engine/training/optimizers';
import { CompiledStep } from '../../src/engine/webgpu/executor';
import type { GraphSpec } from '../parity/harness';
import { referenceStep, relativeError, type StepCase, type StepOutcome } from './reference';

export interface CompareCase {
  name: string;
  graph: GraphSpec;
  /** [N, C, H, W] */
  input: Shape;
  /** Class labels (cross-entropy); without them, MSE against random targets. */
  labels?: number[];
  range?: [number, number];
  optimizer?: OptimizerConfig;
  init?: 'pytorch' | 'xavier';
  /** Updates on the same batch before comparing (optimizer state, Adam's bias correction). */
  steps?: number;
}

export interface Difference {
  where: string;
  error: number;
}

/** A small deterministic stream in [lo, hi) (the same on every machine). */
export function uniform(count: number, seed: number, [lo, hi]: [number, number] = [-1, 1]) {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  });
}

export const SGD_MOMENTUM: OptimizerConfig = {
  name: 'sgd',
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 0.01,
};

/** What one outcome differs from the reference in: loss, output, gradients, weights after. */
function differencesOf(got: StepOutcome, expected: StepOutcome): Difference[] {
  const differences: Difference[] = [
    {
      where: 'loss',
      error: Math.abs(got.loss - expected.loss) / Math.max(Math.abs(expected.loss), 1e-3),
    },
    { where: 'output', error: relativeError(got.output, expected.output) },
    { where: 'input gradient', error: relativeError(got.inputGrad, expected.inputGrad, 1e-2) },
  ];
  for (const [key, g] of expected.grads) {
    differences.push({
      where: `gradient ${key}`,
      error: relativeError(got.grads.get(key) as Float32Array, g, 1e-2),
    });
  }
  for (const [key, t] of expected.weights) {
    const after = got.weights.get(key)?.data as Float32Array;
    differences.push({ where: `after the step ${key}`, error: relativeError(after, t.data) });
  }
  return differences;
}

/** The compiled step's outcome on the webgpu backend. */
async function compiledStep(tf: TF, c: StepCase, steps: number): Promise<StepOutcome> {
  await tf.setBackend('webgpu');
  const batch = (c.inference.inputShape as number[])[0];
  const model = compileModel(tf, c.inference, { weights: c.weights });
  const step = await CompiledStep.create(tf, model, {
    optimizer: c.optimizer,
    batch,
    loss: c.loss,
    inputGradient: true,
  });
  try {
    const input = { images: c.images, labels: c.labels, targets: c.targets };
    let metrics = await (await step.step(input)).metrics;
    for (let i = 1; i < steps; i++) metrics = await (await step.step(input)).metrics;
    return {
      loss: metrics.loss,
      output: await step.readValue(step.train.output),
      inputGrad: await step.readValue(step.train.inputGradient as number),
      grads: await step.readGradients(),
      weights: await model.readWeights(),
    };
  } finally {
    step.dispose();
    model.dispose();
  }
}

/**
 * Every difference of one case between the compiled step and the op-by-op
 * path (on tfjs's cpu backend, or wasm, which backends-layers.test.ts holds
 * to cpu and is far faster), each with the error allowed: 1e-4 (the PyTorch
 * parity tolerance), or with `noise`, ten times the most the op-by-op result
 * moves when the images move by one part in a million (three such moves),
 * where that is more.
 * That measures what the mathematics leaves undetermined: a training
 * BatchNorm of two values per channel, whose input gradient is a difference
 * of equal terms; a gradient that is exactly zero, computed as cancelling sums.
 */
export async function compareStep(
  tf: TF,
  c: CompareCase,
  opts: { reference?: 'cpu' | 'wasm'; noise?: boolean } = {},
): Promise<(Difference & { allowed: number })[]> {
  const inference: GraphInference = inferValidGraph(c.graph, { inputShape: c.input });
  const [n, ch, h, w] = c.input;
  await tf.setBackend(opts.reference ?? 'cpu');
  const initial = compileModel(tf, inference, { init: c.init ?? 'pytorch', seed: 1 });
  const weights = await initial.readWeights();
  initial.dispose();
  const outputCount = (inference.outputShape as number[]).reduce((a, b) => a * b, 1);
  const labels = c.labels ? Int32Array.from(c.labels) : undefined;
  const stepCase: StepCase = {
    inference,
    weights,
    images: uniform(n * h * w * ch, 7, c.range),
    labels,
    targets: labels ? undefined : uniform(outputCount, 11),
    loss: labels ? 'cross-entropy' : 'mse',
    optimizer: c.optimizer ?? SGD_MOMENTUM,
  };
  const steps = c.steps ?? 1;
  const reference = await referenceStep(tf, stepCase, steps);
  // One wobble can leave a cancelling sum's rounding almost unmoved by chance; the largest of three does not.
  const noise: number[] = [];
  for (const seed of opts.noise ? [13, 17, 19] : []) {
    const wobble = uniform(stepCase.images.length, seed);
    const images = stepCase.images.map((v, i) => v * (1 + 1e-6 * Math.sign(wobble[i])));
    const moved = differencesOf(await referenceStep(tf, { ...stepCase, images }, steps), reference);
    moved.forEach((d, i) => {
      noise[i] = Math.max(noise[i] ?? 0, d.error);
    });
  }
  const compiled = differencesOf(await compiledStep(tf, stepCase, steps), reference);
  return compiled.map((d, i) => ({ ...d, allowed: Math.max(1e-4, 10 * (noise[i] ?? 0)) }));
}

/** The differences above what is allowed, for people. */
export function excessive(differences: (Difference & { allowed: number })[]): string[] {
  return differences
    .filter((d) => !(d.error <= d.allowed))
    .map((d) => `${d.where}: ${d.error.toExponential(2)} (allowed ${d.allowed.toExponential(1)})`);
}
