import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Result } from '../api/result';
import type { StudioPush } from '../api/studio-api';
import type { TrainingTarget } from '../api/training-api';
import type { TrainingEvent } from '../api/training-protocol';
import { getPreset } from '../core/presets';
import { TrainingService } from './training-service';

const folder = mkdtempSync(path.join(tmpdir(), 'training-service-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const pushes: StudioPush[] = [];
const listeners = new Set<(push: StudioPush) => void>();
const service = new TrainingService({
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

describe('TrainingService', () => {
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

  let runId = '';
  let done: Extract<TrainingEvent, { event: 'done' }>;

  it('trains in a worker, pushes its events and keeps the run next to the project', async () => {
    const run = value(await service.trainingStart({ ...target, options: { ...small, epochs: 2 } }));
    runId = run.id;
    expect(run.dir).toBe(path.join(folder, 'runs', run.id));
    expect(run.status).toBe('running');
    done = (await nextEvent(runId, (e) =>
      ['done', 'error', 'stopped'].includes(e.event),
    )) as typeof done;
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
  });

  it('evaluates the run’s weights to the accuracy the run itself measured, pushing its progress', async () => {
    const before = pushes.length;
    const report = value(
      await service.evaluateClassification({
        ...target,
        weights: { kind: 'run', runId },
        limit: 128,
      }),
    );
    expect(report.count).toBe(128);
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(128);
    expect(report.accuracy).toBeCloseTo(done.valAcc, 5);
    expect(report.loss).toBeCloseTo(done.valLoss, 3);
    const progress = pushes
      .slice(before)
      .flatMap((p) => (p.channel === 'evaluation' ? [p.payload] : []));
    expect(progress.at(-1)).toEqual({ done: 128, total: 128 });
    expect(progress.every((p, i) => i === 0 || p.done > progress[i - 1].done)).toBe(true);
    for (const m of report.misclassified) {
      expect(m.label).not.toBe(m.predicted);
      expect(Buffer.from(m.image.base64, 'base64')).toHaveLength(28 * 28);
    }
  });

  it('shows every layer’s feature maps, the kernels and the top predictions of one image', async () => {
    const report = value(
      await service.evaluateInspect({
        ...target,
        weights: { kind: 'run', runId },
        image: { kind: 'test', index: 3 },
      }),
    );
    expect(report.layers.find((l) => l.type === 'Conv2d')?.shape).toEqual([1, 6, 28, 28]);
    expect(report.layers.at(-1)?.values).toHaveLength(10);
    expect(report.kernels?.shape).toEqual([6, 1, 5, 5]);
    const total = report.top.reduce((a, p) => a + p.probability, 0);
    expect(total).toBeLessThanOrEqual(1 + 1e-6);
    expect(report.top[0].probability).toBeGreaterThanOrEqual(report.top[1].probability);
    const noise = value(
      await service.evaluateInspect({
        ...target,
        weights: { kind: 'initial' },
        image: { kind: 'noise', seed: 1 },
      }),
    );
    expect(noise.label).toBeUndefined();
    expect(noise.layers).toHaveLength(report.layers.length);
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

  it('refuses run folders outside the project folder and unknown runs', async () => {
    const outside = await service.trainingRuns({ project, projectPath: '../elsewhere/x.json' });
    expect(outside).toEqual({
      ok: false,
      error: expect.stringMatching(/outside the project folder/),
    });
    const unknown = await service.trainingRunMetrics(target, 'no-such-run');
    expect(unknown).toEqual({ ok: false, error: expect.stringMatching(/no run 'no-such-run'/) });
  });
});
