import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../core/compile/model';
import { inferValidGraph } from '../../core/infer';
import { getPreset } from '../../core/presets';
import { initBackend } from '../backends';
import { correctCount, crossEntropy, meanSquaredError } from './losses';
import { createOptimizer } from './optimizers';
import { trainStep } from './step';

beforeAll(async () => {
  // The fastest CPU backend here (wasm, with the project's training kernels); cpu where it cannot start.
  await initBackend('wasm');
});

const trainableByKey = (model: ReturnType<typeof compileModel>) =>
  new Map([...model.weights].filter(([, v]) => v.trainable));

describe("the notes' kernel-learning example (7.2.4) through the engine", () => {
  it('a bias-free 1×2 Conv2d learns the edge kernel [1, -1] from X and Y in 10 epochs', async () => {
    const project = {
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 1, height: 6, width: 8 } },
        {
          id: 'conv',
          type: 'Conv2d',
          params: { out_channels: 1, kernel_size: [1, 2], bias: false },
        },
      ],
      edges: [{ source: 'input', target: 'conv' }],
    };
    const model = compileModel(tf, inferValidGraph(project), { seed: 1 });
    // X: ones with a zero stripe in columns 2..5; Y = corr2d(X, [[1, -1]]).
    const xRows = Array.from({ length: 6 }, () => [1, 1, 0, 0, 0, 0, 1, 1]);
    const yRows = xRows.map((row) => row.slice(0, 7).map((v, j) => v - row[j + 1]));
    const x = tf.tensor4d(xRows.flat(), [1, 6, 8, 1]);
    const y = tf.tensor4d(yRows.flat(), [1, 6, 7, 1]);
    const optimizer = createOptimizer(tf, trainableByKey(model), { name: 'sgd', lr: 3e-2 });
    const losses: number[] = [];
    for (let epoch = 0; epoch < 10; epoch++) {
      const step = await trainStep(tf, model, optimizer, x, (yHat) => ({
        loss: meanSquaredError(tf, yHat, y, 'sum'),
      }));
      losses.push(step.loss);
    }
    const kernel = Array.from(model.weights.get('conv.weight')!.dataSync());
    expect(kernel[0]).toBeCloseTo(1, 1);
    expect(kernel[1]).toBeCloseTo(-1, 1);
    // The loss falls as in the notes (10.4 at epoch 2 … 0.009 at epoch 10, from a random start).
    expect(losses[9]).toBeLessThan(0.1);
    expect(losses[9]).toBeLessThan(losses[1] / 20);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
});

describe('training steps on LeNet', () => {
  const lenet = getPreset('lenet')!.build();

  function batch(n: number) {
    const x = tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % 10),
      'int32',
    );
    return { x, y };
  }

  it('reports per-layer statistics with gradients, saturation for sigmoids, and leaks no tensors', async () => {
    const model = compileModel(tf, inferValidGraph(lenet, { batch: 8 }), {
      seed: 0,
      init: 'xavier',
    });
    const optimizer = createOptimizer(tf, trainableByKey(model), { name: 'sgd', lr: 0.1 });
    const { x, y } = batch(8);
    const lossOf = (logits: tf.Tensor) => ({
      loss: crossEntropy(tf, logits, y),
      correct: correctCount(tf, logits, y),
    });
    await trainStep(tf, model, optimizer, x, lossOf, { layerStats: true });
    const before = tf.memory().numTensors;
    const plain = await trainStep(tf, model, optimizer, x, lossOf);
    expect(tf.memory().numTensors).toBe(before);
    const withStats = await trainStep(tf, model, optimizer, x, lossOf, { layerStats: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(plain.layerStats).toBeUndefined();
    const stats = withStats.layerStats!;
    expect(stats.map((s) => s.type)).toEqual([
      'Conv2d',
      'Sigmoid',
      'AvgPool2d',
      'Conv2d',
      'Sigmoid',
      'AvgPool2d',
      'Flatten',
      'Linear',
      'Sigmoid',
      'Linear',
      'Sigmoid',
      'Linear',
    ]);
    for (const s of stats) {
      expect(Number.isFinite(s.activationMean) && s.activationStd >= 0).toBe(true);
      expect(Number.isFinite(s.gradientMean!) && s.gradientStd! > 0).toBe(true);
      expect(s.saturatedFraction !== undefined).toBe(s.type === 'Sigmoid');
      expect(s.deadFraction).toBeUndefined();
    }
    // Sigmoid outputs lie in (0, 1), so their mean does too.
    const sigmoid = stats.find((s) => s.type === 'Sigmoid')!;
    expect(sigmoid.activationMean).toBeGreaterThan(0);
    expect(sigmoid.activationMean).toBeLessThan(1);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('micro-batches give the full batch’s update (no batch statistics in LeNet)', async () => {
    const inference = inferValidGraph(lenet, { batch: 8 });
    const { x, y } = batch(8);
    const lossOf = (logits: tf.Tensor, start: number, count: number) => ({
      loss: crossEntropy(tf, logits, tf.slice(y, start, count) as tf.Tensor1D),
    });
    const trainedWith = async (microBatch?: number) => {
      const model = compileModel(tf, inference, { seed: 5 });
      const optimizer = createOptimizer(tf, trainableByKey(model), { name: 'sgd', lr: 0.5 });
      const { loss } = await trainStep(tf, model, optimizer, x, lossOf, { microBatch });
      const weights = model.getWeights().get('conv1.weight')!.data.slice();
      optimizer.dispose();
      model.dispose();
      return { loss, weights };
    };
    const whole = await trainedWith();
    const before = tf.memory().numTensors;
    const parts = await trainedWith(3);
    expect(tf.memory().numTensors).toBe(before);
    expect(parts.loss).toBeCloseTo(whole.loss, 5);
    const worst = Math.max(...whole.weights.map((w, i) => Math.abs(w - parts.weights[i])));
    expect(worst).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });

  it('a non-finite loss leaves the weights untouched', async () => {
    const model = compileModel(tf, inferValidGraph(lenet, { batch: 4 }), { seed: 0 });
    const optimizer = createOptimizer(tf, trainableByKey(model), { name: 'sgd', lr: 0.1 });
    const { x } = batch(4);
    const before = model.getWeights().get('fc3.weight')!.data.slice();
    const step = await trainStep(tf, model, optimizer, x, (logits) => ({
      loss: tf.div(tf.sum(logits), 0) as tf.Scalar,
    }));
    expect(Number.isFinite(step.loss)).toBe(false);
    expect(model.getWeights().get('fc3.weight')!.data).toEqual(before);
    x.dispose();
    optimizer.dispose();
    model.dispose();
  });
});
