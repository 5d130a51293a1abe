/**
 * What does not fit the GPU, on a SwiftShader device made with WebGPU's
 * default limits (binding 128 MiB, buffer 256 MiB, a quarter and an eighth
 * of what SwiftShader offers) and, for memory, a device that holds only so
 * many bytes (test/webgpu/limited-gpu.ts): each is refused before training,
 * saying how much the step needs and a batch size that fits, and that batch
 * does fit.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import {
  DEFAULT_LIMITS,
  installLimitedGpu,
  type LimitedGpu,
} from '../../../test/webgpu/limited-gpu';
import type { TrainingEvent } from '../../api/training-protocol';
import { compileModel } from '../../core/compile/model';
import type { Project } from '../../core/document/schema';
import { inferValidGraph } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import { getPreset } from '../../core/presets';
import { resolveTrainOptions } from '../../core/training/options';
import { initBackend } from '../backends';
import { runTraining } from '../training/trainer';
import { deviceLimits, tfjsWebgpuBackend } from './device';
import { CompiledStep } from './executor';
import { planStep, rebatch, TooLarge } from './plan';

const MiB = 2 ** 20;
const sgd = { name: 'sgd' as const, lr: 0.01 };
const preset = (name: string) => getPreset(name)?.build() as Project;

/** A network with one weight larger than the device binds: 784 × 50,000 floats (150 MB). */
const wide: Project = {
  ...preset('lenet'),
  nodes: [
    { id: 'input', type: 'Input', params: { channels: 1, height: 28, width: 28 } },
    { id: 'flat', type: 'Flatten', params: {} },
    { id: 'fc', type: 'Linear', params: { out_features: 50_000 } },
    { id: 'out', type: 'Linear', params: { out_features: 10 } },
  ],
  edges: [
    { source: 'input', target: 'flat' },
    { source: 'flat', target: 'fc' },
    { source: 'fc', target: 'out' },
  ],
};

async function train(project: Project, batchSize: number) {
  const events: TrainingEvent[] = [];
  const options = resolveTrainOptions(project, {
    dataset: 'sample',
    backend: 'webgpu',
    epochs: 1,
    batchSize,
    limitTrain: 64,
    limitVal: 64,
  });
  const final = await runTraining(project, options, (event) => events.push(event));
  expect(events.some((e) => e.event === 'batch' || e.event === 'epoch')).toBe(false);
  expect(final.event).toBe('error');
  return final.event === 'error' ? final.message : '';
}

/** The compiled step of `project` at `batch` on the device, or its refusal. */
async function compiledStep(tf: TF, project: Project, batch: number, size: number) {
  const inference = inferValidGraph(project, { inputShape: [batch, 1, size, size] });
  const model = compileModel(tf, inference, { init: 'xavier', seed: 0 });
  try {
    return await CompiledStep.create(tf, model, { optimizer: sgd, batch });
  } catch (error) {
    model.dispose();
    throw error;
  }
}

