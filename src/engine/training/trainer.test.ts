import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../../test/support/temp-dirs';
import type { FinalEvent, TrainingEvent } from '../../api/training-protocol';
import { weightKey } from '../../core/compile/model';
import { loadValidProject } from '../../core/document/load';
import { inferValidGraph } from '../../core/infer';
import { getPreset } from '../../core/presets';
import type { TrainOptions } from '../../core/training/options';
import { resolveTrainOptions } from '../../core/training/options';
import { checkpointPath, loadCheckpoint } from '../run/checkpoint';
import { RUN_FILES } from '../run/folder';
import { runTraining, TrainingControl } from './trainer';

const project = loadValidProject(
  readFileSync(new URL('../../../test/fixtures/tiny-cnn.json', import.meta.url), 'utf8'),
);
const base: Partial<TrainOptions> = { backend: 'cpu', limitTrain: 64, limitVal: 32, seed: 3 };
const tempDir = tempDirs('cs-train-');

type Epoch = Extract<TrainingEvent, { event: 'epoch' }>;

async function train(
  overrides: Partial<TrainOptions> = {},
  onEvent?: (event: TrainingEvent, control: TrainingControl) => void,
): Promise<{ events: TrainingEvent[]; final: FinalEvent; epochs: Epoch[] }> {
  const events: TrainingEvent[] = [];
  const control = new TrainingControl();
  const final = await runTraining(
    project,
    resolveTrainOptions(project, { ...base, ...overrides }),
    (event) => {
      events.push(event);
      onEvent?.(event, control);
    },
    control,
  );
  return { events, final, epochs: events.filter((e): e is Epoch => e.event === 'epoch') };
}

/** What must be identical between equivalent runs (not timings). */
const learning = (e: Epoch) => [e.epoch, e.trainLoss, e.trainAcc, e.valLoss, e.valAcc, e.lr];

