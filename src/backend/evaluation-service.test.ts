import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../api/result';
import type { StudioPush } from '../api/studio-api';
import type { TrainingTarget } from '../api/training-api';
import type { FinalEvent } from '../api/training-protocol';
import { getPreset } from '../core/presets';
import { resolveTrainOptions } from '../core/training/options';
import { runTraining } from '../engine/training/trainer';
import { EvaluationService } from './evaluation-service';

const folder = mkdtempSync(path.join(tmpdir(), 'evaluation-service-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const pushes: StudioPush[] = [];
const service = new EvaluationService({ projectFolder: folder, push: (p) => pushes.push(p) });
const project = getPreset('lenet')!.build();
writeFileSync(path.join(folder, 'lenet.json'), JSON.stringify(project));
const target: TrainingTarget = { project, projectPath: 'lenet.json' };
const runId = 'trained';
let done: Extract<FinalEvent, { event: 'done' }>;

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

// A run of the project, recorded in its folder as the studio's runs are (engine/run/).
beforeAll(async () => {
  const options = resolveTrainOptions(project, {
    dataset: 'sample',
    limitTrain: 256,
    limitVal: 128,
    batchSize: 64,
    lr: 0.9,
    epochs: 2,
    backend: 'wasm',
    outDir: path.join(folder, 'runs', runId),
  });
  const final = await runTraining(project, options, () => undefined);
  if (final.event !== 'done') throw new Error(`the run ended with ${JSON.stringify(final)}`);
  done = final;
}, 60_000);

describe('EvaluationService', () => {
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

  it('refuses unknown runs', async () => {
    const unknown = await service.evaluateClassification({
      ...target,
      weights: { kind: 'run', runId: 'no-such-run' },
    });
    expect(unknown).toEqual({ ok: false, error: expect.stringMatching(/no run 'no-such-run'/) });
  });
});
