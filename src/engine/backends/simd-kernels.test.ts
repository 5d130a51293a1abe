/**
 * The studio's wasm convolution kernels: the binary the engine loads is the
 * one simd-kernels.wat compiles to today, and this Node runs it. (What they
 * compute is checked against the cpu backend and PyTorch in
 * training-kernels.test.ts, with one thread and with two.)
 */
import { readFileSync } from 'node:fs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  generateKernelsModule,
  KERNELS_GENERATED,
  KERNELS_SOURCE,
} from '../../../scripts/build-wasm-kernels';
import { initBackend } from './index';
import { SimdKernels } from './simd-kernels';

describe('the wasm convolution kernels', () => {
  it('are compiled from simd-kernels.wat as it is now (npm run kernels)', async () => {
    const expected = await generateKernelsModule(readFileSync(KERNELS_SOURCE, 'utf8'));
    expect(readFileSync(KERNELS_GENERATED, 'utf8')).toBe(expected);
  });

  it('run on this Node, on the calling thread alone or split over a pool of workers', async () => {
    for (const threads of [1, 2]) {
      const runtime = await initBackend('wasm', { threads });
      expect(runtime.note).toBeUndefined();
      expect(SimdKernels.of(tf.backend() as BackendWasm)?.slices).toBe(threads);
    }
  });
});