describe('the trainer', () => {
  it('augments training batches only, repeats exactly, and records the augmentation in the run', async () => {
    // Without BatchNorm (whose running statistics would follow the training batches) and with a
    // learning rate too small to move the weights, validation sees the same network either way.
    const flat = {
      ...project,
      nodes: project.nodes.filter((n) => n.type !== 'BatchNorm2d'),
      edges: [
        ...project.edges.filter((e) => e.source !== 'bn1' && e.target !== 'bn1'),
        { source: 'conv1', target: 'relu1' },
      ],
    };
    const run = async (overrides: Partial<TrainOptions>) => {
      const events: TrainingEvent[] = [];
      const options = resolveTrainOptions(flat, {
        ...base,
        epochs: 1,
        lr: 1e-12,
        momentum: 0,
        ...overrides,
      });
      await runTraining(flat, options, (event) => events.push(event));
      return events;
    };
    const epoch = (events: TrainingEvent[]) => events.find((e): e is Epoch => e.event === 'epoch')!;
    const dir = tempDir();
    const plain = await run({});
    const augmented = await run({ cropPadding: 4, flip: true, outDir: dir });
    const again = await run({ cropPadding: 4, flip: true });
    expect(learning(epoch(augmented))).toEqual(learning(epoch(again)));
    expect(epoch(augmented).trainLoss).not.toBeCloseTo(epoch(plain).trainLoss, 6);
    expect(epoch(augmented).valLoss).toBeCloseTo(epoch(plain).valLoss, 6);
    expect(epoch(augmented).valAcc).toBe(epoch(plain).valAcc);
    expect(plain[0]).not.toHaveProperty('augmentation');
    const start = { event: 'start', augmentation: { cropPadding: 4, flip: true } };
    expect(augmented[0]).toMatchObject(start);
    const recorded = readFileSync(join(dir, RUN_FILES.metrics), 'utf8').split('\n')[0];
    expect(JSON.parse(recorded)).toMatchObject(start);
  });

  it('repeats a seeded CPU run exactly, streams the protocol, and holds the tensor count across epochs', async () => {
    const first = await train({ epochs: 3 });
    const second = await train({ epochs: 3 });
    expect(first.final.event).toBe('done');
    expect(first.epochs.map(learning)).toEqual(second.epochs.map(learning));
    expect(first.events[0]).toMatchObject({
      event: 'start',
      backend: 'cpu',
      epochs: 3,
      batchesPerEpoch: 4,
      dataset: { trainSize: 64, valSize: 32 },
    });
    const [e1, e2, e3] = first.epochs;
    expect(e2.tensors).toBe(e1.tensors);
    expect(e3.tensors).toBe(e1.tensors);
    for (const e of first.epochs) {
      expect(e).toMatchObject({ backend: 'cpu', epochs: 3 });
      expect(e.samplesPerSec).toBeGreaterThan(0);
      expect(e.memoryBytes).toBeGreaterThan(0);
    }
    expect(e3.etaSec).toBe(0);
    // Momentum SGD at lr 0.05 learns something even on 64 images.
    expect(e3.trainLoss).toBeLessThan(e1.trainLoss);
    const batches = first.events.filter((e) => e.event === 'batch');
    expect(batches.length).toBeGreaterThan(0);
    expect(first.events.at(-1)).toEqual(first.final);
  });

  it('has released every tensor when it announces the end, since its owner may end the worker then', async () => {
    const before = tf.memory().numTensors;
    let atFinal: number | undefined;
    const { final } = await train({ epochs: 1 }, (event) => {
      if (event.event === 'done') atFinal = tf.memory().numTensors;
    });
    expect(final.event).toBe('done');
    expect(atFinal).toBe(before);
  });

  it('stops with a clear message when the disk fills up, keeps the last checkpoint, and resumes from it', async () => {
    const outDir = tempDir();
    const checkpoint = checkpointPath(outDir);
    // After epoch 1's checkpoint, the next one's temporary file leads to /dev/full,
    // where every write fails with ENOSPC: a full disk, as the kernel reports it.
    const full = await train({ epochs: 2, outDir }, (event) => {
      if (event.event === 'checkpoint' && event.epoch === 1) {
        symlinkSync('/dev/full', `${checkpoint}.${process.pid}.tmp`);
      }
    });
    expect(full.final.event).toBe('error');
    expect(full.final.event === 'error' && full.final.message).toBe(
      `could not write ${checkpoint}: the disk is full; free some space or choose a folder on another disk (ENOSPC). Training stopped; the checkpoint after epoch 1 in ${outDir} is kept, so the run can be resumed from it once there is room.`,
    );
    expect(existsSync(`${checkpoint}.${process.pid}.tmp`)).toBe(false);
    expect(loadCheckpoint(outDir).position.epoch).toBe(1);
    const resumed = await train({ epochs: 2, outDir, resume: true });
    expect(resumed.final.event).toBe('done');
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([2]);
  });

  it('writes the run folder and resumes from a stop mid-epoch to the same result as an uninterrupted run', async () => {
    const straight = await train({ epochs: 2 });
    const outDir = tempDir();
    // Batch events are throttled; an epoch's first one always comes.
    const stopped = await train({ epochs: 2, outDir }, (event, control) => {
      if (event.event === 'batch' && event.epoch === 1 && event.batch === 1) control.stop();
    });
    expect(stopped.final).toMatchObject({ event: 'stopped', epoch: 1, batch: 1 });
    expect((stopped.final as { checkpoint?: string }).checkpoint).toBe(checkpointPath(outDir));
    const resumed = await train({ epochs: 2, outDir, resume: true });
    expect(resumed.events[0]).toMatchObject({ event: 'start', resumedFromEpoch: 0 });
    expect(resumed.final.event).toBe('done');
    expect(resumed.epochs.map(learning)).toEqual(straight.epochs.map(learning));
    // Training keeps weights as the ops take them; the checkpoint holds PyTorch's layout,
    // the weights and the optimizer's momentum alike.
    const shapes = new Map(
      inferValidGraph(project).primitives.flatMap((p) =>
        p.weights.map((w) => [weightKey(p.id, w.name), w.shape]),
      ),
    );
    const saved = loadCheckpoint(outDir);
    for (const [key, t] of saved.weights) expect(t.shape, key).toEqual(shapes.get(key));
    expect(saved.optimizer.slots.size).toBeGreaterThan(0);
    for (const [id, t] of saved.optimizer.slots) {
      expect(t.shape, id).toEqual(shapes.get(id.slice(0, id.lastIndexOf('.'))));
    }
    for (const file of Object.values(RUN_FILES)) {
      expect(existsSync(join(outDir, file))).toBe(true);
    }
    const recorded = readFileSync(join(outDir, RUN_FILES.metrics), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TrainingEvent);
    expect(recorded.filter((e) => e.event === 'epoch')).toHaveLength(2);
    expect(recorded.at(-1)?.event).toBe('done');
  });

  it('continues a finished run for more epochs with its optimizer state', async () => {
    const straight = await train({ epochs: 2 });
    const outDir = tempDir();
    await train({ epochs: 1, outDir });
    const more = await train({ epochs: 2, outDir, resume: true });
    expect(more.epochs.map(learning)).toEqual(straight.epochs.slice(1).map(learning));
  });

  it('pauses before the next batch and resumes on request', async () => {
    const run = await train({ epochs: 1 }, (event, control) => {
      if (event.event === 'batch' && event.batch === 1) {
        control.pause();
        setTimeout(() => control.resume(), 50);
      }
    });
    const kinds = run.events.map((e) => e.event);
    expect(kinds.indexOf('paused')).toBeGreaterThan(kinds.indexOf('batch'));
    expect(run.events.find((e) => e.event === 'paused')).toMatchObject({ epoch: 1, batch: 1 });
    expect(kinds).toContain('resumed');
    expect(run.final.event).toBe('done');
  });

  it('stops a diverging run with advice to lower the learning rate', async () => {
    const run = await train({ epochs: 2, lr: 1e38, momentum: 0 });
    expect(run.final.event).toBe('error');
    expect((run.final as { message: string }).message).toMatch(/lower the learning rate/i);
  });

  it('emits layer statistics, resizes per batch, and reports bad settings clearly', async () => {
    const run = await train({ epochs: 1, layerStatsEvery: 2, resize: [20, 20] });
    expect(run.events[0]).toMatchObject({ dataset: { inputShape: [20, 20, 1] } });
    const stats = run.events.filter((e) => e.event === 'layerStats');
    expect(stats).toHaveLength(2);
    const relu = stats[0].event === 'layerStats' && stats[0].layers.find((l) => l.type === 'ReLU');
    expect(relu ? relu.deadFraction : undefined).toBeGreaterThan(0);
    expect(() => resolveTrainOptions(project, { optimizer: 'rmsprop' as 'sgd' })).toThrow(
      /optimizer must be one of sgd, adam, adamw/,
    );
    const noCheckpoint = await train({ epochs: 1, outDir: tempDir(), resume: true });
    expect(noCheckpoint.final).toMatchObject({
      event: 'error',
      message: expect.stringMatching(/no checkpoint/),
    });
  });
});

