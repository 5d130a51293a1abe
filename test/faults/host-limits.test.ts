/**
 * What a large input must not do to the host: overflow the stack with a
 * spread of its rows (Math.max(...rows) fails past about 100,000 arguments),
 * or hold its event loop while a large model is exported or evaluated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EvaluationService } from '../../src/backend/evaluation-service';
import { ExportService } from '../../src/backend/export-service';
import { TrainingRunsService } from '../../src/backend/training-runs-service';
import type { Project } from '../../src/core/document/schema';
import { getPreset } from '../../src/core/presets';
import { formatSummaryText, type ModelSummary, type SummaryRow } from '../../src/core/summary';
import { nestedBlocks } from '../support/hostile-projects';
import { describeWith, FASHION_MNIST_DIR, fashionMnist } from '../support/requirements';

describe('large inputs in the host paths', () => {
  it('formats the summary of 200,000 layers without a stack overflow', () => {
    const row: SummaryRow = {
      name: 'relu',
      path: 'relu',
      type: 'ReLU',
      outputShape: [1, 10],
      params: 0,
      macs: 0,
      receptiveField: [1, 1],
      memoryBytes: 40,
    };
    const summary: ModelSummary = {
      inputShape: [1, 10],
      outputShape: [1, 10],
      layers: Array.from({ length: 200_000 }, (_, i) => ({ ...row, name: `relu${i}` })),
      totalParams: 0,
      macs: 0,
      memoryBytes: 0,
    };
    const text = formatSummaryText(summary);
    expect(text).toContain('relu199999');
  });
});

/** The longest the event loop was held while `work` ran, in milliseconds. */
async function longestStallDuring(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  try {
    await work();
    // Work that never let the ticker run at all was one stall from start to end.
    longest = Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(ticker);
  }
  return longest;
}

describe('a large model on the host', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'fault-large-model-'));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('is exported off the event loop: AlexNet (61 million weights) stalls it for well under a second', async () => {
    const service = new ExportService({ projectFolder: workspace });
    const stall = await longestStallDuring(async () => {
      const plan = await service.exportPlan({
        target: { project: getPreset('alexnet')!.build() },
        weights: { kind: 'initial' },
        format: 'onnx',
        folder: 'exports/alexnet',
      });
      expect(plan.ok).toBe(true);
    });
    expect(stall).toBeLessThan(500);
  });

  it('compiles and runs a model for evaluation off the event loop: a 2 KB project of 10 million weights stalls it for well under a second', async () => {
    // LeNet with a wide first dense layer: on the event loop, initialising it held the host
    // for seconds (the limits of core/limits.ts allow a thousand times more).
    const project = getPreset('lenet')!.build();
    const fc1 = project.nodes.find((n) => n.id === 'fc1')!;
    fc1.params.out_features = 20_000;
    project.training = { ...project.training!, dataset: 'sample' };
    const service = new EvaluationService({ projectFolder: workspace, push: () => undefined });
    const stall = await longestStallDuring(async () => {
      const report = await service.evaluateInspect({
        project,
        weights: { kind: 'initial' },
        image: { kind: 'test', index: 0 },
      });
      if (!report.ok) throw new Error(report.error);
      expect(report.value.top).toHaveLength(5);
    });
    expect(stall).toBeLessThan(500);
  }, 60_000);
});

describe('a hostile project on the host', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'fault-hostile-project-'));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('a 7 KB project whose blocks use each other nine levels deep (10^10 layers) is refused by evaluation and export at the limit, without holding the event loop', async () => {
    const project = nestedBlocks(9) as Project;
    expect(JSON.stringify(project).length).toBeLessThan(10_000);
    project.training = { ...project.training, dataset: 'sample' } as Project['training'];
    const evaluation = new EvaluationService({ projectFolder: workspace, push: () => undefined });
    const exports = new ExportService({ projectFolder: workspace });
    const answers: string[] = [];
    const stall = await longestStallDuring(async () => {
      const evaluated = await evaluation.evaluateInspect({
        project,
        weights: { kind: 'initial' },
        image: { kind: 'test', index: 0 },
      });
      const planned = await exports.exportPlan({
        target: { project },
        weights: { kind: 'initial' },
        format: 'onnx',
        folder: 'exports/nested',
      });
      for (const answer of [evaluated, planned]) answers.push(answer.ok ? 'ok' : answer.error);
    });
    for (const answer of answers) expect(answer).toMatch(/expands to more than 10,000 layers/);
    expect(stall).toBeLessThan(500);
  }, 60_000);
});

describeWith([fashionMnist], 'listing the datasets on the host', () => {
  it('reads Fashion-MNIST’s files (a second of inflating) without holding the event loop', async () => {
    const service = new TrainingRunsService({
      projectFolder: tmpdir(),
      dataDir: FASHION_MNIST_DIR,
      dataDirs: [FASHION_MNIST_DIR],
      push: () => undefined,
    });
    let listed: Awaited<ReturnType<typeof service.trainingDatasets>> | undefined;
    const stall = await longestStallDuring(async () => {
      listed = await service.trainingDatasets();
    });
    if (!listed?.ok) throw new Error(listed?.error);
    expect(listed.value.find((d) => d.name === 'fashion-mnist')).toMatchObject({
      available: true,
      trainSize: 60_000,
      valSize: 10_000,
    });
    expect(stall).toBeLessThan(500); // read on the event loop, it was one stall of 1.4 s here
  });
});
