/**
 * A training worker that dies while its host lives on: ended at once from
 * outside, as kill -9 ends a process (none of its own code runs: no handler,
 * no last event, no unlocking). The host says so with the checkpoint that is
 * kept, run.json records it, the folder is unlocked, and the studio continues
 * the run from that checkpoint to the end.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { StudioPush } from '../../src/api/studio-api';
import type { TrainingTarget } from '../../src/api/training-api';
import type { TrainingEvent } from '../../src/api/training-protocol';
import { runsFolderOf } from '../../src/backend/run-folders';
import { TrainingRunsService } from '../../src/backend/training-runs-service';
import { getPreset } from '../../src/core/presets';
import { resolveTrainOptions } from '../../src/core/training/options';
import { spawnTrainingWorker, startTrainingJob } from '../../src/engine/job';
import { readRunRecord, runLockHolder } from '../../src/engine/run/folder';
import { describeWith, pytorch } from '../support/requirements';

const workspace = mkdtempSync(path.join(tmpdir(), 'fault-worker-death-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));
const project = getPreset('lenet')!.build();
writeFileSync(path.join(workspace, 'lenet.json'), JSON.stringify(project));
const target: TrainingTarget = { project, projectPath: 'lenet.json' };
const runs = runsFolderOf(workspace, target);
mkdirSync(runs);
const small = {
  dataset: 'sample',
  limitTrain: 128,
  limitVal: 64,
  batchSize: 32,
  lr: 0.9,
  backend: 'wasm',
  epochs: 2,
} as const;

/** Trains in `runs/<id>` and ends the worker from outside at the first event `killAt` picks. */
async function trainAndKill(
  id: string,
  killAt: (event: TrainingEvent) => boolean,
  overrides: Partial<typeof small> | { backend: 'pytorch' } | { resume: true } = {},
) {
  const outDir = path.join(runs, id);
  const events: TrainingEvent[] = [];
  let worker: Worker | undefined;
  let killed = false;
  const job = startTrainingJob(
    project,
    resolveTrainOptions(project, { ...small, ...overrides, outDir }),
    (event) => {
      events.push(event);
      if (!killed && killAt(event)) {
        killed = true;
        void worker?.terminate();
      }
    },
    () => {
      worker = spawnTrainingWorker();
      return worker;
    },
  );
  return { outDir, events, final: await job.done };
}

describe('a training worker that dies', () => {
  it('is reported with the checkpoint kept, and the studio continues the run from it', async () => {
    const { outDir, events, final } = await trainAndKill(
      'killed',
      (e) => e.event === 'checkpoint' && e.epoch === 1,
    );
    const checkpoints = events.filter((e) => e.event === 'checkpoint');
    const last = checkpoints.at(-1) as { epoch: number };
    expect(final.event).toBe('error');
    const message = (final as { message: string }).message;
    expect(message).toMatch(
      /^The training worker ended unexpectedly \(exit code \d+\): training stopped\./,
    );
    expect(message).toContain(`The checkpoint after epoch ${last.epoch} in ${outDir} is kept`);
    expect(message).toContain(`--out ${outDir} --resume`);
    expect(events.at(-1)).toEqual(final); // the page hears it as the run's last event
    const record = await readRunRecord(outDir);
    expect(record).toMatchObject({ status: 'failed', error: message });
    expect(runLockHolder(outDir)).toBeUndefined();

    // The studio lists it as continuable and continues it to the end.
    const pushes: StudioPush[] = [];
    let finished: (event: TrainingEvent) => void = () => undefined;
    const done = new Promise<TrainingEvent>((resolve) => {
      finished = resolve;
    });
    const service = new TrainingRunsService({
      projectFolder: workspace,
      push: (push) => {
        pushes.push(push);
        if (push.channel === 'training' && ['done', 'error'].includes(push.payload.event))
          finished(push.payload);
      },
    });
    const listed = await service.trainingRuns(target);
    if (!listed.ok) throw new Error(listed.error);
    expect(listed.value.find((r) => r.id === 'killed')).toMatchObject({
      status: 'failed',
      hasCheckpoint: true,
    });
    const continued = await service.trainingContinue(target, 'killed');
    if (!continued.ok) throw new Error(continued.error);
    expect(await done).toMatchObject({ event: 'done', epochs: small.epochs });
    const epochs = readFileSync(path.join(outDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((e) => e.event === 'epoch')
      .map((e) => e.epoch);
    // Killed between the checkpoint and its epoch's line: the line is added once on resume.
    expect(epochs).toEqual([1, 2]);
    expect(await readRunRecord(outDir)).toMatchObject({ status: 'done' });
  }, 120_000);

  it('resumed, then killed before a newer checkpoint, keeps the one it resumed from', async () => {
    await trainAndKill('twice', (e) => e.event === 'checkpoint' && e.epoch === 1);
    const { outDir, final } = await trainAndKill('twice', (e) => e.event === 'batch', {
      resume: true,
    });
    expect((final as { message: string }).message).toContain(
      `training stopped. The checkpoint it resumed from in ${outDir} is kept (none newer was written): continue the run from it`,
    );
    expect(runLockHolder(outDir)).toBeUndefined();
  }, 60_000);

  it('before its first checkpoint says that nothing was kept and the run must start again', async () => {
    const { outDir, final } = await trainAndKill('early', (e) => e.event === 'batch');
    expect(final).toEqual({
      event: 'error',
      message: `The training worker ended unexpectedly (exit code 1): training stopped. No checkpoint had been written yet in ${outDir}; start the run again.`,
    });
    expect(runLockHolder(outDir)).toBeUndefined();
  }, 60_000);
});

/** The PyTorch engine's processes (engine.py) of this machine, by process id (Linux /proc). */
function engineProcesses(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('engine.py');
      } catch {
        return false; // gone meanwhile
      }
    });
}

describeWith([pytorch], 'a training worker that dies while the PyTorch engine trains', () => {
  it('leaves no PyTorch process training behind (it sees the studio gone and ends)', async () => {
    const before = new Set(engineProcesses());
    let running: string[] = [];
    const { final } = await trainAndKill(
      'pytorch',
      (e) => {
        if (e.event !== 'checkpoint') return false;
        running = engineProcesses().filter((pid) => !before.has(pid));
        return true;
      },
      { backend: 'pytorch' },
    );
    expect(running.length).toBeGreaterThan(0); // it was there when the worker died
    expect((final as { message: string }).message).toMatch(
      /The checkpoint after epoch 1 in .* is kept/,
    );
    await expect
      .poll(() => engineProcesses().filter((pid) => running.includes(pid)), { timeout: 20_000 })
      .toEqual([]);
  }, 120_000);
});
