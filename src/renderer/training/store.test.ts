import { describe, expect, it } from 'vitest';
import { LayerHistory, RunSeries } from './series';
import { applyEvent, type LiveRun } from './store';

const fresh = (): LiveRun => ({
  runId: 'r',
  status: 'starting',
  epoch: 0,
  warnings: [],
  series: new RunSeries(),
  history: new LayerHistory(),
});

describe('the live run', () => {
  it('keeps every warning the engine gives, in order, for the notice under the progress bar', () => {
    let live = fresh();
    live = applyEvent(live, {
      event: 'warning',
      message: 'skipped a.png cannot be read as an image (the file is empty)',
    });
    live = applyEvent(live, {
      event: 'warning',
      message: "the class folder 'birds' has no PNG or JPEG images",
    });
    expect(live.warnings).toEqual([
      'skipped a.png cannot be read as an image (the file is empty)',
      "the class folder 'birds' has no PNG or JPEG images",
    ]);
    expect(live.status).toBe('starting');
  });
});
