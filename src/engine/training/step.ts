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
import type { Execution, LayerStat } from '../../api/training-protocol';
import type { CompiledModel } from '../../core/compile/model';
import type { TF } from '../../core/layers/types';
import type { Split } from '../data';
import { augmentBatch, augments, type BatchAugmentation } from '../data/augment';
import { activationSummary, packLayerStats, readLayerStats, reportedLayers } from './layer-stats';
import { correctCount, crossEntropy } from './losses';
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

/** The loss of a model output for rows [start, start + count) of the batch. */
export type LossOf = (
  output: tfc.Tensor,
  start: number,
  count: number,
) => { loss: tfc.Scalar; correct?: tfc.Scalar };

export interface StepOptions {
  /** Also the per-layer statistics of this step (of its first micro-batch). */
  layerStats?: boolean;
  /**
   * Split the batch into parts of this many rows and sum their gradients
   * (weighted to the batch mean) before one update, for batches that do not
   * fit in the backend's memory. BatchNorm then normalises each part alone.
   */
  microBatch?: number;
}

interface Gradients {
  loss: number;
  correct: number;
  /** By variable name, kept: the caller disposes them. */
  grads: Record<string, tfc.Tensor>;
  layerStats?: LayerStat[];
}

/**
 * Loss and weight gradients of one forward/backward pass (with layer
 * statistics if asked). Numbers are read with `await data()`: WebGPU in Node
 * cannot read tensors synchronously.
 */
async function gradientsOf(
  tf: TF,
  model: CompiledModel,
  x: tfc.Tensor4D,
  lossOf: (output: tfc.Tensor) => { loss: tfc.Scalar; correct?: tfc.Scalar },
  withLayerStats: boolean,
): Promise<Gradients> {
  let correct: tfc.Scalar | undefined;
  const objective = (output: tfc.Tensor) => {
    const { loss, correct: c } = lossOf(output);
    if (c) correct = tf.keep(c);
    return loss;
  };
  let packedStats: tfc.Tensor1D | undefined;
  const layers = reportedLayers(model);
  const result = tf.tidy((): { value: tfc.Scalar; grads: Record<string, tfc.Tensor> } => {
    if (!withLayerStats) {
      const { value, grads } = tf.variableGrads(
        () => objective(model.forward(x, true)),
        model.trainable,
      );
      tf.keep(value);
      for (const g of Object.values(grads)) tf.keep(g);
      return { value, grads };
    }
    // tfjs computes gradients for whatever tensors `xs` lists once f has run,
    // so f appends each layer's output to xs: one forward and one backward
    // pass give the weight gradients and the gradients w.r.t. every layer output.
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
    const grads: Record<string, tfc.Tensor> = {};
    model.trainable.forEach((v, i) => {
      // A weight the loss does not depend on gets no gradient, as in PyTorch.
      if (outcome.grads[i]) grads[v.name] = tf.keep(outcome.grads[i]);
    });
    const layerGrads = outcome.grads.slice(model.trainable.length);
    packedStats = tf.keep(packLayerStats(tf, activations, layerGrads));
    return { value: tf.keep(outcome.value) as tfc.Scalar, grads };
  });
  // One read for both numbers: every read waits for the device (on a GPU, a round trip).
  const numbers = tf.tidy(() =>
    correct ? tf.stack([result.value, tf.cast(correct, 'float32')]) : result.value,
  );
  const [loss, correctCount = 0] = await numbers.data();
  tf.dispose([numbers, result.value, correct as tfc.Scalar]);
  const layerStats = packedStats ? await readLayerStats(layers, packedStats) : undefined;
  return { loss, correct: correctCount, grads: result.grads, layerStats };
}

/**
 * One optimisation step on a batch: forward in training mode, loss, gradients
 * of every trainable weight, optimizer update — unless the loss is not finite,
 * in which case the weights are left untouched and the loss returned as is.
 */
export async function trainStep(
  tf: TF,
  model: CompiledModel,
  optimizer: Optimizer,
  x: tfc.Tensor4D,
  lossOf: LossOf,
  options: StepOptions = {},
): Promise<StepResult> {
  const keys = variableKeys(model);
  const n = x.shape[0];
  const part = options.microBatch && options.microBatch < n ? options.microBatch : n;
  const sums: Record<string, tfc.Tensor> = {};
  const result: StepResult = { loss: 0, correct: 0 };
  try {
    for (let start = 0; start < n; start += part) {
      const count = Math.min(part, n - start);
      const rows =
        count === n
          ? x
          : (tf.slice(x, [start, 0, 0, 0], [count, ...x.shape.slice(1)]) as tfc.Tensor4D);
      const g = await gradientsOf(
        tf,
        model,
        rows,
        (output) => lossOf(output, start, count),
        options.layerStats === true && start === 0,
      );
      if (rows !== x) rows.dispose();
      // Each part's loss is its own mean; weighting by its share gives the batch mean.
      const share = count / n;
      result.loss += g.loss * share;
      result.correct += g.correct;
      if (g.layerStats) result.layerStats = g.layerStats;
      for (const [name, grad] of Object.entries(g.grads)) {
        const previous = sums[name];
        sums[name] =
          share === 1
            ? grad
            : tf.tidy(() => {
                const weighted = tf.mul(grad, share);
                return previous ? tf.add(previous, weighted) : weighted;
              });
        if (share !== 1) {
          grad.dispose();
          previous?.dispose();
        }
      }
      if (!Number.isFinite(g.loss)) {
        result.loss = g.loss;
        return result;
      }
    }
    const byKey: Record<string, tfc.Tensor> = {};
    for (const [name, grad] of Object.entries(sums)) byKey[keys.get(name) as string] = grad;
    optimizer.step(byKey);
    return result;
  } finally {
    tf.dispose(Object.values(sums));
  }
}

