/**
 * SerialWorker against a real worker thread: requests answered one at a time
 * in order, progress passed on, a refusal's message kept, and a worker that
 * dies failing only the request it was answering.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SerialWorker } from './serial-worker';

/** A worker speaking SerialWorker's protocol: echoes after a delay, reports progress, fails or dies on request. */
const WORKER_CODE = `
const { parentPort, threadId } = require('node:worker_threads');
let busy = false;
parentPort.on('message', async (request) => {
  if (busy) parentPort.postMessage({ ok: false, message: 'two requests at once' });
  busy = true;
  if (request.die) process.exit(3);
  parentPort.postMessage({ progress: 1 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  busy = false;
  if (request.refuse) parentPort.postMessage({ ok: false, message: request.refuse });
  else parentPort.postMessage({ ok: true, result: { echo: request.value, threadId } });
});
`;

type Request = { value?: number; die?: boolean; refuse?: string };
type Result = { echo: number; threadId: number };

function testWorker() {
  return new SerialWorker<Request, Result, number>({
    name: 'test worker',
    idleMs: 60_000,
    start: () => new Worker(WORKER_CODE, { eval: true }),
  });
}

describe('SerialWorker', () => {
  it('answers requests one at a time, in order, passing progress on', async () => {
    const worker = testWorker();
    const progress: number[] = [];
    const answers = await Promise.all(
      [1, 2, 3].map((value) => worker.ask({ value }, (p) => progress.push(p))),
    );
    expect(answers.map((a) => a.echo)).toEqual([1, 2, 3]);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(1); // one worker kept for all
    expect(progress).toEqual([1, 1, 1]);
  });

  it('fails a refused request with its message and goes on', async () => {
    const worker = testWorker();
    await expect(worker.ask({ refuse: 'no such run' })).rejects.toThrow('no such run');
    expect((await worker.ask({ value: 4 })).echo).toBe(4);
  });

  it('fails the request a dying worker was answering; the next gets a fresh worker', async () => {
    const worker = testWorker();
    const first = await worker.ask({ value: 1 });
    const dying = worker.ask({ die: true });
    const after = worker.ask({ value: 5 });
    await expect(dying).rejects.toThrow('the test worker ended before answering (exit code 3)');
    const answer = await after;
    expect(answer.echo).toBe(5);
    expect(answer.threadId).not.toBe(first.threadId);
  });
});
