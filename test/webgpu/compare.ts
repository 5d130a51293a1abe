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
import { referenceStep, relativeError } from './reference';

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

/** Every difference of one case (tf must have the webgpu and cpu backends registered). */
export async function compareStep(tf: TF, c: CompareCase): Promise<Difference[]> {
  const inference: GraphInference = inferValidGraph(c.graph, { inputShape: c.input });
  const [n, ch, h, w] = c.input;
  const optimizer = c.optimizer ?? SGD_MOMENTUM;
  await tf.setBackend('cpu');
  const initial = compileModel(tf, inference, { init: c.init ?? 'pytorch', seed: 1 });
  const weights = await initial.readWeights();
  initial.dispose();
  const images = uniform(n * h * w * ch, 7, c.range);
  const outputCount = (inference.outputShape as number[]).reduce((a, b) => a * b, 1);
  const labels = c.labels ? Int32Array.from(c.labels) : undefined;
  const targets = labels ? undefined : uniform(outputCount, 11);
  const loss = labels ? ('cross-entropy' as const) : ('mse' as const);
  const reference = await referenceStep(tf, {
    inference,
    weights,
    images,
    labels,
    targets,
    loss,
    optimizer,
  });

  await tf.setBackend('webgpu');
  const model = compileModel(tf, inference, { weights });
  const step = await CompiledStep.create(tf, model, {
    optimizer,
    batch: n,
    loss,
    inputGradient: true,
  });
  const differences: Difference[] = [];
  try {
    const metrics = await (await step.step({ images, labels, targets })).metrics;
    const output = await step.readValue(step.train.output);
    const inputGrad = await step.readValue(step.train.inputGradient as number);
    const grads = await step.readGradients();
    const after = await model.readWeights();
    differences.push({
      where: 'loss',
      error: Math.abs(metrics.loss - reference.loss) / Math.max(Math.abs(reference.loss), 1e-3),
    });
    differences.push({ where: 'output', error: relativeError(output, reference.output) });
    differences.push({
      where: 'input gradient',
      error: relativeError(inputGrad, reference.inputGrad, 1e-2),
    });
    for (const [key, g] of reference.grads) {
      differences.push({
        where: `gradient ${key}`,
        error: relativeError(grads.get(key) as Float32Array, g, 1e-2),
      });
    }
    for (const [key, t] of reference.weights) {
      const got = after.get(key)?.data as Float32Array;
      differences.push({ where: `after the step ${key}`, error: relativeError(got, t.data) });
    }
  } finally {
    step.dispose();
    model.dispose();
  }
  return differences;
}

export function worst(differences: Difference[]): Difference {
  return differences.reduce((a, b) => (!(b.error <= a.error) ? b : a), { where: '', error: 0 });
}