/**
 * The step level of a run: forward, backward and update on one batch of
 * rows of a split. The trainer calls `run` once per batch; everything about
 * how the step is computed (how the batch is assembled and resized, where
 * its numbers come from) stays behind this, chosen in prepare.ts: tfjs's
 * automatic differentiation, or the compiled WebGPU step (engine/webgpu).
 */
export interface TrainingStep {
  readonly execution: Execution;
  /**
   * How many steps may be under way before the trainer waits for the oldest
   * one's numbers (0: each step's numbers are read before the next starts).
   */
  readonly inFlight: number;
  /**
   * Starts one optimisation step; resolves once it is under way, with its
   * numbers to come. The weights are left untouched when the loss is not finite.
   */
  run(
    split: Split,
    rows: Int32Array,
    /** `augment`: this training batch's crops and flips, applied as the batch is assembled. */
    options: { layerStats: boolean; augment?: BatchAugmentation },
  ): Promise<{ result: Promise<StepResult> }>;
  /** Summed cross-entropy and correct rows over batches of a split, in inference mode. */
  evaluate(split: Split, batches: Int32Array[]): Promise<{ lossSum: number; correct: number }>;
  /**
   * Releases what the step holds; resolves once it is released (the compiled
   * step's GPU buffers go when the queue has run what uses them).
   */
  dispose(): void | Promise<void>;
}

/**
 * The classification step through tfjs's automatic differentiation, on any
 * backend: batches assembled and resized by tfjs, cross-entropy on the
 * logits, gradients summed over micro-batches when a whole batch does not fit.
 */
export function autodiffStep(
  tf: TF,
  model: CompiledModel,
  optimizer: Optimizer,
  { resize, microBatch }: { resize?: [number, number]; microBatch?: number },
): TrainingStep {
  return {
    execution: 'op-by-op',
    inFlight: 0,
    async run(split, rows, { layerStats, augment }) {
      const { x, y } = gatherBatch(tf, split, rows, resize, augment);
      const result = await trainStep(
        tf,
        model,
        optimizer,
        x,
        (logits, start, count) => {
          const labels = count === y.shape[0] ? y : (tf.slice(y, start, count) as tfc.Tensor1D);
          return {
            loss: crossEntropy(tf, logits, labels),
            correct: correctCount(tf, logits, labels),
          };
        },
        { layerStats, microBatch },
      ).finally(() => tf.dispose([x, y]));
      return { result: Promise.resolve(result) };
    },
    async evaluate(split, batches) {
      let lossSum = 0;
      let correct = 0;
      for (const rows of batches) {
        const { x, y } = gatherBatch(tf, split, rows, resize);
        const sums = tf.tidy(() => {
          const logits = model.forward(x, false);
          return tf.stack([
            crossEntropy(tf, logits, y, 'sum'),
            tf.cast(correctCount(tf, logits, y), 'float32'),
          ]);
        });
        const [batchLoss, batchCorrect] = await sums.data();
        tf.dispose([sums, x, y]);
        lossSum += batchLoss;
        correct += batchCorrect;
      }
      return { lossSum, correct };
    },
    dispose() {},
  };
}

/** The rows of a split as the values a batch holds (NHWC images, labels), without tfjs. */
export function batchValues(
  split: Split,
  rows: ArrayLike<number>,
  /** Training batches only: crops and flips (at the stored size, before any resize). */
  augment?: BatchAugmentation,
): { images: Float32Array; labels: Int32Array } {
  const size = split.shape[0] * split.shape[1] * split.shape[2];
  const images = new Float32Array(rows.length * size);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    images.set(split.images.subarray(r * size, (r + 1) * size), i * size);
    labels[i] = split.labels[r];
  }
  if (augment && augments(augment.augmentation))
    augmentBatch(images, split.shape, augment.augmentation, augment.draw);
  return { images, labels };
}

/** Copies the given rows of a split into an NHWC batch (resized if asked) and its labels. */
export function gatherBatch(
  tf: TF,
  split: Split,
  rows: ArrayLike<number>,
  resize?: [number, number],
  /** Training batches only: crops and flips (at the stored size, before the resize). */
  augment?: BatchAugmentation,
): { x: tfc.Tensor4D; y: tfc.Tensor1D } {
  const [h, w, c] = split.shape;
  const { images, labels } = batchValues(split, rows, augment);
  return tf.tidy(() => {
    let x = tf.tensor4d(images, [rows.length, h, w, c]);
    if (resize && (resize[0] !== h || resize[1] !== w)) {
      // Half-pixel centres: PyTorch's F.interpolate(mode='bilinear', align_corners=False).
      x = tf.image.resizeBilinear(x, resize, false, true);
    }
    return { x, y: tf.tensor1d(labels, 'int32') };
  });
}
