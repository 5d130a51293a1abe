/**
 * A GPU device lost while tfjs trains op by op on WebGPU (SwiftShader): the
 * run stops saying the device was lost and which checkpoint is kept, as on
 * the compiled step (compiled-run.gpu.test.ts), not with tfjs's own error,
 * which says nothing. A file of its own: the lost device is this process's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import type { Project } from '../../core/document/schema';
import { getPreset } from '../../core/presets';
import { resolveTrainOptions } from '../../core/training/options';
import { initBackend } from '../backends';
import { runTraining } from './trainer';

const dir = mkdtempSync(join(tmpdir(), 'device-lost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWith([swiftshader], 'a lost GPU device on the op-by-op path (SwiftShader)', () => {
  it('stops the run, keeping the last checkpoint and saying so', async () => {
    const lenet = getPreset('lenet')?.build() as Project;
    const { tf } = await initBackend('webgpu');
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const options = resolveTrainOptions(lenet, {
      dataset: 'sample',
      backend: 'webgpu',
      webgpuStep: 'op-by-op',
      epochs: 3,
      batchSize: 32,
      limitTrain: 32,
      limitVal: 32,
      outDir: dir,
    });
    const final = await runTraining(lenet, options, (event) => {
      if (event.event === 'checkpoint' && event.epoch === 1) device.destroy();
    });
    expect(final.event).toBe('error');
    expect(final.event === 'error' && final.message).toMatch(
      /^the GPU device was lost \(.+\): training stopped\. The checkpoint after epoch 1 in .* is kept; continue from it with --resume once the GPU works again\.$/,
    );
  });
});
