/**
 * Looking inside a trained network: the confusion matrix and per-class
 * accuracy on test images, the misclassified ones, every layer's feature maps
 * for one image, the first convolution's kernels and the top predictions.
 * Pure tfjs on a CompiledModel, so it runs wherever the model does.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { CompiledModel } from '../core/compile/model';
import type { TF } from '../core/layers/types';

/** Images as the data pipeline holds them: N×H×W×C floats in [0, 1]. */
export interface ImageSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  shape: [number, number, number];
}

export interface ClassifyOptions {
  batchSize?: number;
  /** Resize to [height, width] before the model, as the trainer does. */
  resize?: [number, number];
  /** Classify only the first this many images. */
  limit?: number;
  /** How many misclassified examples to keep (most confident mistakes first). */
  maxMisclassified?: number;
  /** Called after every batch with the images classified so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface Misclassified {
  index: number;
  label: number;
  predicted: number;
  /** Softmax probability of the predicted class. */
  confidence: number;
}

export interface Classification {
  count: number;
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  perClass: { count: number; correct: number; accuracy: number }[];
  misclassified: Misclassified[];
}

/** Images [start, start+count) of a set as an NHWC batch, resized if asked. */
export function imageBatch(
  tf: TF,
  set: Pick<ImageSet, 'images' | 'shape'>,
  start: number,
  count: number,
  resize?: [number, number],
): tfc.Tensor4D {
  const [h, w, c] = set.shape;
  const size = h * w * c;
  return tf.tidy(() => {
    const batch = tf.tensor4d(set.images.subarray(start * size, (start + count) * size), [
      count,
      h,
      w,
      c,
    ]);
    if (!resize || (resize[0] === h && resize[1] === w)) return batch;
    // Half-pixel centres: PyTorch's F.interpolate(mode='bilinear', align_corners=False).
    return tf.image.resizeBilinear(batch, resize, false, true);
  });
}

/** Classifies a set batch by batch and tallies what a person wants to see of the result. */
export async function classify(
  tf: TF,
  model: CompiledModel,
  set: ImageSet,
  classCount: number,
  options: ClassifyOptions = {},
): Promise<Classification> {
  const batchSize = options.batchSize ?? 256;
  const count = Math.min(set.count, options.limit ?? set.count);
  const confusion = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  const mistakes: Misclassified[] = [];
  let lossSum = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const labels = set.labels.subarray(start, start + n);
    const [probabilities, losses] = tf.tidy(() => {
      const logits = model.forward(
        imageBatch(tf, set, start, n, options.resize),
        false,
      ) as tfc.Tensor2D;
      const logProbabilities = tf.logSoftmax(logits);
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), classCount);
      return [tf.exp(logProbabilities), tf.neg(tf.sum(tf.mul(oneHot, logProbabilities), 1))];
    });
    const p = (await probabilities.data()) as Float32Array;
    const l = (await losses.data()) as Float32Array;
    tf.dispose([probabilities, losses]);
    options.onProgress?.(start + n, count);
    // Let the host answer other calls and pass training events on between batches.
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (let i = 0; i < n; i++) {
      const row = p.subarray(i * classCount, (i + 1) * classCount);
      const predicted = argMax(row);
      const label = labels[i];
      if (label < 0 || label >= classCount) {
        throw new Error(
          `Image ${start + i} has label ${label}, but the model has ${classCount} outputs: its last layer must have one output per class.`,
        );
      }
      confusion[label][predicted]++;
      lossSum += l[i];
      if (predicted !== label) {
        mistakes.push({ index: start + i, label, predicted, confidence: row[predicted] });
      }
    }
  }
  const perClass = confusion.map((row, k) => {
    const total = row.reduce((a, b) => a + b, 0);
    return { count: total, correct: row[k], accuracy: total === 0 ? 0 : row[k] / total };
  });
  const correct = perClass.reduce((a, c) => a + c.correct, 0);
  mistakes.sort((a, b) => b.confidence - a.confidence);
  return {
    count,
    accuracy: count === 0 ? 0 : correct / count,
    loss: count === 0 ? 0 : lossSum / count,
    confusion,
    perClass,
    misclassified: mistakes.slice(0, options.maxMisclassified ?? 48),
  };
}

