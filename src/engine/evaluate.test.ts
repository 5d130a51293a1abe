import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuTf } from '../../test/support/tfjs-cpu';
import { compileModel } from '../core/compile/model';
import { inferValidGraph } from '../core/infer';
import type { TF } from '../core/layers/types';
import type { TensorMap } from '../core/weights/safetensors';
import {
  classify,
  featureMaps,
  firstLayerKernels,
  type ImageSet,
  imageBatch,
  noiseImage,
  topPredictions,
} from './evaluate';

let tf: TF;
beforeAll(async () => {
  tf = await cpuTf();
});

type Layer = { id: string; type: string; params?: Record<string, unknown> };
function chain(channels: number, height: number, width: number, layers: Layer[]) {
  const nodes = [{ id: 'input', type: 'Input', params: { channels, height, width } }, ...layers];
  return {
    nodes,
    edges: nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id })),
  };
}

/** Three pixels in, three logits out, with identity weights: the prediction is the brightest pixel. */
function brightestPixelModel() {
  const graph = chain(1, 1, 3, [
    { id: 'flat', type: 'Flatten' },
    { id: 'fc', type: 'Linear', params: { out_features: 3 } },
  ]);
  const weights: TensorMap = new Map([
    ['fc.weight', { shape: [3, 3], data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) }],
    ['fc.bias', { shape: [3], data: new Float32Array(3) }],
  ]);
  return compileModel(tf, inferValidGraph(graph), { weights });
}

describe('classify', () => {
  it('tallies the confusion matrix, per-class accuracy, loss and mistakes as worked out by hand', async () => {
    const model = brightestPixelModel();
    const set: ImageSet = {
      images: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0.9, 0.1, 0.2, 0.7, 0.1]),
      labels: Int32Array.from([0, 0, 2, 1, 2]),
      count: 5,
      shape: [1, 3, 1],
    };
    const result = await classify(tf, model, set, 3, { batchSize: 2 });
    expect(result.confusion).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [0, 1, 1],
    ]);
    expect(result.perClass.map((c) => c.accuracy)).toEqual([0.5, 1, 0.5]);
    expect(result.accuracy).toBeCloseTo(3 / 5, 6);
    const crossEntropy = (pixels: number[], label: number) =>
      Math.log(pixels.reduce((a, p) => a + Math.exp(p), 0)) - pixels[label];
    const expectedLoss =
      (crossEntropy([1, 0, 0], 0) +
        crossEntropy([0, 1, 0], 0) +
        crossEntropy([0, 0, 1], 2) +
        crossEntropy([0, 0.9, 0.1], 1) +
        crossEntropy([0.2, 0.7, 0.1], 2)) /
      5;
    expect(result.loss).toBeCloseTo(expectedLoss, 5);
    // Most confident mistake first: image 4 puts more weight on its wrong class than image 1.
    expect(result.misclassified.map((m) => [m.index, m.label, m.predicted])).toEqual([
      [1, 0, 1],
      [4, 2, 1],
    ]);
    const softmaxOf = (pixels: number[], k: number) =>
      Math.exp(pixels[k]) / pixels.reduce((a, p) => a + Math.exp(p), 0);
    expect(result.misclassified[0].confidence).toBeCloseTo(softmaxOf([0, 1, 0], 1), 5);
    model.dispose();
  });

  it('agrees with argMax of the compiled model on a small CNN, with a limit and resizing', async () => {
    const model = compileModel(
      tf,
      inferValidGraph(
        chain(1, 12, 12, [
          { id: 'conv1', type: 'Conv2d', params: { out_channels: 4, kernel_size: 3, padding: 1 } },
          { id: 'act1', type: 'ReLU' },
          { id: 'pool1', type: 'MaxPool2d', params: { kernel_size: 2, stride: 2 } },
          { id: 'flat', type: 'Flatten' },
          { id: 'fc', type: 'Linear', params: { out_features: 5 } },
        ]),
      ),
      { seed: 3 },
    );
    const count = 40;
    const images = tf.randomUniform([count, 8, 8, 1], 0, 1, 'float32', 7);
    const set: ImageSet = {
      images: images.dataSync() as Float32Array,
      labels: Int32Array.from({ length: count }, (_, i) => (i * 7) % 5),
      count,
      shape: [8, 8, 1],
    };
    const limit = 33;
    const result = await classify(tf, model, set, 5, { batchSize: 8, resize: [12, 12], limit });
    const predicted = tf.tidy(() =>
      Array.from(
        tf
          .argMax(
            model.forward(
              tf.image.resizeBilinear(images as tfc.Tensor4D, [12, 12], false, true),
              false,
            ),
            1,
          )
          .dataSync(),
      ),
    );
    const expected = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
    for (let i = 0; i < limit; i++) expected[set.labels[i]][predicted[i]]++;
    expect(result.count).toBe(limit);
    expect(result.confusion).toEqual(expected);
    expect(result.misclassified.every((m) => predicted[m.index] === m.predicted)).toBe(true);
    images.dispose();
    model.dispose();
  });

  it('says what is wrong when the labels do not fit the model', async () => {
    const model = brightestPixelModel();
    const set: ImageSet = {
      images: Float32Array.from([1, 0, 0]),
      labels: Int32Array.from([7]),
      count: 1,
      shape: [1, 3, 1],
    };
    await expect(classify(tf, model, set, 3)).rejects.toThrow(/label 7.*3 outputs/);
    model.dispose();
  });
});

