/**
 * Losses as PyTorch defines them: cross-entropy on logits (log-softmax, so
 * large logits do not overflow) and mean squared error, each with a mean or
 * sum reduction.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TF } from '../../core/layers/types';

export type Reduction = 'mean' | 'sum';

/** nn.CrossEntropyLoss: logits [N, C], labels [N] int32 class indices. */
export function crossEntropy(
  tf: TF,
  logits: tfc.Tensor,
  labels: tfc.Tensor1D,
  reduction: Reduction = 'mean',
): tfc.Scalar {
  if (logits.rank !== 2) {
    throw new Error(
      `cross-entropy needs logits of shape [N, classes] but the model outputs ${logits.shape.join('×')}; end the network with Flatten and Linear`,
    );
  }
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits as tfc.Tensor2D);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels, logits.shape[1] as number)), 1);
    const total = tf.neg(reduction === 'mean' ? tf.mean(picked) : tf.sum(picked));
    return total as tfc.Scalar;
  });
}

/** nn.MSELoss: any matching shapes. */
export function meanSquaredError(
  tf: TF,
  predictions: tfc.Tensor,
  targets: tfc.Tensor,
  reduction: Reduction = 'mean',
): tfc.Scalar {
  if (predictions.shape.join('×') !== targets.shape.join('×')) {
    throw new Error(
      `MSE needs predictions and targets of the same shape, got ${predictions.shape.join('×')} and ${targets.shape.join('×')}`,
    );
  }
  return tf.tidy(() => {
    const squared = tf.squaredDifference(predictions, targets);
    return (reduction === 'mean' ? tf.mean(squared) : tf.sum(squared)) as tfc.Scalar;
  });
}

/** Number of rows whose largest logit is the label. */
export function correctCount(tf: TF, logits: tfc.Tensor, labels: tfc.Tensor1D): tfc.Scalar {
  return tf.tidy(() =>
    tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')),
  ) as tfc.Scalar;
}