/** metrics.jsonl of a run folder, as events. */
const recordedEvents = (outDir: string) =>
  readFileSync(join(outDir, RUN_FILES.metrics), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TrainingEvent);

describe('what a run survives', () => {
  it('writes an epoch to metrics.jsonl only after its checkpoint, and checkpoints within epochs on a timer', async () => {
    const outDir = tempDir();
    // A tiny interval: a checkpoint before every batch but an epoch's first.
    const run = await train({ epochs: 2, outDir, checkpointMinutes: 1e-9 });
    expect(run.final.event).toBe('done');
    const recorded = recordedEvents(outDir).flatMap((e): unknown[][] =>
      e.event === 'checkpoint'
        ? [[e.event, e.epoch, e.batch]]
        : e.event === 'epoch'
          ? [[e.event, e.epoch, '-']]
          : [],
    );
    expect(recorded).toEqual([
      ['checkpoint', 1, 1],
      ['checkpoint', 1, 2],
      ['checkpoint', 1, 3],
      ['checkpoint', 1, undefined],
      ['epoch', 1, '-'],
      ['checkpoint', 2, 1],
      ['checkpoint', 2, 2],
      ['checkpoint', 2, 3],
      ['checkpoint', 2, undefined],
      ['epoch', 2, '-'],
    ]);
  });

  it('refuses to resume with a batch size (or other setting giving the position meaning) changed, naming it', async () => {
    const outDir = tempDir();
    await train({ epochs: 1, outDir, batchSize: 16 });
    const changed = await train({ epochs: 2, outDir, resume: true, batchSize: 32, seed: 4 });
    expect(changed.final).toMatchObject({ event: 'error' });
    expect(changed.final.event === 'error' && changed.final.message).toMatch(
      /^this run cannot continue with other settings: batch size was 16 and is 32 now; seed was 3 and is 4 now\. A resumed run keeps them/,
    );
    // The learning rate may change; the run continues.
    const relaxed = await train({ epochs: 2, outDir, resume: true, batchSize: 16, lr: 0.01 });
    expect(relaxed.final.event).toBe('done');
  });

  it('refuses to resume with another network, and a checkpoint that does not fit, naming the file', async () => {
    const outDir = tempDir();
    await train({ epochs: 1, outDir });
    const wider = structuredClone(project);
    (wider.nodes.find((n) => n.id === 'conv1')!.params as { out_channels: number }).out_channels =
      8;
    const options = resolveTrainOptions(wider, { ...base, epochs: 2, outDir, resume: true });
    const other = await runTraining(wider, options, () => undefined);
    expect(other.event === 'error' && other.message).toMatch(
      /^the network differs from the one this run trained \(.*project\.json\)/,
    );
    // The same, with the run's project.json replaced: the checkpoint's weights do not fit.
    writeFileSync(join(outDir, RUN_FILES.project), JSON.stringify(wider));
    const misfit = await runTraining(wider, options, () => undefined);
    expect(misfit.event === 'error' && misfit.message).toContain(
      `the checkpoint ${checkpointPath(outDir)} does not fit this project: the weights do not fit this model: 'conv1.weight' is 4×1×3×3 but the model needs 8×1×3×3`,
    );
  });

  it('puts back an epoch a crash kept out of metrics.jsonl after its checkpoint', async () => {
    const outDir = tempDir();
    await train({ epochs: 2, outDir });
    // As if killed between the checkpoint of epoch 2 and its line in metrics.jsonl.
    const lines = readFileSync(join(outDir, RUN_FILES.metrics), 'utf8').trim().split('\n');
    const cut = lines.findIndex((l) => l.includes('"event":"epoch","epoch":2'));
    writeFileSync(join(outDir, RUN_FILES.metrics), `${lines.slice(0, cut).join('\n')}\n`);
    const resumed = await train({ epochs: 2, outDir, resume: true });
    expect(resumed.final.event).toBe('done');
    const epochs = recordedEvents(outDir).flatMap((e) => (e.event === 'epoch' ? [e.epoch] : []));
    expect(epochs).toEqual([1, 2]);
  });

  it('keeps a new run out of a folder that holds one, and clears what a crash left there', async () => {
    const outDir = tempDir();
    await train({ epochs: 1, outDir });
    const again = await train({ epochs: 1, outDir });
    expect(again.final.event === 'error' && again.final.message).toBe(
      `${outDir} already holds a run (run.json); continue it with --resume, or choose another folder for a new one`,
    );
    const leftover = `${checkpointPath(outDir)}.999999.tmp`;
    writeFileSync(leftover, Buffer.alloc(4096));
    const resumed = await train({ epochs: 2, outDir, resume: true });
    expect(resumed.final.event).toBe('done');
    expect(existsSync(leftover)).toBe(false);
    expect(JSON.parse(readFileSync(join(outDir, RUN_FILES.record), 'utf8'))).toMatchObject({
      status: 'done',
      options: { epochs: 2, batchSize: 16 },
    });
  });
});

describe('honest endings', () => {
  it('stops a run whose loss explodes without overflowing, with a clear message', async () => {
    // LeNet's sigmoids at lr 1e6: the loss stays finite but grows into the millions.
    const lenet = getPreset('lenet')!.build();
    const options = resolveTrainOptions(lenet, {
      ...base,
      epochs: 1,
      batchSize: 16,
      lr: 1e6,
    });
    const final = await runTraining(lenet, options, () => undefined);
    expect(final.event).toBe('error');
    expect(final.event === 'error' && final.message).toMatch(
      /^the loss exploded to [\d.e+]+ \(smoothed [\d.e+]+, more than 100 times its first value [\d.]+\) at batch \d in epoch 1: training diverged\. Lower the learning rate \(it is 1000000; try 100000\) and start again$/,
    );
  });
});
