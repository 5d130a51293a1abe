/**
 * Per-layer health during training: mean and spread of each primitive's
 * output and of the loss gradient with respect to it, the share of dead ReLU
 * outputs and of saturated sigmoid/tanh outputs. Computed inside a training
 * step so the numbers describe exactly the batch that updated the weights.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { LayerStat } from '../../api/training-protocol';
import type { CompiledModel } from '../../core/compile/model';
import type { TF } from '../../core/layers/types';

/** Within this distance of a limit a sigmoid/tanh output counts as saturated. */
const SATURATION_MARGIN = 0.01;

/**
 * Summary scalars of one layer output, as a 1-D tensor:
 * [mean, std, deadFraction or -1, saturatedFraction or -1].
 */
export function activationSummary(tf: TF, type: string, y: tfc.Tensor): tfc.Tensor1D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(y);
    const share = (mask: tfc.Tensor) => tf.mean(tf.cast(mask, 'float32'));
    const none = tf.scalar(-1);
    const dead = type === 'ReLU' ? share(tf.equal(y, 0)) : none;
    const saturated =
      type === 'Sigmoid'
        ? share(tf.logicalOr(tf.less(y, SATURATION_MARGIN), tf.greater(y, 1 - SATURATION_MARGIN)))
        : type === 'Tanh'
          ? share(tf.greater(tf.abs(y), 1 - SATURATION_MARGIN))
          : none;
    return tf.stack([mean, tf.sqrt(variance), dead, saturated]) as tfc.Tensor1D;
  });
}

/** The primitive layers worth reporting: everything but the Input. */
export function reportedLayers(model: CompiledModel): { id: string; type: string }[] {
  return model.inference.primitives
    .filter((p) => p.type !== 'Input')
    .map((p) => ({ id: p.id, type: p.type }));
}

/**
 * Summarises the activations and the gradients of the loss w.r.t. each layer
 * output into one tensor (disposing the inputs); readLayerStats reads it.
 */
export function packLayerStats(
  tf: TF,
  activations: tfc.Tensor1D[],
  gradients: (tfc.Tensor | undefined)[],
): tfc.Tensor1D {
  const gradientSummaries = tf.tidy(() =>
    gradients.map((g) => {
      if (!g) return tf.tensor1d([Number.NaN, Number.NaN]);
      const { mean, variance } = tf.moments(g);
      return tf.stack([mean, tf.sqrt(variance)]);
    }),
  );
  const all = tf.tidy(() => tf.concat([...activations, ...gradientSummaries])) as tfc.Tensor1D;
  tf.dispose([...activations, ...gradientSummaries]);
  return all;
}

/** LayerStats from packLayerStats' tensor (read asynchronously: WebGPU in Node cannot read synchronously); disposes it. */
export async function readLayerStats(
  layers: { id: string; type: string }[],
  packed: tfc.Tensor1D,
): Promise<LayerStat[]> {
  const values = await packed.data();
  packed.dispose();
  const g0 = layers.length * 4;
  return layers.map((layer, i) => {
    const [mean, std, dead, saturated] = values.subarray(i * 4, i * 4 + 4);
    const stat: LayerStat = {
      id: layer.id,
      type: layer.type,
      activationMean: mean,
      activationStd: std,
    };
    const gradientMean = values[g0 + i * 2];
    if (!Number.isNaN(gradientMean)) {
      stat.gradientMean = gradientMean;
      stat.gradientStd = values[g0 + i * 2 + 1];
    }
    if (dead >= 0) stat.deadFraction = dead;
    if (saturated >= 0) stat.saturatedFraction = saturated;
    return stat;
  });
}
