/**
 * Backend choice as a user meets it: the backend that runs is the one
 * reported, and every fallback says why. (This machine has no tfjs-node and
 * no GPU, as docs/environment.md records; where it does, `auto` must pick them.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { availableBackends, BACKEND_ORDER, initBackend } from './index';

describe('availableBackends', () => {
  it('lists every backend best first, each unavailable one with a reason', async () => {
    const list = await availableBackends();
    expect(list.map((b) => b.name)).toEqual(BACKEND_ORDER);
    for (const b of list) {
      if (!b.available) expect(b.reason, b.name).toMatch(/\w{4,}/);
    }
    expect(list.find((b) => b.name === 'wasm')?.available).toBe(true);
    expect(list.find((b) => b.name === 'cpu')?.available).toBe(true);
    const tensorflow = list.find((b) => b.name === 'tensorflow')!;
    if (!tensorflow.available) expect(tensorflow.reason).toMatch(/tfjs-node/);
  });
});

describe('initBackend', () => {
  it("'auto' runs the best backend that starts and says why the better ones did not", async () => {
    const list = await availableBackends();
    const best = list.find((b) => b.available)!;
    const runtime = await initBackend('auto');
    expect(runtime.backend).toBe(best.name);
    expect(tf.getBackend()).toBe(best.name);
    for (const skipped of list.slice(0, list.indexOf(best))) {
      expect(runtime.note).toContain(`${skipped.name}: ${skipped.reason}`);
    }
  });

  it('wasm reports SIMD and its thread count, and trains a convolution', async () => {
    const runtime = await initBackend('wasm');
    expect(runtime.backend).toBe('wasm');
    expect(runtime.device).toMatch(/^wasm( SIMD)?, \d+ threads?$/);
    expect(runtime.threads).toBeGreaterThanOrEqual(1);
    const w = tf.variable(tf.ones([3, 3, 1, 2]));
    const x = tf.ones([1, 6, 6, 1]) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 2, 'valid')));
    // Each of the 2×2 outputs reads every tap once from an all-ones input.
    expect(Array.from(grads[w.name].dataSync())).toEqual(new Array(18).fill(4));
  });

  it('a thread count wasm cannot use is reported, not silently ignored', async () => {
    const runtime = await initBackend('wasm', { threads: 4 });
    if (runtime.threads !== 4) expect(runtime.note).toMatch(/wasm runs \d+ thread/);
  });

  it('an explicit choice that cannot start falls back to the next slower one and says so', async () => {
    const list = await availableBackends();
    const unavailable = list.filter((b) => !b.available);
    for (const choice of unavailable) {
      const runtime = await initBackend(choice.name);
      const next = list.slice(list.indexOf(choice)).find((b) => b.available)!;
      expect(runtime.backend).toBe(next.name);
      expect(tf.getBackend()).toBe(next.name);
      expect(runtime.note).toContain(
        `${choice.name} could not start, running ${next.name} instead`,
      );
      expect(runtime.note).toContain(choice.reason);
    }
  });

  it('cpu is always there', async () => {
    const runtime = await initBackend('cpu');
    expect(runtime).toMatchObject({ backend: 'cpu', note: undefined });
  });

  it('rejects an unknown backend name with the valid ones', async () => {
    await expect(initBackend('cuda' as never)).rejects.toThrow(
      "Unknown backend 'cuda'. Choose one of: auto, tensorflow, webgpu, wasm, cpu.",
    );
  });

  it('dilated convolutions train (tfjs-core alone refuses their gradient)', async () => {
    await initBackend('cpu');
    const w = tf.variable(tf.ones([3, 3, 1, 1]));
    const x = tf.ones([1, 7, 7, 1]) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() =>
      tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'valid', 'NHWC', 2)),
    );
    // A 3×3 kernel at dilation 2 spans 5×5: 3×3 outputs, each tap reads a 1.
    expect(Array.from(grads[w.name].dataSync())).toEqual(new Array(9).fill(9));
  });
});
