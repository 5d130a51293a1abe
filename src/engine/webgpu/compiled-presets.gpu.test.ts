/**
 * One training step of every preset through the compiled WebGPU step on
 * SwiftShader, at a reduced input and a batch of 2, against the op-by-op
 * path (wasm, which the backend tests hold to the cpu backend and PyTorch):
 * output, loss, every gradient and every weight after an SGD update with
 * momentum and weight decay. Dropout is off here: its masks are a random
 * stream of the compiled step's own (its own test checks it).
 */
import { beforeAll, expect, it } from 'vitest';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import { compareStep, excessive } from '../../../test/webgpu/compare';
import type { Project } from '../../core/document/schema';
import type { TF } from '../../core/layers/types';
import { presets } from '../../core/presets';
import { initBackend } from '../backends';

/** The smallest inputs the presets take (AlexNet and NiN downsample most), as backend-check.ts. */
const SIZE: Record<string, number> = { alexnet: 65, nin: 67, googlenet: 16 };

const withoutDropout = (project: Project): Project => ({
  ...project,
  nodes: project.nodes.map((n) => (n.type === 'Dropout' ? { ...n, params: { p: 0 } } : n)),
});

describeWith([swiftshader], 'the compiled WebGPU step on every preset (SwiftShader)', () => {
  let tf: TF;
  beforeAll(async () => {
    await initBackend('wasm');
    const runtime = await initBackend('webgpu');
    expect(runtime.backend, runtime.note).toBe('webgpu');
    tf = runtime.tf;
  });

  it.each(presets.map((p) => [p.name, p] as const))(
    '%s: one step matches the op-by-op path',
    async (name, preset) => {
      const size = SIZE[name] ?? (name === 'lenet' ? 28 : 32);
      const differences = await compareStep(
        tf,
        {
          name,
          graph: withoutDropout(preset.build()),
          input: [2, 1, size, size],
          labels: [3, 7],
          init: 'xavier',
        },
        { reference: 'wasm', noise: true },
      );
      expect(excessive(differences)).toEqual([]);
    },
  );
});
