import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Result } from '../api/result';
import type { StudioPush } from '../api/studio-api';
import type { RunSummary, TrainingTarget } from '../api/training-api';
import type { TrainingEvent } from '../api/training-protocol';
import { getPreset } from '../core/presets';
import { TrainingRunsService } from './training-runs-service';

const folder = mkdtempSync(path.join(tmpdir(), 'training-service-'));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(repoRoot, 'bin/convnet-studio.mjs');
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const pushes: StudioPush[] = [];
const listeners = new Set<(push: StudioPush) => void>();
const service = new TrainingRunsService({
  projectFolder: folder,
  push: (push) => {
    pushes.push(push);
    for (const listener of listeners) listener(push);
  },
});
const project = getPreset('lenet')!.build();
writeFileSync(path.join(folder, 'lenet.json'), JSON.stringify(project));
const target: TrainingTarget = { project, projectPath: 'lenet.json' };
const small = {
  dataset: 'sample',
  limitTrain: 256,
  limitVal: 128,
  batchSize: 64,
  lr: 0.9,
} as const;

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

/** A run's training events pushed so far. */
const runEvents = (runId: string): TrainingEvent[] =>
  pushes.flatMap((p) => (p.channel === 'training' && p.runId === runId ? [p.payload] : []));

/** Resolves with the first event of a run that satisfies `match`. */
function nextEvent(runId: string, match: (e: TrainingEvent) => boolean): Promise<TrainingEvent> {
  return new Promise((resolve) => {
    const listener = (push: StudioPush) => {
      if (push.channel === 'training' && push.runId === runId && match(push.payload)) {
        listeners.delete(listener);
        resolve(push.payload);
      }
    };
    listeners.add(listener);
  });
}

