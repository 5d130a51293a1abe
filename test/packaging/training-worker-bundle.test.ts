/**
 * The desktop app trains in the worker electron-vite builds (out/main/worker.js),
 * not in the TypeScript the other tests import: that bundle must load and
 * train on wasm with the CPU threads asked for.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, expect, it } from 'vitest';
import type { TrainingEvent } from '../../src/api/training-protocol';
import { getPreset } from '../../src/core/presets';
import { resolveTrainOptions } from '../../src/core/training/options';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the repository, so the bundle finds the packages it leaves out, as out/ does.
mkdirSync(path.join(root, 'out'), { recursive: true });
const outDir = mkdtempSync(path.join(root, 'out', 'worker-bundle-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it("electron-vite's training worker trains on wasm with the threads asked for", async () => {
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
