/** Element-wise activations (any input rank) and Softmax over the channel/feature axis (dim=1). */
import type { Shape } from '../shape';
import { choice, type Fields, float, type ParamsOf } from './fields';
import { defineLayer, type LayerInference, type Tensor, type TF } from './types';

const sameShape = ([input]: Shape[]): LayerInference => ({ output: input, macs: 0 });

function activation<const T extends string, F extends Fields = Record<never, never>>(def: {
  type: T;
  description: string;
  fields?: F;
  apply(tf: TF, x: Tensor, params: ParamsOf<F>): Tensor;
}) {
  return defineLayer({
    type: def.type,
    label: def.type,
    category: 'activation',
    description: def.description,
    inputs: { min: 1, max: 1 },
    fields: def.fields ?? ({} as F),
    infer: sameShape,
    forward: ({ tf }, [x], p) => def.apply(tf, x, p),
  });
}

export const ReLU = activation({
  type: 'ReLU',
  description: 'max(0, x): passes positives, zeroes negatives.',
  apply: (tf, x) => tf.relu(x),
});

export const ReLU6 = activation({
  type: 'ReLU6',
  description: 'min(max(0, x), 6): ReLU capped at 6, as MobileNet uses it.',
  apply: (tf, x) => tf.relu6(x),
});

export const Sigmoid = activation({
  type: 'Sigmoid',
  description: '1 / (1 + e^−x): squashes into (0, 1).',
  apply: (tf, x) => tf.sigmoid(x),
});

export const Tanh = activation({
  type: 'Tanh',
  description: 'tanh(x): squashes into (−1, 1).',
  apply: (tf, x) => tf.tanh(x),
});

export const LeakyReLU = activation({
  type: 'LeakyReLU',
  description: 'x for positives, negative_slope·x for negatives.',
  fields: {
    negative_slope: float({ default: 0.01, help: 'Slope for negative inputs.' }),
  },
  apply: (tf, x, p) => tf.leakyRelu(x, p.negative_slope),
});

export const GELU = activation({
  type: 'GELU',
  description: 'x·Φ(x), the Gaussian error linear unit (exact erf form by default, as PyTorch).',
  fields: {
    approximate: choice({
      options: ['none', 'tanh'] as const,
      default: 'none',
      help: "'none': exact x·Φ(x) with erf; 'tanh': the tanh approximation.",
    }),
  },
  apply(tf, x, p) {
    if (p.approximate === 'tanh') {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    // 0.5·x·(1 + erf(x/√2))
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  },
});

export const Softmax = activation({
  type: 'Softmax',
  description:
    'Turns scores into probabilities over the channels/features (dim=1). Training applies it inside the loss, so leave it out before the loss.',
  // dim=1 of N×C×H×W (or N×F) is the last axis of tfjs's NHWC.
  apply: (tf, x) => tf.softmax(x, -1),
});
