/**
 * Every layer of the catalog through the compiled WebGPU step on
 * SwiftShader, against the op-by-op path on tfjs's cpu backend (which the
 * PyTorch parity tests hold to PyTorch): output, loss, the input's and every
 * weight's gradient, and the weights and running statistics after the
 * update; then what a run needs besides a step (optimizers, their state,
 * evaluation, layer statistics, a smaller last batch, resizing, dropout).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { chain, type ParityCase } from '../../../test/parity/harness';
import { layerCases } from '../../../test/parity/layer-cases';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import { type CompareCase, compareStep, excessive, uniform } from '../../../test/webgpu/compare';
import { referenceStep, relativeError } from '../../../test/webgpu/reference';
import type { LayerStat } from '../../api/training-protocol';
import { compileModel } from '../../core/compile/model';
import { inferValidGraph } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import { initBackend } from '../backends';
import { correctCount, crossEntropy } from '../training/losses';
import { createOptimizer, type OptimizerConfig } from '../training/optimizers';
import { trainStep } from '../training/step';
import { CompiledStep } from './executor';

const img = (c: number, h: number, w = h, n = 2) => [n, c, h, w];

/**
 * A small network with every kind of weight: convolution, BatchNorm, Linear.
 * The convolution has no bias: before a training BatchNorm a bias's gradient
 * is exactly zero (the compiled step writes 0), while the op-by-op path sums
 * rounding noise of 1e-9, which Adam's normalisation turns into whole steps.
 */
const smallNet = (optimizer: OptimizerConfig, name: string): CompareCase => ({
  name,
  graph: chain(
    img(2, 6),
    { type: 'Conv2d', params: { out_channels: 3, kernel_size: 3, padding: 1, bias: false } },
    { type: 'BatchNorm2d' },
    { type: 'ReLU' },
    { type: 'Flatten' },
    { type: 'Linear', params: { out_features: 4 } },
  ),
  input: img(2, 6, 6, 3),
  labels: [1, 3, 0],
  optimizer,
  steps: 3,
});

/** Graphs the parity cases leave out: fan-out into one layer, three-way Add, Softmax inside. */
const extraCases: CompareCase[] = [
  smallNet({ name: 'sgd', lr: 0.05 }, 'plain SGD, 3 steps'),
  smallNet({ name: 'adam', lr: 0.01, weightDecay: 0.01 }, 'Adam with L2 weight decay, 3 steps'),
  smallNet({ name: 'adamw', lr: 0.01, weightDecay: 0.1 }, 'AdamW, 3 steps'),
  {
    name: 'Add of three inputs, one of them the input twice over through Concat',
    graph: {
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 2, height: 4, width: 4 } },
        { id: 'a', type: 'Conv2d', params: { out_channels: 4, kernel_size: 1 } },
        { id: 'b', type: 'Conv2d', params: { out_channels: 4, kernel_size: 3, padding: 1 } },
        { id: 'twice', type: 'Concat' },
        { id: 'sum', type: 'Add' },
        { id: 'soft', type: 'Softmax' },
        { id: 'flat', type: 'Flatten' },
        { id: 'fc', type: 'Linear', params: { out_features: 3 } },
      ],
      edges: [
        { source: 'input', target: 'a' },
        { source: 'input', target: 'b' },
        { source: 'input', target: 'twice' },
        { source: 'input', target: 'twice' },
        { source: 'a', target: 'sum' },
        { source: 'b', target: 'sum' },
        { source: 'twice', target: 'sum' },
        { source: 'sum', target: 'soft' },
        { source: 'soft', target: 'flat' },
        { source: 'flat', target: 'fc' },
      ],
    },
    input: img(2, 4, 4, 3),
    labels: [2, 0, 1],
  },
];

