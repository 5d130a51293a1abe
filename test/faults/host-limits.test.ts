/**
 * What a large input must not do to the host: overflow the stack with a
 * spread of its rows (Math.max(...rows) fails past about 100,000 arguments),
 * or hold its event loop while a large model is exported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExportService } from '../../src/backend/export-service';
import { getPreset } from '../../src/core/presets';
import { formatSummaryText, type ModelSummary, type SummaryRow } from '../../src/core/summary';

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

describe('a large export on the host', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'fault-large-export-'));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('is built off the event loop: AlexNet (61 million weights) stalls it for well under a second', async () => {
    const service = new ExportService({ projectFolder: workspace });
    let last = performance.now();
    let longestStall = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestStall = Math.max(longestStall, now - last);
      last = now;
    }, 10);
    try {
      const plan = await service.exportPlan({
        target: { project: getPreset('alexnet')!.build() },
        weights: { kind: 'initial' },
        format: 'onnx',
        folder: 'exports/alexnet',
      });
      expect(plan.ok).toBe(true);
    } finally {
      clearInterval(ticker);
    }
    expect(longestStall).toBeLessThan(500);
  });
});
