/**
 * BatchNorm2d with PyTorch semantics: training normalises with the batch mean
 * and biased variance, and moves the running statistics by `momentum` using
 * the unbiased variance; inference normalises with the running statistics.
 */
import { expectFeatureMap } from '../shape';
import { float } from './fields';
import { defineLayer } from './types';

export interface BatchNormParams {
  eps: number;
  momentum: number;
}

type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
type Tensor1D = import('@tensorflow/tfjs-core').Tensor1D;

export const BatchNorm2d = defineLayer<BatchNormParams>({
  type: 'BatchNorm2d',
  label: 'BatchNorm2d',
  category: 'normalization',
  description:
    'Normalises each channel over the batch, then scales and shifts it; keeps running statistics for inference.',
  inputs: { min: 1, max: 1 },
  fields: {
    eps: float({ default: 1e-5, min: 0, help: 'Added to the variance before the square root.' }),
    momentum: float({
      default: 0.1,
      min: 0,
      max: 1,
      help: 'How far each training batch moves the running statistics (PyTorch’s convention: new = (1−m)·old + m·batch).',
    }),
  },
  infer([input]) {
    const [n, c, h, w] = expectFeatureMap(input, 'BatchNorm2d');
    // One multiply-add per value once folded into scale and shift.
    return { output: input, macs: n * c * h * w };
  },
  weights([input]) {
    const c = input[1];
    return [
      { name: 'weight', shape: [c], trainable: true, init: { role: 'ones' } },
      { name: 'bias', shape: [c], trainable: true, init: { role: 'zeros' } },
      { name: 'running_mean', shape: [c], trainable: false, init: { role: 'zeros' } },
      { name: 'running_var', shape: [c], trainable: false, init: { role: 'ones' } },
    ];
  },
  forward(ctx, [x], p) {
    const { tf } = ctx;
    const scale = ctx.weight('weight') as Tensor1D;
    const offset = ctx.weight('bias') as Tensor1D;
    if (!ctx.training) {
      return tf.batchNorm(
        x as Tensor4D,
        ctx.weight('running_mean') as Tensor1D,
        ctx.weight('running_var') as Tensor1D,
        offset,
        scale,
        p.eps,
      );
    }
    const [n, h, w] = x.shape;
    const count = n * h * w;
    if (count < 2) {
      // PyTorch refuses this too: the batch variance of one value is meaningless.
      throw new Error(
        `BatchNorm2d needs more than one value per channel to train, but a batch of ${n} gives ${h}×${w} maps; use a batch of 2 or more`,
      );
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const unbiased = tf.mul(variance, count / (count - 1));
    const m = p.momentum;
    // Variable assignment is not recorded for gradients: the running statistics stay bookkeeping.
    ctx.setState(
      'running_mean',
      tf.add(tf.mul(ctx.weight('running_mean'), 1 - m), tf.mul(mean, m)),
    );
    ctx.setState(
      'running_var',
      tf.add(tf.mul(ctx.weight('running_var'), 1 - m), tf.mul(unbiased, m)),
    );
    return tf.batchNorm(
      x as Tensor4D,
      mean as Tensor1D,
      variance as Tensor1D,
      offset,
      scale,
      p.eps,
    );
  },
});