describeWith([swiftshader], 'the compiled WebGPU step, layer by layer (SwiftShader)', () => {
  let tf: TF;
  beforeAll(async () => {
    const runtime = await initBackend('webgpu');
    expect(runtime.backend, runtime.note).toBe('webgpu');
    tf = runtime.tf;
  });

  it('matches the op-by-op path on every layer case (forward, gradients, update)', async () => {
    // Layers that draw random numbers (the catalog's seedsPerPass: dropout) draw their own
    // stream here, not tfjs's: they have tests of their own.
    const deterministic = layerCases.filter((c) =>
      inferValidGraph(c.graph).primitives.every(
        (p) => p.def.kind !== 'primitive' || (p.def.seedsPerPass?.(p.params) ?? 0) === 0,
      ),
    );
    const off: string[] = [];
    for (const c of [...deterministic, ...extraCases]) {
      off.push(...excessive(await compareStep(tf, c)).map((d) => `${c.name}: ${d}`));
    }
    expect(off).toEqual([]);
  });

  /** A compiled step of a graph on the webgpu backend, from the cpu backend's initial weights. */
  async function compiled(c: ParityCase, optimizer: OptimizerConfig, batch = c.input[0]) {
    const inference = inferValidGraph(c.graph, { inputShape: c.input });
    await tf.setBackend('webgpu');
    const model = compileModel(tf, inference, { seed: 1 });
    const step = await CompiledStep.create(tf, model, { optimizer, batch });
    return { inference, model, step };
  }

  it("learns the notes' edge kernel [1, −1] with the summed squared error (7.2.4)", async () => {
    const graph = chain([1, 1, 6, 8], {
      type: 'Conv2d',
      params: { out_channels: 1, kernel_size: [1, 2], bias: false },
      id: 'conv',
    });
    await tf.setBackend('webgpu');
    const model = compileModel(tf, inferValidGraph(graph), { seed: 1 });
    const step = await CompiledStep.create(tf, model, {
      optimizer: { name: 'sgd', lr: 3e-2 },
      batch: 1,
      loss: 'mse-sum',
    });
    const xRows = Array.from({ length: 6 }, () => [1, 1, 0, 0, 0, 0, 1, 1]);
    const yRows = xRows.map((row) => row.slice(0, 7).map((v, j) => v - row[j + 1]));
    const input = {
      images: Float32Array.from(xRows.flat()),
      targets: Float32Array.from(yRows.flat()),
    };
    const pending = [];
    for (let epoch = 0; epoch < 10; epoch++) pending.push((await step.step(input)).metrics);
    const losses = (await Promise.all(pending)).map((m) => m.loss);
    const kernel = (await model.readWeights()).get('conv.weight')?.data as Float32Array;
    expect(kernel[0]).toBeCloseTo(1, 1);
    expect(kernel[1]).toBeCloseTo(-1, 1);
    expect(losses[9]).toBeLessThan(losses[1] / 20);
    step.dispose();
    model.dispose();
  });

  it("resizes the images on the GPU as the op-by-op path does (PyTorch's bilinear: half-pixel centres)", async () => {
    const graph = chain([2, 1, 12, 10], { type: 'Flatten' });
    await tf.setBackend('webgpu');
    const model = compileModel(tf, inferValidGraph(graph, { inputShape: [2, 1, 12, 10] }));
    const step = await CompiledStep.create(tf, model, {
      optimizer: { name: 'sgd', lr: 0.1 },
      batch: 2,
      loss: 'mse',
      imageSize: [7, 5],
    });
    const images = uniform(2 * 7 * 5, 3);
    await (await step.step({ images, targets: new Float32Array(2 * 120) })).metrics;
    const resized = await step.readValue(step.train.output);
    step.dispose();
    model.dispose();
    await tf.setBackend('cpu');
    const expected = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(images, [2, 7, 5, 1]), [12, 10], false, true).dataSync(),
    );
    expect(relativeError(resized, expected)).toBeLessThan(1e-5);
  });

  it('drops each value with probability p, scales the rest, and masks the gradient alike', async () => {
    const graph = chain([4, 8, 16, 16], { type: 'Dropout', params: { p: 0.3 } });
    await tf.setBackend('webgpu');
    const model = compileModel(tf, inferValidGraph(graph, { inputShape: [4, 8, 16, 16] }));
    const step = await CompiledStep.create(tf, model, {
      optimizer: { name: 'sgd', lr: 0.1 },
      batch: 4,
      loss: 'mse-sum',
      inputGradient: true,
      seed: 5,
    });
    const count = 4 * 8 * 16 * 16;
    const images = uniform(count, 9, [0.5, 1.5]);
    const targets = new Float32Array(count);
    const masks: boolean[][] = [];
    for (let i = 0; i < 2; i++) {
      await (await step.step({ images, targets })).metrics;
      const y = await step.readValue(step.train.output);
      const dx = await step.readValue(step.train.inputGradient as number);
      const kept = Array.from(y, (v) => v !== 0);
      masks.push(kept);
      const keptShare = kept.filter(Boolean).length / count;
      expect(keptShare).toBeGreaterThan(0.66);
      expect(keptShare).toBeLessThan(0.74);
      for (let j = 0; j < count; j++) {
        const expectedY = kept[j] ? images[j] / 0.7 : 0;
        expect(Math.abs(y[j] - expectedY)).toBeLessThan(1e-5);
        // loss = Σy², so dx = 2y·(mask/0.7).
        expect(Math.abs(dx[j] - (kept[j] ? (2 * y[j]) / 0.7 : 0))).toBeLessThan(1e-4);
      }
    }
    // Each step draws a new mask.
    expect(masks[0].filter((k, j) => k !== masks[1][j]).length).toBeGreaterThan(count / 10);
    step.dispose();
    model.dispose();
  });

  it('Dropout2d keeps or drops whole maps of each sample, scaling what it keeps', async () => {
    const [n, c, h, w] = [8, 16, 4, 4];
    const graph = chain([n, c, h, w], { type: 'Dropout2d', params: { p: 0.5 } });
    await tf.setBackend('webgpu');
    const model = compileModel(tf, inferValidGraph(graph, { inputShape: [n, c, h, w] }));
    const step = await CompiledStep.create(tf, model, {
      optimizer: { name: 'sgd', lr: 0.1 },
      batch: n,
      loss: 'mse-sum',
      inputGradient: true,
      seed: 3,
    });
    const count = n * c * h * w;
    const images = uniform(count, 4, [0.5, 1.5]);
    await (await step.step({ images, targets: new Float32Array(count) })).metrics;
    const y = await step.readValue(step.train.output);
    const dx = await step.readValue(step.train.inputGradient as number);
    step.dispose();
    model.dispose();
    // NHWC: value (sample, pixel, channel) is at (sample · h·w + pixel) · c + channel.
    let keptMaps = 0;
    for (let sample = 0; sample < n; sample++) {
      for (let channel = 0; channel < c; channel++) {
        const at = Array.from({ length: h * w }, (_, px) => (sample * h * w + px) * c + channel);
        const kept = y[at[0]] !== 0;
        if (kept) keptMaps++;
        for (const j of at) {
          expect(Math.abs(y[j] - (kept ? images[j] / 0.5 : 0))).toBeLessThan(1e-5);
          expect(Math.abs(dx[j] - (kept ? (2 * y[j]) / 0.5 : 0))).toBeLessThan(1e-4);
        }
      }
    }
    // 128 maps, each kept with probability ½.
    expect(keptMaps).toBeGreaterThan(40);
    expect(keptMaps).toBeLessThan(88);
  });

  const statsCase: ParityCase = {
    name: 'stats',
    graph: chain(
      img(1, 8),
      { type: 'Conv2d', params: { out_channels: 4, kernel_size: 3, padding: 1 }, id: 'conv' },
      { type: 'BatchNorm2d', id: 'bn' },
      { type: 'ReLU', id: 'relu' },
      { type: 'MaxPool2d', params: { kernel_size: 2 }, id: 'pool' },
      { type: 'Flatten', id: 'flat' },
      { type: 'Linear', params: { out_features: 6 }, id: 'fc1' },
      { type: 'Sigmoid', id: 'sig' },
      { type: 'Linear', params: { out_features: 3 }, id: 'fc2' },
    ),
    input: img(1, 8, 8, 4),
  };
  const labels = Int32Array.from([0, 2, 1, 1]);

  it('evaluates with running statistics as tfjs does (summed loss, correct rows)', async () => {
    const { inference, model, step } = await compiled(statsCase, { name: 'sgd', lr: 0.5 });
    const images = uniform(4 * 64, 13);
    await (await step.step({ images, labels })).metrics;
    const weights = await model.readWeights();
    const evaluated = await step.evaluate([{ images, labels }]);
    step.dispose();
    model.dispose();
    await tf.setBackend('cpu');
    const reference = compileModel(tf, inference, { weights });
    const [lossSum, correct] = tf.tidy(() => {
      const x = tf.tensor4d(images, [4, 8, 8, 1]);
      const y = tf.tensor1d(labels, 'int32');
      const logits = reference.forward(x, false);
      return [
        crossEntropy(tf, logits, y, 'sum').dataSync()[0],
        correctCount(tf, logits, y).dataSync()[0],
      ];
    });
    reference.dispose();
    expect(Math.abs(evaluated.lossSum - lossSum) / lossSum).toBeLessThan(1e-5);
    expect(evaluated.correct).toBe(correct);
  });

  it('reports the same layer statistics as the op-by-op step', async () => {
    const { inference, model, step } = await compiled(statsCase, { name: 'sgd', lr: 0.5 });
    const weights = await model.readWeights();
    const images = uniform(4 * 64, 17);
    const ours = (await (await step.step({ images, labels }, { layerStats: true })).metrics)
      .layerStats;
    step.dispose();
    model.dispose();
    await tf.setBackend('cpu');
    const reference = compileModel(tf, inference, { weights });
    const optimizer = createOptimizer(
      tf,
      new Map([...reference.weights].filter(([, v]) => v.trainable)),
      { name: 'sgd', lr: 0.5 },
    );
    const x = tf.tensor4d(images, [4, 8, 8, 1]);
    const y = tf.tensor1d(labels, 'int32');
    const theirs = (
      await trainStep(
        tf,
        reference,
        optimizer,
        x,
        (logits: tfc.Tensor) => ({ loss: crossEntropy(tf, logits, y) }),
        { layerStats: true },
      )
    ).layerStats;
    tf.dispose([x, y]);
    optimizer.dispose();
    reference.dispose();
    expect(ours?.map((s) => s.id)).toEqual(theirs?.map((s) => s.id));
    for (const [i, stat] of (theirs ?? []).entries()) {
      const mine = ours?.[i] as LayerStat;
      expect(Object.keys(mine).sort(), stat.id).toEqual(Object.keys(stat).sort());
      for (const [field, value] of Object.entries(stat)) {
        if (typeof value !== 'number') continue;
        const got = mine[field as keyof typeof mine] as number;
        expect(Math.abs(got - value), `${stat.id} ${field}`).toBeLessThan(
          1e-5 + 1e-3 * Math.abs(value),
        );
      }
    }
  });

  it('keeps the optimizer state in PyTorch’s names, and resuming from it changes nothing', async () => {
    const adam: OptimizerConfig = { name: 'adam', lr: 0.01, weightDecay: 0.01 };
    const images = uniform(4 * 64, 19);
    const run = async (steps: number) => {
      const { model, step } = await compiled(statsCase, adam);
      for (let i = 0; i < steps; i++) await (await step.step({ images, labels })).metrics;
      return { model, step };
    };
    const straight = await run(3);
    const expected = await straight.model.readWeights();
    straight.step.dispose();
    straight.model.dispose();

    const first = await run(2);
    const state = await first.step.getOptimizerState();
    const weights = await first.model.readWeights();
    first.step.dispose();
    first.model.dispose();
    expect(state.step).toBe(2);
    expect([...state.slots.keys()].sort()).toContain('fc1.weight.exp_avg_sq');
    expect(state.slots.get('conv.weight.exp_avg')?.shape).toEqual([4, 1, 3, 3]);

    const inference = inferValidGraph(statsCase.graph, { inputShape: statsCase.input });
    const model = compileModel(tf, inference, { weights });
    const resumed = await CompiledStep.create(tf, model, { optimizer: adam, batch: 4 });
    resumed.setOptimizerState(state);
    await (await resumed.step({ images, labels })).metrics;
    const after = await model.readWeights();
    resumed.dispose();
    model.dispose();
    for (const [key, t] of expected) {
      expect(relativeError(after.get(key)?.data as Float32Array, t.data), key).toBeLessThan(1e-6);
    }
  });

  it('plans a smaller last batch on first use and trains it like the op-by-op path', async () => {
    const optimizer: OptimizerConfig = { name: 'sgd', lr: 0.1, momentum: 0.9 };
    const { graph } = smallNet(optimizer, 'last batch');
    const small = inferValidGraph(graph, { inputShape: img(2, 6, 6, 3) });
    await tf.setBackend('cpu');
    const initial = compileModel(tf, small, { seed: 1 });
    const weights = await initial.readWeights();
    initial.dispose();
    const images = uniform(3 * 36 * 2, 23);
    const last = Int32Array.from([1, 0, 3]);
    const reference = await referenceStep(tf, {
      inference: small,
      weights,
      images,
      labels: last,
      loss: 'cross-entropy',
      optimizer,
    });
    await tf.setBackend('webgpu');
    const model = compileModel(tf, inferValidGraph(graph, { inputShape: img(2, 6, 6, 5) }), {
      weights,
    });
    const step = await CompiledStep.create(tf, model, { optimizer, batch: 5 });
    const metrics = await (await step.step({ images, labels: last })).metrics;
    const after = await model.readWeights();
    step.dispose();
    model.dispose();
    expect(Math.abs(metrics.loss - reference.loss)).toBeLessThan(1e-5);
    for (const [key, t] of reference.weights) {
      expect(relativeError(after.get(key)?.data as Float32Array, t.data), key).toBeLessThan(1e-5);
    }
  });
});
