/**
 * BatchNorm1d (after Linear, N×F) and BatchNorm2d (after convolutions,
 * N×C×H×W) with PyTorch semantics: training normalises each feature/channel
 * with the batch mean and biased variance, and moves the running statistics
 * by `momentum` using the unbiased variance; inference normalises with the
 * running statistics.
 */
import { expectFeatureMap, expectVector, type Shape } from '../shape';
import { float } from './fields';
import { defineLayer, type TF } from './types';

type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Tensor1D = import('@tensorflow/tfjs-core').Tensor1D;
type GradSaveFunc = import('@tensorflow/tfjs-core').GradSaveFunc;

/**
 * Training-mode batch normalisation over every axis but the last (tfjs's
 * feature axis: N, H, W of NHWC; N of N×F), with the batch mean and biased
 * variance (also returned, for the running statistics) and PyTorch's
 * closed-form gradient:
 *   dx = gamma/sigma * (dy - mean(dy) - xhat * mean(dy * xhat)),
 *   dgamma = sum(dy * xhat), dbeta = sum(dy).
 * Differentiating moments and batchNorm op by op instead costs a dozen
 * full-size passes, one of them a tile of the scale to the input's size
 * (tfjs's batchNorm gradient): on wasm about 3 s of a 13 s ResNet-18 step.
 */
export function batchNormTraining(
  tf: TF,
  x: Tensor,
  gamma: Tensor1D,
  beta: Tensor1D,
  eps: number,
): { y: Tensor; mean: Tensor1D; variance: Tensor1D } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  let stats: { mean: Tensor1D; variance: Tensor1D } | undefined;
  const op = tf.customGrad((...args) => {
    const [input, gammaIn, betaIn, save] = args as [Tensor, Tensor1D, Tensor1D, GradSaveFunc];
    const mean = tf.mean(input, axes) as Tensor1D;
    const centred = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centred), axes) as Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const scale = tf.mul(gammaIn, invStd);
    save([input, mean, invStd, scale]);
    // customGrad disposes what f made except its value; the statistics are kept for the caller.
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: tf.add(tf.mul(centred, scale), betaIn),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const g = dy as Tensor;
        const [xs, mu, inv, k] = saved;
        const xc = tf.sub(xs, mu);
        const dBeta = tf.sum(g, axes);
        const dyXc = tf.sum(tf.mul(g, xc), axes);
        const dGamma = tf.mul(dyXc, inv);
        // dx = k*dy - k*dBeta/count - xc * k*inv*dGamma/count, per-feature factors first.
        const perXc = tf.mul(k, tf.mul(inv, tf.div(dGamma, count)));
        const shift = tf.mul(k, tf.div(dBeta, count));
        const dx = tf.sub(tf.mul(g, k), tf.add(tf.mul(xc, perXc), shift));
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  const { mean, variance } = stats as { mean: Tensor1D; variance: Tensor1D };
  return { y, mean, variance };
}

/** The two differ only in the layout they accept: the statistics are per feature (last axis in tfjs). */
function defineBatchNorm<T extends 'BatchNorm1d' | 'BatchNorm2d'>(
  type: T,
  description: string,
  expectInput: (shape: Shape, layer: string) => number[],
) {
  return defineLayer({
    type,
    label: type,
    idStem: 'bn',
    category: 'normalization',
    description,
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
      // One multiply-add per value once folded into scale and shift.
      return { output: input, macs: expectInput(input, type).reduce((a, b) => a * b, 1) };
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
      const normalise = (mean: Tensor, variance: Tensor) =>
        tf.batchNorm(x, mean as Tensor1D, variance as Tensor1D, offset, scale, p.eps);
      if (!ctx.training) {
        return normalise(ctx.weight('running_mean'), ctx.weight('running_var'));
      }
      const count = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      if (count < 2) {
        // PyTorch refuses this too: the batch variance of one value is meaningless.
        const got =
          x.rank === 4
            ? `a batch of ${x.shape[0]} gives ${x.shape[1]}×${x.shape[2]} maps`
            : `got a batch of ${x.shape[0]}`;
        throw new Error(
          `${type} needs more than one value per ${x.rank === 4 ? 'channel' : 'feature'} to train, but ${got}; use a batch of 2 or more`,
        );
      }
      const { y, mean, variance } = batchNormTraining(tf, x, scale, offset, p.eps);
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
      tf.dispose([mean, variance, unbiased]);
      return y;
    },
  });
}

export const BatchNorm2d = defineBatchNorm(
  'BatchNorm2d',
  'Normalises each channel over the batch, then scales and shifts it; keeps running statistics for inference.',
  expectFeatureMap,
);

export const BatchNorm1d = defineBatchNorm(
  'BatchNorm1d',
  'Normalises each feature of a flat N×F input (after Linear) over the batch, then scales and shifts it; keeps running statistics for inference.',
  expectVector,
);