describeWith([swiftshader], 'a batch or network too large for the GPU (SwiftShader)', () => {
  let tf: TF;
  let gpu: LimitedGpu;
  let device: GPUDevice;
  beforeAll(async () => {
    gpu = installLimitedGpu();
    const runtime = await initBackend('webgpu');
    expect(runtime.backend, runtime.note).toBe('webgpu');
    tf = runtime.tf;
    device = tfjsWebgpuBackend(tf)?.device as GPUDevice;
    expect(device.limits).toMatchObject(DEFAULT_LIMITS);
  });

  it('refuses a batch whose activation the device cannot bind, naming a batch size that does fit', async () => {
    const message = await train(preset('lenet'), 8192);
    const fits = Number(
      /^a batch of 8192 needs a tensor of 147\.0 MiB, more than the 128\.0 MiB webgpu holds in one; a batch size of (\d+) fits$/.exec(
        message,
      )?.[1],
    );
    expect(fits, message).toBeGreaterThan(1000);
    // The batch named is the largest whose compiled step the device binds.
    const inference = inferValidGraph(preset('lenet'), { inputShape: [fits, 1, 28, 28] });
    const options = {
      mode: 'train' as const,
      batch: fits,
      imageSize: [28, 28] as [number, number],
      loss: 'cross-entropy' as const,
      optimizer: { kind: 'sgd' as const, weightDecay: 0, momentum: 0, beta1: 0, beta2: 0, eps: 0 },
      limits: deviceLimits(device),
    };
    expect(() => planStep(inference, options)).not.toThrow();
    expect(() => planStep(rebatch(inference, fits + 1), { ...options, batch: fits + 1 })).toThrow(
      TooLarge,
    );
  });

  it('refuses a weight larger than the device binds, before making it', async () => {
    const before = gpu.liveBytes();
    expect(await train(wide, 32)).toBe(
      'the weights of fc.weight take 149.5 MiB, more than the 128.0 MiB webgpu holds in one tensor; make that layer smaller or train on another backend',
    );
    expect(gpu.liveBytes() - before).toBeLessThan(MiB);
  });

  it("refuses a step its own plan finds too large for the device's limits", async () => {
    // The compiled step checks its own buffers (scratch included), whoever asks for it.
    const refusal = compiledStep(tf, preset('resnet18'), 256, 96);
    await expect(refusal).rejects.toThrow(TooLarge);
    await expect(refusal).rejects.toThrow(
      /^a training step of 256 images needs [\d.]+ MiB on the GPU, and \S+ takes 144\.0 MiB but this GPU binds at most 128\.0 MiB at once \(maxStorageBufferBindingSize\); a batch of 227 fits \(--batch-size 227\)$/,
    );
  });

  it('refuses a batch whose buffers the GPU cannot allocate, naming a batch that does', async () => {
    const lenet = preset('lenet');
    const inference = inferValidGraph(lenet, { inputShape: [64, 1, 28, 28] });
    const model = compileModel(tf, inference, { init: 'xavier', seed: 0 });
    const bytesAt = (batch: number) =>
      planStep(rebatch(inference, batch), {
        mode: 'train',
        batch,
        imageSize: [28, 28],
        loss: 'cross-entropy',
        optimizer: { kind: 'sgd', weightDecay: 0, momentum: 0, beta1: 0, beta2: 0, eps: 0 },
        limits: deviceLimits(device),
      }).bytes.total;
    // Room for the step at 16 images and the batch-sized buffers it makes first, not for 32.
    const room = bytesAt(16) + 64 * 28 * 28 * 4 + (bytesAt(32) - bytesAt(16)) / 2;
    gpu.setMemory(gpu.liveBytes() + room);
    try {
      const refusal = CompiledStep.create(tf, model, { optimizer: sgd, batch: 64 });
      await expect(refusal).rejects.toThrow(
        new RegExp(
          `^a training step of 64 images needs ${(bytesAt(64) / MiB).toFixed(1)} MiB on the GPU, and the GPU could not allocate them \\(.*\\); a batch of 16 fits \\(--batch-size 16\\)$`,
        ),
      );
      // Nothing of the refused step stays on the GPU, and the batch named trains.
      const small = await compiledStep(tf, lenet, 16, 28);
      const step = await small.step({
        images: new Float32Array(16 * 28 * 28).fill(0.5),
        labels: new Int32Array(16),
      });
      expect(Number.isFinite((await step.metrics).loss)).toBe(true);
      small.dispose();
      // Through the trainer: refused before training, with a batch that fits.
      expect(await train(lenet, 64)).toMatch(
        /^a training step of 64 images needs [\d.]+ MiB on the GPU, and the GPU could not allocate them \(.*\); a batch of (16|32) fits \(--batch-size (16|32)\)$/,
      );
    } finally {
      gpu.setMemory(undefined);
      model.dispose();
    }
  });
});
