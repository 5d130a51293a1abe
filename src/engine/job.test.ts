import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { TrainingEvent } from '../api/training-protocol';
import { loadValidProject } from '../core/document/load';
import { resolveTrainOptions } from '../core/training/options';
import { startTrainingJob } from './job';

const project = loadValidProject(
  readFileSync(new URL('../../test/fixtures/tiny-cnn.json', import.meta.url), 'utf8'),
);
const options = resolveTrainOptions(project, {
  backend: 'cpu',
  limitTrain: 64,
  limitVal: 32,
  epochs: 2,
});

describe('training in a worker thread', () => {
  it('streams events while the caller’s event loop stays free, and resolves with the final event', async () => {
    const events: TrainingEvent[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const job = startTrainingJob(project, options, (e) => events.push(e));
    const final = await job.done;
    clearInterval(timer);
    expect(final.event).toBe('done');
    expect(events[0].event).toBe('start');
    expect(events.filter((e) => e.event === 'epoch')).toHaveLength(2);
    expect(events.at(-1)).toEqual(final);
    // Training took seconds; a blocked loop would have ticked a handful of times at most.
    expect(ticks).toBeGreaterThan(20);
  });

  it('pauses, resumes and stops within a batch', async () => {
    const events: TrainingEvent[] = [];
    const job = startTrainingJob(project, { ...options, epochs: 50 }, (e) => {
      events.push(e);
      if (e.event === 'batch' && e.batch === 1 && e.epoch === 1) job.pause();
      if (e.event === 'paused') setTimeout(() => job.resume(), 20);
      if (e.event === 'resumed') job.stop();
    });
    const final = await job.done;
    expect(final.event).toBe('stopped');
    const kinds = events.map((e) => e.event);
    // Nothing trains while paused; the stop sent on 'resumed' crosses threads
    // while at most one more batch runs.
    const afterPause = kinds.slice(kinds.indexOf('paused'));
    expect(afterPause.slice(0, 2)).toEqual(['paused', 'resumed']);
    expect(afterPause.slice(2).filter((k) => k === 'batch').length).toBeLessThanOrEqual(1);
    expect(afterPause.at(-1)).toBe('stopped');
    // Each request lands within one batch of being sent: the pause asked for
    // after batch 1 holds by batch 2, the stop after one more batch at most.
    const paused = events.find((e) => e.event === 'paused') as { epoch: number; batch: number };
    expect(paused).toMatchObject({ epoch: 1 });
    expect(paused.batch).toBeLessThanOrEqual(2);
    expect(final).toMatchObject({ epoch: 1 });
    expect((final as { batch: number }).batch).toBeLessThanOrEqual(paused.batch + 1);
  });

  it('answers an unknown message with an error event and a worker error', async () => {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
    const reply = new Promise<unknown>((resolve) => worker.once('message', resolve));
    const failure = new Promise<Error>((resolve) => worker.once('error', resolve));
    worker.postMessage({ type: 'rewind' });
    expect(await reply).toMatchObject({
      type: 'event',
      event: { event: 'error', message: expect.stringMatching(/unknown message type "rewind"/) },
    });
    expect((await failure).message).toMatch(/unknown message type/);
    await worker.terminate();
  });
});
