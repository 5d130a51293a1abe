/**
 * Backend choice as a user meets it: the backend that runs is the one
 * reported, and every fallback says why. (This machine has no tfjs-node and
 * no GPU, as docs/environment.md records; where it does, `auto` must pick them.)
 */
import { availableParallelism } from 'node:os';
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

  it('wasm computes with the threads asked for (threaded build in Node), with the same numbers as one thread', async () => {
    const gradient = () =>
      tf.tidy(() => {
        const w = tf.randomUniform([3, 3, 8, 16], -1, 1, 'float32', 1) as tf.Tensor4D;
        const x = tf.randomUniform([4, 12, 12, 8], 0, 1, 'float32', 2) as tf.Tensor4D;
        const f = (filter: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same')));
        return Array.from(tf.grad(f)(w).dataSync());
      });
    const one = await initBackend('wasm', { threads: 1 });
    expect(one).toMatchObject({ threads: 1, device: 'wasm SIMD, 1 thread' });
    const single = gradient();
    const two = await initBackend('wasm', { threads: 2 });
    expect(two).toMatchObject({ threads: 2, device: 'wasm SIMD, 2 threads', note: undefined });
    const threaded = gradient();
    // XNNPACK splits the work by output, so each sum runs in the same order.
    expect(threaded).toEqual(single);
    // The count is fixed when wasm starts; asking again for another restarts it.
    expect((await initBackend('wasm', { threads: 1 })).threads).toBe(1);
  });

  it('a thread count wasm cannot use is reported, not silently ignored', async () => {
    const runtime = await initBackend('wasm', { threads: 9 });
    expect(runtime.threads).toBe(8);
    expect(runtime.note).toBe(
      "wasm runs 8 threads, not 9: tfjs-backend-wasm's thread pool holds at most 8",
    );
  });

  it('a thread count asked of a backend that does not take one is reported', async () => {
    const runtime = await initBackend('cpu', { threads: 2 });
    expect(runtime.threads).toBe(1);
    expect(runtime.note).toBe(
      "the 2 CPU threads asked for apply to wasm only; on cpu tfjs's JavaScript backend computes with 1 thread",
    );
    expect((await initBackend('cpu', { threads: 1 })).note).toBeUndefined();
  });

  it('without a thread count wasm takes the idle cores and says why when that is not all of them', async () => {
    const runtime = await initBackend('wasm');
    const cores = availableParallelism();
    expect(runtime.threads).toBeGreaterThanOrEqual(1);
    expect(runtime.threads).toBeLessThanOrEqual(Math.min(cores, 8));
    if (runtime.threads! < Math.min(cores, 8)) {
      expect(runtime.note).toMatch(
        new RegExp(
          `of the ${cores} cores were busy with other programs as it started \\(--threads ${cores} uses them all\\)`,
        ),
      );
    }
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