describe('featureMaps', () => {
  const cnn = () =>
    compileModel(
      tf,
      inferValidGraph(
        chain(1, 6, 6, [
          { id: 'conv1', type: 'Conv2d', params: { out_channels: 3, kernel_size: 3 } },
          { id: 'act1', type: 'Sigmoid' },
          { id: 'flat', type: 'Flatten' },
          { id: 'fc', type: 'Linear', params: { out_features: 4 } },
        ]),
      ),
      { seed: 11 },
    );

  it('gives every layer’s output in PyTorch layout, matching a hand-written convolution and the logits', async () => {
    const model = cnn();
    const image = noiseImage(tf, [6, 6, 1], 5);
    const pixels = image.dataSync();
    const maps = await featureMaps(tf, model, image, 2);
    expect(maps.map((m) => m.id)).toEqual(['input', 'conv1', 'act1', 'flat', 'fc']);
    const conv = maps.find((m) => m.id === 'conv1')!;
    expect(conv.shape).toEqual([1, 3, 4, 4]);
    expect(conv.maps?.channels).toBe(2);
    const w = model.getWeights().get('conv1.weight')!.data;
    const b = model.getWeights().get('conv1.bias')!.data;
    for (let c = 0; c < 2; c++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          let sum = b[c];
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++)
              sum += w[c * 9 + ky * 3 + kx] * pixels[(y + ky) * 6 + x + kx];
          expect(conv.maps!.data[c * 16 + y * 4 + x]).toBeCloseTo(sum, 5);
        }
      }
    }
    const all = tf.tidy(() => model.forward(image, false).dataSync());
    const logits = maps.at(-1)!;
    expect(logits.shape).toEqual([1, 4]);
    expect(Array.from(logits.values!)).toEqual(Array.from(all).map((v) => expect.closeTo(v, 5)));
    expect(logits.min).toBe(Math.min(...all));
    const before = tf.memory().numTensors;
    await featureMaps(tf, model, image);
    expect(tf.memory().numTensors).toBe(before);
    image.dispose();
    model.dispose();
  });

  it('draws the first convolution’s kernels from its weights and ranks predictions by probability', async () => {
    const model = cnn();
    const kernels = firstLayerKernels(model)!;
    const weight = model.getWeights().get('conv1.weight')!;
    expect(kernels.layerId).toBe('conv1');
    expect(kernels.shape).toEqual([3, 1, 3, 3]);
    expect(Array.from(kernels.values)).toEqual(Array.from(weight.data));
    expect(kernels.absMax).toBe(Math.max(...Array.from(weight.data, Math.abs)));

    const image = imageBatch(
      tf,
      { images: new Float32Array(36).fill(0.5), shape: [6, 6, 1] },
      0,
      1,
    );
    const top = await topPredictions(tf, model, image, 3);
    const logits = tf.tidy(() => Array.from(model.forward(image, false).dataSync()));
    const order = logits.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
    expect(top.map((p) => p.index)).toEqual(order.slice(0, 3).map(([, i]) => i));
    const total = logits.reduce((a, v) => a + Math.exp(v), 0);
    expect(top[0].probability).toBeCloseTo(Math.exp(order[0][0]) / total, 5);
    image.dispose();
    model.dispose();
  });
});
