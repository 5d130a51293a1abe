/**
 * The compiled step training for real on SwiftShader: LeNet on the bundled
 * Fashion-MNIST sample follows the op-by-op path on wasm step by step, with
 * its metrics read a few steps behind; handing the weights back to tfjs
 * keeps them; a lost device stops the next step with the reason.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import { relativeError } from '../../../test/webgpu/reference';
import { compileModel } from '../../core/compile/model';
import { inferValidGraph } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import { getPreset } from '../../core/presets';
import type { TensorMap } from '../../core/weights/safetensors';
import { initBackend } from '../backends';
import { batchIndices, loadDataset, type Split } from '../data';
import { correctCount, crossEntropy } from '../training/losses';
import { createOptimizer } from '../training/optimizers';
import { autodiffStep, gatherBatch, trainStep } from '../training/step';
import { DeviceLost } from './device';
import { CompiledStep, type StepMetrics } from './executor';
import { compiledTrainingStep } from './training-step';

const BATCH = 64;
const STEPS = 6;
const optimizer = { name: 'sgd' as const, lr: 0.1, momentum: 0.9 };

function rowsOf(split: Split, rows: Int32Array) {
  const size = split.shape.reduce((a, b) => a * b, 1);
  const images = new Float32Array(rows.length * size);
  for (const [i, r] of rows.entries()) {
    images.set(split.images.subarray(r * size, (r + 1) * size), i * size);
  }
  return { images, labels: Int32Array.from(rows, (r) => split.labels[r]) };
}

describeWith([swiftshader], 'the compiled WebGPU step training LeNet (SwiftShader)', () => {
  let tf: TF;
  beforeAll(async () => {
    await initBackend('wasm');
    const runtime = await initBackend('webgpu');
    expect(runtime.backend, runtime.note).toBe('webgpu');
    tf = runtime.tf;
  });

  it('follows the op-by-op path on wasm on the bundled sample, step by step', async () => {
    const data = await loadDataset({ dataset: 'sample', limitTrain: BATCH * STEPS });
    const order = batchIndices(data.train.count, BATCH, { shuffle: true, seed: 0, epoch: 0 });
    const inference = inferValidGraph(getPreset('lenet')?.build() as never, {
      inputShape: [BATCH, 1, 28, 28],
    });

    await tf.setBackend('wasm');
    const reference = compileModel(tf, inference, { init: 'xavier', seed: 0 });
    const initial = await reference.readWeights();
    const wasmOptimizer = createOptimizer(
      tf,
      new Map([...reference.weights].filter(([, v]) => v.trainable)),
      optimizer,
    );
    const expected: { loss: number; correct: number }[] = [];
    for (const rows of order) {
      const { x, y } = gatherBatch(tf, data.train, rows);
      expected.push(
        await trainStep(tf, reference, wasmOptimizer, x, (logits) => ({
          loss: crossEntropy(tf, logits, y),
          correct: correctCount(tf, logits, y),
        })),
      );
      tf.dispose([x, y]);
    }
    const expectedWeights = await reference.readWeights();
    wasmOptimizer.dispose();
    reference.dispose();

    await tf.setBackend('webgpu');
    const model = compileModel(tf, inference, { weights: initial });
    const step = await CompiledStep.create(tf, model, { optimizer, batch: BATCH });
    // Every step is submitted without waiting for its numbers.
    const pending: Promise<StepMetrics>[] = [];
    for (const rows of order) pending.push((await step.step(rowsOf(data.train, rows))).metrics);
    const got = await Promise.all(pending);
    const weights = await model.readWeights();
    step.dispose();
    model.dispose();

    got.forEach((m, i) => {
      expect(Math.abs(m.loss - expected[i].loss), `step ${i + 1}`).toBeLessThan(1e-5);
      expect(m.correct, `step ${i + 1}`).toBe(expected[i].correct);
    });
    // The run moved: not a step that did nothing.
    expect(got[STEPS - 1].loss).not.toBeCloseTo(got[0].loss, 3);
    for (const [key, t] of expectedWeights) {
      expect(relativeError(weights.get(key)?.data as Float32Array, t.data), key).toBeLessThan(1e-4);
    }
  });

  it('trains on the same crops and flips as the op-by-op path when asked to augment', async () => {
    const steps = 3;
    const data = await loadDataset({ dataset: 'sample', limitTrain: BATCH * steps });
    const order = batchIndices(data.train.count, BATCH, { shuffle: true, seed: 0, epoch: 0 });
    const inference = inferValidGraph(getPreset('lenet')?.build() as never, {
      inputShape: [BATCH, 1, 28, 28],
    });
    const augmentation = { cropPadding: 4, flip: true };
    const draw = (batch: number) => ({ augmentation, draw: { seed: 0, epoch: 0, batch } });
    /** Each step's loss through the trainer's seam, with or without the augmentation. */
    const losses = async (backend: 'wasm' | 'webgpu', augment: boolean) => {
      await tf.setBackend(backend);
      const model = compileModel(tf, inference, { init: 'xavier', seed: 0 });
      const trainable = new Map([...model.weights].filter(([, v]) => v.trainable));
      const step =
        backend === 'wasm'
          ? autodiffStep(tf, model, createOptimizer(tf, trainable, optimizer), {})
          : compiledTrainingStep(await CompiledStep.create(tf, model, { optimizer, batch: BATCH }));
      const got: number[] = [];
      for (const [i, rows] of order.entries()) {
        const options = { layerStats: false, ...(augment ? { augment: draw(i) } : {}) };
        got.push((await (await step.run(data.train, rows, options)).result).loss);
      }
      await step.dispose();
      model.dispose();
      return got;
    };
    const opByOp = await losses('wasm', true);
    const compiled = await losses('webgpu', true);
    compiled.forEach((loss, i) => {
      expect(Math.abs(loss - opByOp[i]), `step ${i + 1}`).toBeLessThan(1e-5);
    });
    // The batches were changed: not the same numbers as without augmentation.
    const plain = await losses('webgpu', false);
    expect(Math.abs(plain[steps - 1] - compiled[steps - 1])).toBeGreaterThan(1e-4);
  });

  it('hands the trained weights back to tfjs when released', async () => {
    await tf.setBackend('webgpu');
    const inference = inferValidGraph(getPreset('lenet')?.build() as never, {
      inputShape: [2, 1, 28, 28],
    });
    const model = compileModel(tf, inference, { seed: 4 });
    const step = await CompiledStep.create(tf, model, { optimizer, batch: 2 });
    const images = new Float32Array(2 * 28 * 28).fill(0.5);
    await (await step.step({ images, labels: Int32Array.from([1, 2]) })).metrics;
    const trained: TensorMap = await model.readWeights();
    step.dispose();
    const after = await model.readWeights();
    for (const [key, t] of trained)
      expect(Array.from(after.get(key)?.data ?? []), key).toEqual(Array.from(t.data));
    // The model evaluates on its own again.
    const logits = tf.tidy(() => model.forward(tf.zeros([2, 28, 28, 1]), false));
    expect((await logits.data()).every(Number.isFinite)).toBe(true);
    logits.dispose();
    model.dispose();
  });
});

describeWith([swiftshader], 'a lost GPU device (SwiftShader)', () => {
  it('stops the next step with the reason, and rejects the metrics still in flight', async () => {
    const { tf } = await initBackend('webgpu');
    const inference = inferValidGraph(getPreset('lenet')?.build() as never, {
      inputShape: [2, 1, 28, 28],
    });
    const model = compileModel(tf, inference, { seed: 4 });
    const step = await CompiledStep.create(tf, model, { optimizer, batch: 2 });
    const input = { images: new Float32Array(2 * 28 * 28), labels: Int32Array.from([1, 2]) };
    await (await step.step(input)).metrics;
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    device.destroy();
    await device.lost;
    await expect(step.step(input)).rejects.toThrow(DeviceLost);
    await expect(step.step(input)).rejects.toThrow(/the GPU device was lost/);
    step.dispose();
  });
});
