/**
 * The op-by-op reference of one training step on tfjs's cpu backend (which
 * the PyTorch parity tests hold to PyTorch): output, loss, weight and input
 * gradients, and the weights after one optimizer update.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { compileModel } from '../../src/core/compile/model';
import type { GraphInference } from '../../src/core/infer';
import type { TF } from '../../src/core/layers/types';
import type { TensorMap } from '../../src/core/weights/safetensors';
import { crossEntropy, meanSquaredError } from '../../src/engine/training/losses';
import { createOptimizer, type OptimizerConfig } from '../../src/engine/training/optimizers';

export interface StepCase {
  inference: GraphInference;
  weights: TensorMap;
  /** NHWC */
  images: Float32Array;
  labels?: Int32Array;
  targets?: Float32Array;
  loss: 'cross-entropy' | 'mse' | 'mse-sum';
  optimizer: OptimizerConfig;
}

export interface StepOutcome {
  output: Float32Array;
  loss: number;
  grads: Map<string, Float32Array>;
  inputGrad: Float32Array;
  /** Every weight and buffer after the update. */
  weights: TensorMap;
}

/** `steps` updates on the same batch (default 1); the output, loss and gradients are the last step's. */
export async function referenceStep(tf: TF, c: StepCase, steps = 1): Promise<StepOutcome> {
  const model = compileModel(tf, c.inference, { weights: c.weights });
  const [n, ch, h, w] = c.inference.inputShape as number[];
  const x = tf.tensor4d(c.images, [n, h, w, ch]);
  const labels = c.labels ? tf.tensor1d(c.labels, 'int32') : undefined;
  const trainable = model.trainable;
  const byName = new Map([...model.weights].map(([key, v]) => [v.name, key]));
  const optimizer = createOptimizer(
    tf,
    new Map([...model.weights].filter(([, v]) => v.trainable)),
    c.optimizer,
  );
  const lossOf = (y: tfc.Tensor) =>
    c.loss === 'cross-entropy'
      ? crossEntropy(tf, y, labels as tfc.Tensor1D)
      : meanSquaredError(
          tf,
          y,
          tf.tensor(c.targets as Float32Array, y.shape),
          c.loss === 'mse-sum' ? 'sum' : 'mean',
        );
  let outcome: Omit<StepOutcome, 'weights'> | undefined;
  for (let i = 0; i < steps; i++) {
    let output: tfc.Tensor | undefined;
    const { value, grads } = tf.engine().gradients(
      () => {
        const y = model.forward(x, true);
        output = tf.keep(y.clone());
        return lossOf(y);
      },
      [...trainable, x],
      undefined,
      true,
    );
    const gradMap = new Map<string, Float32Array>();
    const byKey: Record<string, tfc.Tensor> = {};
    trainable.forEach((v, j) => {
      if (!grads[j]) return;
      const key = byName.get(v.name) as string;
      gradMap.set(key, grads[j].dataSync() as Float32Array);
      byKey[key] = grads[j];
    });
    optimizer.step(byKey);
    outcome = {
      output: (output as tfc.Tensor).dataSync() as Float32Array,
      loss: (await value.data())[0],
      grads: gradMap,
      inputGrad: grads[trainable.length].dataSync() as Float32Array,
    };
    tf.dispose([value, ...grads, output as tfc.Tensor]);
  }
  const weights = await model.readWeights();
  tf.dispose([x, ...(labels ? [labels] : [])]);
  optimizer.dispose();
  model.dispose();
  return { ...(outcome as Omit<StepOutcome, 'weights'>), weights };
}

/**
 * max|a − b| / max(max|b|, floor): the parity tests' measure (floor 1e-3).
 * Gradients use a floor of 1e-2: a bias before BatchNorm has a true gradient
 * of 0, computed as a sum of terms of order 1 that cancel, and two summation
 * orders leave different rounding of a few 1e-7.
 */
export function relativeError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  floor = 1e-3,
): number {
  if (actual.length !== expected.length) {
    throw new Error(`${actual.length} values where ${expected.length} were expected`);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, floor);
}
