/**
 * The layer catalog on the wasm backend (what the CLI and the studio use
 * where no GPU is found): every parity case, including gradients and
 * BatchNorm's running statistics, agrees with the cpu backend, which the
 * PyTorch parity test holds to PyTorch.
 */
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backends';
import { compareWithCpu } from './backend-compare';
import { layerCases } from './layer-cases';

describe('primitive layers on the wasm backend', () => {
  it('match the cpu backend on every case (outputs, running stats, gradients)', async () => {
    const { tf, backend } = await initBackend('wasm', { threads: 1 });
    expect(backend).toBe('wasm');
    const differences = await compareWithCpu(tf, 'wasm', layerCases);
    const off = differences.filter((d) => !(d.error < 1e-4));
    expect(off, off.map((d) => `${d.name}: ${d.where} ${d.error}`).join('\n')).toEqual([]);
  });
});
