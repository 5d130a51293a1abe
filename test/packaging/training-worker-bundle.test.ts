/**
 * The desktop app trains and evaluates in the workers electron-vite builds
 * (out/main/worker.js, out/main/evaluation-worker.js), not in the TypeScript
 * the other tests import: those bundles must load, train on wasm with the CPU
 * threads asked for, and evaluate.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TrainingEvent } from '../../src/api/training-protocol';
import { getPreset } from '../../src/core/presets';
import { resolveTrainOptions } from '../../src/core/training/options';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the repository, so the bundle finds the packages it leaves out, as out/ does.
mkdirSync(path.join(root, 'out'), { recursive: true });
const outDir = mkdtempSync(path.join(root, 'out', 'worker-bundle-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

beforeAll(() => {
  const build = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'),
      'build',
      '--outDir',
      outDir,
      '--logLevel',
      'error',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  expect(build.status, build.stderr).toBe(0);
});

it("electron-vite's training worker trains on wasm with the threads asked for", async () => {
  const lenet = getPreset('lenet')!.build();
  const options = resolveTrainOptions(lenet, {
    dataset: 'sample',
    backend: 'wasm',
    threads: 2,
    epochs: 1,
    batchSize: 64,
    limitTrain: 128,
    limitVal: 64,
  });
  const worker = new Worker(path.join(outDir, 'main/worker.js'));
  const events: TrainingEvent[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', ({ event }: { event: TrainingEvent }) => {
        events.push(event);
        if (['done', 'stopped', 'error'].includes(event.event)) resolve();
      });
      worker.postMessage({ type: 'start', project: lenet, options });
    });
  } finally {
    await worker.terminate();
  }
  expect(events.at(-1)).toMatchObject({ event: 'done' });
  expect(events.find((e) => e.event === 'start')).toMatchObject({
    backend: 'wasm',
    device: 'wasm SIMD, 2 threads',
    threads: 2,
  });
});

it("electron-vite's evaluation worker compiles a network and evaluates it", async () => {
  const worker = new Worker(path.join(outDir, 'main/evaluation-worker.js'), {
    workerData: { projectFolder: outDir },
  });
  const lenet = getPreset('lenet')!.build();
  lenet.training = { ...lenet.training!, dataset: 'sample' };
  try {
    const answer = await new Promise<{ ok: boolean; result?: { top: unknown[] } }>(
      (resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (message) => {
          if (!('progress' in message)) resolve(message);
        });
        worker.postMessage({
          method: 'inspect',
          request: {
            project: lenet,
            weights: { kind: 'initial' },
            image: { kind: 'test', index: 0 },
          },
        });
      },
    );
    expect(answer).toMatchObject({ ok: true });
    expect(answer.result?.top).toHaveLength(5);
  } finally {
    await worker.terminate();
  }
});
