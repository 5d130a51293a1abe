/**
 * One training step and batch assembly, independent of where data and
 * backend come from (the trainer, the kernel-learning example and the
 * benchmark all use them).
 */
// Training needs every op's gradient. tfjs-core registers them only through
// dist/register_all_gradients, which plain Node cannot load (extensionless ESM
// imports); tfjs-layers' Node bundle registers the same set on import.
import '@tensorflow/tfjs-layers';
import type * as tfc from '@tensorflow/tfjs-core';
import type { CompiledModel } from '../../core/compile/model';
import type { TF } from '../../core/layers/types';
import type { Split } from '../data';
import type { LayerStat } from '../protocol';
import { activationSummary, readLayerStats, reportedLayers } from './layer-stats';
import type { Optimizer } from './optimizers';

/** Names of the trainable variables → their state-dict keys (variableGrads answers by name). */
function variableKeys(model: CompiledModel): Map<string, string> {
  const byName = new Map<string, string>();
  for (const [key, v] of model.weights) if (v.trainable) byName.set(v.name, key);
  return byName;
}

export interface StepResult {
  loss: number;
  /** Correctly classified rows, when the loss is a classification loss. */
  correct: number;
  layerStats?: LayerStat[];
}

/**
 * One optimisation step on a batch: forward in training mode, loss, gradients
 * of every trainable weight, optimizer update — unless the loss is not finite,
 * in which case the weights are left untouched and the loss returned as is.
 * With `withLayerStats`, also the per-layer statistics of this very step.
 */
export function trainStep(
  tf: TF,
  model: CompiledModel,
  optimizer: Optimizer,
  x: tfc.Tensor4D,
  lossOf: (output: tfc.Tensor) => { loss: tfc.Scalar; correct?: tfc.Scalar },
  withLayerStats = false,
): StepResult {
  const keys = variableKeys(model);
  let correct: tfc.Scalar | undefined;
  let result: StepResult | undefined;
  tf.tidy(() => {
    const objective = (output: tfc.Tensor) => {
      const { loss, correct: c } = lossOf(output);
      if (c) correct = tf.keep(c);
      return loss;
    };
    let value: tfc.Scalar;
    let grads: Record<string, tfc.Tensor>;
    let layerStats: (() => LayerStat[]) | undefined;
    if (!withLayerStats) {
      ({ value, grads } = tf.variableGrads(
        () => objective(model.forward(x, true)),
        model.trainable,
      ));
    } else {
      // tfjs computes gradients for whatever tensors `xs` lists once f has run,
      // so f appends each layer's output to xs: one forward and one backward
      // pass give the weight gradients and the gradients w.r.t. every layer output.
      const layers = reportedLayers(model);
      const xs: tfc.Tensor[] = [...model.trainable];
      const activations: tfc.Tensor1D[] = [];
      const outputId = model.inference.outputId as string;
      let outputs = new Map<string, tfc.Tensor>();
      const outcome = tf.engine().gradients(
        () => {
          outputs = model.forwardAll(x, true);
          for (const layer of layers) {
            const y = outputs.get(layer.id) as tfc.Tensor;
            xs.push(y);
            activations.push(tf.keep(activationSummary(tf, layer.type, y)));
          }
          return objective(outputs.get(outputId) as tfc.Tensor);
        },
        xs,
        undefined,
        true,
      );
      tf.dispose([...outputs.values()]);
      value = outcome.value as tfc.Scalar;
      grads = {};
      model.trainable.forEach((v, i) => {
        // A weight the loss does not depend on gets no gradient, as in PyTorch.
        if (outcome.grads[i]) grads[v.name] = outcome.grads[i];
      });
      const layerGrads = outcome.grads.slice(model.trainable.length);
      layerStats = () => readLayerStats(tf, layers, activations, layerGrads);
    }
    const loss = value.dataSync()[0];
    result = { loss, correct: 0, ...(layerStats ? { layerStats: layerStats() } : {}) };
    if (!Number.isFinite(loss)) return;
    const byKey: Record<string, tfc.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) byKey[keys.get(name) as string] = g;
    optimizer.step(byKey);
  });
  if (correct) {
    (result as StepResult).correct = correct.dataSync()[0];
    correct.dispose();
  }
  return result as StepResult;
}

/** Copies the given rows of a split into an NHWC batch (resized if asked) and its labels. */
export function gatherBatch(
  tf: TF,
  split: Split,
  rows: ArrayLike<number>,
  resize?: [number, number],
): { x: tfc.Tensor4D; y: tfc.Tensor1D } {
  const [h, w, c] = split.shape;
  const size = h * w * c;
  const images = new Float32Array(rows.length * size);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    images.set(split.images.subarray(r * size, (r + 1) * size), i * size);
    labels[i] = split.labels[r];
  }
  return tf.tidy(() => {
    let x = tf.tensor4d(images, [rows.length, h, w, c]);
    if (resize && (resize[0] !== h || resize[1] !== w)) {
      x = tf.image.resizeBilinear(x, resize);
    }
    return { x, y: tf.tensor1d(labels, 'int32') };
  });
}
