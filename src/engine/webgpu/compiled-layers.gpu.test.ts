/**
 * Every layer of the catalog through the compiled WebGPU step on
 * SwiftShader, against the op-by-op path on tfjs's cpu backend (which the
 * PyTorch parity tests hold to PyTorch): output, loss, the input's and every
 * weight's gradient, and the weights and running statistics after an SGD
 * update with momentum and weight decay.
 */
import { beforeAll, expect, it } from 'vitest';
import { layerCases } from '../../../test/parity/layer-cases';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import { compareStep, worst } from '../../../test/webgpu/compare';
import type { TF } from '../../core/layers/types';
import { initBackend } from '../backends';

describeWith([swiftshader], 'the compiled WebGPU step, layer by layer (SwiftShader)', () => {
  let tf: TF;
  beforeAll(async () => {
    const runtime = await initBackend('webgpu');
    expect(runtime.backend, runtime.note).toBe('webgpu');
    tf = runtime.tf;
  });

  it('matches the op-by-op path on every layer case (forward, gradients, update)', async () => {
    const off: string[] = [];
    // Dropout draws its own random stream (not tfjs's): it has a test of its own.
    const deterministic = layerCases.filter(
      (c) => !c.graph.nodes.some((n) => n.type === 'Dropout' && (n.params?.p ?? 0.5) !== 0),
    );
    for (const c of deterministic) {
      const w = worst(await compareStep(tf, c));
      if (!(w.error < 1e-4)) off.push(`${c.name}: ${w.where} ${w.error.toExponential(2)}`);
    }
    expect(off).toEqual([]);
  });
});