describe('TrainingRunsService', () => {
  it('lists the backends and datasets of this machine with reasons and sources', async () => {
    const backends = value(await service.trainingBackends());
    expect(backends.find((b) => b.name === 'cpu')?.available).toBe(true);
    for (const b of backends.filter((b) => !b.available)) expect(b.reason).toBeTruthy();
    const datasets = value(await service.trainingDatasets());
    const sample = datasets.find((d) => d.name === 'sample')!;
    expect(sample.available).toBe(true);
    expect(sample.source).toBeTruthy();
    expect(sample.classes).toHaveLength(10);
    const folder = datasets.find((d) => d.name === 'folder')!;
    expect(folder.available).toBe(false);
    expect(folder.reason).toBeTruthy();
  });

  it('lists a dataset that is nowhere here as one to download, without downloading it', async () => {
    const cache = path.join(folder, 'empty-cache');
    const servedFrom = 'http://127.0.0.1:9/never-asked/';
    process.env.CONVNET_STUDIO_CACHE = cache;
    process.env.CONVNET_STUDIO_DATASET_URL = servedFrom;
    try {
      const datasets = value(await service.trainingDatasets(path.join(folder, 'no-data-here')));
      const mnist = datasets.find((d) => d.name === 'mnist')!;
      expect(mnist).toMatchObject({
        available: true,
        downloadFrom: servedFrom,
        downloadTo: path.join(cache, 'datasets', 'mnist'),
      });
      expect(existsSync(cache)).toBe(false);
    } finally {
      delete process.env.CONVNET_STUDIO_CACHE;
      delete process.env.CONVNET_STUDIO_DATASET_URL;
    }
  });

  it('trains in a worker, pushes its events and keeps the run next to the project', async () => {
    const run = value(await service.trainingStart({ ...target, options: { ...small, epochs: 2 } }));
    const runId = run.id;
    expect(run.dir).toBe(path.join(folder, 'runs', run.id));
    expect(run.status).toBe('running');
    const done = await nextEvent(runId, (e) => ['done', 'error', 'stopped'].includes(e.event));
    if (done.event !== 'done') throw new Error(`the run ended with ${JSON.stringify(done)}`);
    expect(done.epochs).toBe(2);
    const kinds = new Set(runEvents(runId).map((e) => e.event));
    expect([...kinds]).toEqual(
      expect.arrayContaining(['start', 'batch', 'epoch', 'layerStats', 'done']),
    );

    const stats = runEvents(runId).find((e) => e.event === 'layerStats');
    if (stats?.event !== 'layerStats') throw new Error('no layerStats event was pushed');
    expect(
      stats.layers.find((l) => l.type === 'Sigmoid')?.saturatedFraction,
    ).toBeGreaterThanOrEqual(0);
    expect(stats.layers.every((l) => Number.isFinite(l.gradientStd))).toBe(true);

    const runs = value(await service.trainingRuns(target));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: runId, status: 'done', epochsDone: 2, hasWeights: true });
    expect(runs[0].last?.valAcc).toBeCloseTo(done.valAcc, 6);

    const metrics = value(await service.trainingRunMetrics(target, runId));
    expect(metrics.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(metrics.batches.length).toBeGreaterThan(0);
    expect(metrics.batches.at(-1)!.x).toBeLessThanOrEqual(2);
    // The worker recorded the run in its folder: what was asked and how it went.
    expect(JSON.parse(readFileSync(path.join(run.dir, 'run.json'), 'utf8'))).toMatchObject({
      id: runId,
      projectName: project.name,
      status: 'done',
      options: { ...small, epochs: 2 },
    });
  });

  it('pauses, resumes and stops a run, and says so for a run that is not going', async () => {
    const run = value(
      await service.trainingStart({ ...target, options: { ...small, epochs: 50 } }),
    );
    await nextEvent(run.id, (e) => e.event === 'batch');
    value(await service.trainingPause(run.id));
    await nextEvent(run.id, (e) => e.event === 'paused');
    expect(value(await service.trainingRuns(target)).find((r) => r.id === run.id)?.status).toBe(
      'paused',
    );
    value(await service.trainingResume(run.id));
    await nextEvent(run.id, (e) => e.event === 'resumed');
    value(await service.trainingStop(run.id));
    await nextEvent(run.id, (e) => e.event === 'stopped');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(value(await service.trainingRuns(target)).find((r) => r.id === run.id)?.status).toBe(
      'stopped',
    );
    const again = await service.trainingPause(run.id);
    expect(again).toEqual({ ok: false, error: expect.stringMatching(/is not running/) });
  });

  it('gives runs started at the same moment folders of their own, and runs at most two at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T12:00:00.000Z'));
    let runs: RunSummary[];
    try {
      runs = (
        await Promise.all(
          [1, 2, 3].map(() =>
            service.trainingStart({ ...target, options: { ...small, epochs: 50 } }),
          ),
        )
      ).flatMap((r) => (r.ok ? [r.value] : []));
    } finally {
      vi.useRealTimers();
    }
    expect(runs.map((r) => r.id).sort()).toEqual([
      '2026-12-01T12-00-00-000Z',
      '2026-12-01T12-00-00-000Z-2',
    ]);
    const third = await service.trainingStart({ ...target, options: small });
    expect(third).toEqual({
      ok: false,
      error:
        '2 trainings are running in this studio, the most it runs at once (each takes the cores and memory the others need); stop one or wait for it to finish',
    });
    for (const run of runs) {
      value(await service.trainingStop(run.id));
      await nextEvent(run.id, (e) => ['stopped', 'error', 'done'].includes(e.event));
    }
  });

  it('continues a run that a crash interrupted, from its checkpoint', async () => {
    // A command-line run into the project's runs folder, killed (-9) just after a mid-epoch checkpoint.
    const dir = path.join(folder, 'runs', 'crashed');
    const command = `train lenet --dataset sample --limit-train 256 --limit-val 128 --batch-size 64 --lr 0.9 --epochs 2 --checkpoint-minutes 1e-9 --json --out`;
    const child = spawn(process.execPath, [bin, ...command.split(' '), dir], { cwd: repoRoot });
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('"event":"checkpoint","epoch":1,"batch":2')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => resolve());
    });
    await new Promise((resolve) => child.on('close', resolve));
    const listed = value(await service.trainingRuns(target)).find((r) => r.id === 'crashed');
    expect(listed).toMatchObject({ status: 'interrupted', hasCheckpoint: true, epochsDone: 0 });

    const continued = value(await service.trainingContinue(target, 'crashed'));
    expect(continued).toMatchObject({ id: 'crashed', status: 'running' });
    const start = await nextEvent('crashed', (e) => e.event === 'start');
    expect(start).toMatchObject({ resumedFromEpoch: 0 });
    const end = await nextEvent('crashed', (e) => ['done', 'error', 'stopped'].includes(e.event));
    expect(end.event).toBe('done');
    const after = value(await service.trainingRuns(target)).find((r) => r.id === 'crashed');
    expect(after).toMatchObject({ status: 'done', epochsDone: 2, hasWeights: true });
    const again = await service.trainingContinue(target, 'crashed');
    expect(again).toEqual({ ok: false, error: 'run crashed has trained all its 2 epochs' });
  }, 120_000);

  it('refuses run folders outside the workspace and unknown runs', async () => {
    const outside = await service.trainingRuns({ project, projectPath: '../elsewhere/x.json' });
    expect(outside).toEqual({
      ok: false,
      error: expect.stringMatching(/outside the workspace/),
    });
    const unknown = await service.trainingRunMetrics(target, 'no-such-run');
    expect(unknown).toEqual({ ok: false, error: expect.stringMatching(/no run 'no-such-run'/) });
  });
});
