/**
 * Whole runs on SwiftShader through the trainer: the compiled step is what
 * trains on WebGPU (every epoch says so), the op-by-op path when asked, the
 * op-by-op path with the node and the reason when the network has something
 * the compiled step cannot run, a batch too large for the GPU refused before
 * training, and a device lost mid-run stopping the run with its checkpoint kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import type { TrainingEvent } from '../../api/training-protocol';
import type { Project } from '../../core/document/schema';
import { getPreset } from '../../core/presets';
import { resolveTrainOptions } from '../../core/training/options';
import { availableBackends, initBackend } from '../backends';
import { runTraining } from '../training/trainer';
import { LOWERINGS, type Lowering } from './lower';

const lenet = getPreset('lenet')?.build() as Project;
const folders: string[] = [];
const runFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'compiled-run-'));
  folders.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

async function train(
  overrides: Parameters<typeof resolveTrainOptions>[1],
  onEvent?: (e: TrainingEvent) => void,
) {
  const events: TrainingEvent[] = [];
  const options = resolveTrainOptions(lenet, {
    dataset: 'sample',
    backend: 'webgpu',
    epochs: 2,
    batchSize: 32,
    limitTrain: 64,
    limitVal: 64,
    ...overrides,
  });
  const final = await runTraining(lenet, options, (event) => {
    events.push(event);
    onEvent?.(event);
  });
  return { events, final };
}

describeWith([swiftshader], 'training runs on the compiled WebGPU step (SwiftShader)', () => {
  it('auto passes a software GPU by for wasm, which asked for by name runs and says what it is', async () => {
    const auto = await initBackend('auto');
    expect(auto.backend).toBe('wasm');
    expect(auto.note).toMatch(/webgpu: its only adapter, .*swiftshader.*, renders on the CPU/i);
    const listed = await availableBackends();
    expect(listed.find((b) => b.name === 'webgpu')).toMatchObject({
      available: true,
      reason: expect.stringMatching(/so auto does not choose it/),
    });
    const named = await initBackend('webgpu');
    expect(named.backend).toBe('webgpu');
    expect(named.note).toMatch(/renders on the CPU/);
  });

  it('trains LeNet on the bundled sample with every epoch naming the compiled path', async () => {
    const { events, final } = await train({ outDir: runFolder() });
    expect(final.event, JSON.stringify(final)).toBe('done');
    const start = events.find((e) => e.event === 'start');
    expect(start).toMatchObject({ backend: 'webgpu', execution: 'compiled' });
    const epochs = events.filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const e of epochs) expect(e).toMatchObject({ backend: 'webgpu', execution: 'compiled' });
    expect(final).toMatchObject({ execution: 'compiled' });
    // Every batch reported, its numbers read back behind the steps.
    expect(events.filter((e) => e.event === 'batch').length).toBeGreaterThanOrEqual(2);
    for (const e of epochs) {
      if (e.event !== 'epoch') continue;
      expect(Number.isFinite(e.trainLoss) && Number.isFinite(e.valLoss)).toBe(true);
    }
  });

  it('runs op by op when asked, and says so', async () => {
    // tfjs op by op on SwiftShader is slow: one small step.
    const { events, final } = await train({
      webgpuStep: 'op-by-op',
      epochs: 1,
      limitTrain: 32,
      limitVal: 32,
    });
    expect(final.event).toBe('done');
    const epoch = events.find((e) => e.event === 'epoch');
    expect(epoch).toMatchObject({ backend: 'webgpu', execution: 'op-by-op' });
  });

  it('falls back to op by op for the whole run, naming the node and the reason', async () => {
    // The typed table cannot lose an entry: take one out behind its back, as a new type would be.
    const table = LOWERINGS as Partial<Record<string, Lowering>>;
    const sigmoid = table.Sigmoid;
    delete table.Sigmoid;
    try {
      const { events, final } = await train({ epochs: 1, limitTrain: 32, limitVal: 32 });
      expect(final.event).toBe('done');
      const start = events.find((e) => e.event === 'start');
      expect(start).toMatchObject({ execution: 'op-by-op' });
      expect(start?.event === 'start' && start.backendNote).toMatch(
        /the compiled WebGPU step cannot run this network \(node 'sigmoid1': the compiled step has no kernels for Sigmoid layers\), so every step runs op by op/,
      );
    } finally {
      table.Sigmoid = sigmoid;
    }
  });

  it('refuses a batch the GPU cannot bind before training, with a batch that fits', async () => {
    const { events, final } = await train({ batchSize: 65_536, limitTrain: undefined });
    expect(events.some((e) => e.event === 'epoch')).toBe(false);
    expect(final.event).toBe('error');
    expect(final.event === 'error' && final.message).toMatch(/a batch (size )?of \d+ fits/);
  });

  it('stops a run whose device is lost, keeping the last checkpoint and saying so', async () => {
    const dir = runFolder();
    const { tf } = await initBackend('webgpu');
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const { final } = await train({ outDir: dir, epochs: 3 }, (event) => {
      if (event.event === 'checkpoint' && event.epoch === 1) device.destroy();
    });
    expect(final.event).toBe('error');
    expect(final.event === 'error' && final.message).toMatch(
      /the GPU device was lost .*training stopped\. The checkpoint after epoch 1 in .* is kept; continue from it with --resume/,
    );
  });
});