export interface FeatureMap {
  id: string;
  type: string;
  /** PyTorch layout: [1, C, H, W] or [1, F]. */
  shape: number[];
  min: number;
  max: number;
  /** For 4-D outputs: the first `channels` maps, channel-major (C×H×W), as PyTorch lays them out. */
  maps?: { channels: number; height: number; width: number; data: Float32Array };
  /** For vector outputs: all values. */
  values?: Float32Array;
}

/**
 * Every primitive's output for one image (NHWC batch of 1), in execution
 * order, with at most `maxChannels` maps per layer.
 */
export async function featureMaps(
  tf: TF,
  model: CompiledModel,
  image: tfc.Tensor4D,
  maxChannels = 16,
): Promise<FeatureMap[]> {
  const outputs = model.forwardAll(image, false);
  try {
    const result: FeatureMap[] = [];
    for (const primitive of model.inference.primitives) {
      const output = outputs.get(primitive.id);
      if (!output) continue;
      const values = (await output.data()) as Float32Array;
      const { min, max } = range(values);
      const base = { id: primitive.id, type: primitive.type, min, max };
      if (output.rank === 4) {
        const [, height, width, channels] = output.shape;
        const shown = Math.min(channels, maxChannels);
        const chw = tf.tidy(() =>
          tf.transpose(tf.slice(output, [0, 0, 0, 0], [1, height, width, shown]), [0, 3, 1, 2]),
        );
        const data = (await chw.data()) as Float32Array;
        chw.dispose();
        result.push({
          ...base,
          shape: [1, channels, height, width],
          maps: { channels: shown, height, width, data },
        });
      } else {
        result.push({ ...base, shape: [...output.shape], values });
      }
    }
    return result;
  } finally {
    tf.dispose([...outputs.values()]);
  }
}

export interface Kernels {
  layerId: string;
  /** [out, in, kh, kw], PyTorch layout. */
  shape: number[];
  values: Float32Array;
  absMax: number;
}

/** The first convolution's weights, to be drawn one small image per (out, in) pair. */
export function firstLayerKernels(model: CompiledModel): Kernels | undefined {
  const conv = model.inference.primitives.find((p) => p.type === 'Conv2d');
  if (!conv) return undefined;
  const key = `${conv.id.replaceAll('/', '.')}.weight`;
  const weight = model.getWeights().get(key);
  if (!weight) return undefined;
  const { min, max } = range(weight.data);
  return {
    layerId: conv.id,
    shape: weight.shape,
    values: weight.data,
    absMax: Math.max(Math.abs(min), Math.abs(max)),
  };
}

export interface Prediction {
  index: number;
  probability: number;
}

/** The k most probable classes for one image (NHWC batch of 1). */
export async function topPredictions(
  tf: TF,
  model: CompiledModel,
  image: tfc.Tensor4D,
  k = 5,
): Promise<Prediction[]> {
  const probabilities = tf.tidy(() => tf.softmax(model.forward(image, false) as tfc.Tensor2D));
  const p = (await probabilities.data()) as Float32Array;
  probabilities.dispose();
  return [...p]
    .map((probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

/** Uniform noise in [0, 1], seeded so the same seed shows the same image. */
export function noiseImage(tf: TF, shape: [number, number, number], seed: number): tfc.Tensor4D {
  return tf.randomUniform([1, ...shape], 0, 1, 'float32', seed) as tfc.Tensor4D;
}

function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function range(values: ArrayLike<number>): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return values.length === 0 ? { min: 0, max: 0 } : { min, max };
}
