/**
 * Training on the PyTorch engine with the real PyTorch: the events match the
 * built-in engine's protocol; pause, stop and --resume; a 2-process torchrun
 * run, and two nodes meeting at a rendezvous endpoint; the run is accepted by export and by the evaluation service; and the
 * faults (the process killed, a rank killed under torchrun, CUDA asked for
 * where there is none, a diverging loss, no PyTorch) each end in a message
 * that says what happened, with the last checkpoint and the project kept.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, pytorch } from '../../../test/support/requirements';
import type { Result } from '../../api/result';
import type { StudioPush } from '../../api/studio-api';
import type { FinalEvent, TrainingEvent } from '../../api/training-protocol';
import { EvaluationService } from '../../backend/evaluation-service';
import { ExportService } from '../../backend/export-service';
import { TrainingRunsService } from '../../backend/training-runs-service';
import { loadValidProject } from '../../core/document/load';
import { resolveTrainOptions, type TrainOptions } from '../../core/training/options';
import { startTrainingJob } from '../job';
import { checkpointPath, loadCheckpoint } from '../run/checkpoint';
import { RUN_FILES } from '../run/folder';
import { runTraining, TrainingControl } from '../training/trainer';

const projectText = readFileSync(
  new URL('../../../test/fixtures/tiny-cnn.json', import.meta.url),
  'utf8',
);
const project = loadValidProject(projectText);
const base: Partial<TrainOptions> = {
  backend: 'pytorch',
  dataset: 'sample',
  limitTrain: 64,
  limitVal: 32,
  epochs: 2,
  seed: 1,
};
const root = mkdtempSync(path.join(tmpdir(), 'cs-pytorch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const runDir = () => path.join(root, `run-${++runs}`);

type Epoch = Extract<TrainingEvent, { event: 'epoch' }>;

async function train(
  overrides: Partial<TrainOptions>,
  onEvent?: (event: TrainingEvent, control: TrainingControl) => void,
  network = project,
): Promise<{ events: TrainingEvent[]; final: FinalEvent; epochs: Epoch[] }> {
  const events: TrainingEvent[] = [];
  const control = new TrainingControl();
  const final = await runTraining(
    network,
    resolveTrainOptions(network, { ...base, ...overrides }),
    (event) => {
      events.push(event);
      onEvent?.(event, control);
    },
    control,
  );
  return { events, final, epochs: events.filter((e): e is Epoch => e.event === 'epoch') };
}

/** The PyTorch processes this test process started, with their torchrun rank (Linux /proc). */
function engineProcesses(): { pid: number; rank: number }[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  return [...parents.keys()].filter(mine).flatMap((pid) => {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('engine.py')) return [];
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const rank = environ.find((v) => v.startsWith('RANK='));
      return [{ pid, rank: rank ? Number(rank.slice(5)) : 0 }];
    } catch {
      return [];
    }
  });
}

const keys = (event: object) => Object.keys(event).sort();

describeWith([pytorch], 'the PyTorch engine', () => {
  it('streams the built-in engine’s events, each epoch naming PyTorch and its device, into a run folder like any other', async () => {
    const options = { layerStatsEvery: 2 };
    const builtIn = await train({ ...options, backend: 'cpu', outDir: runDir() });
    const outDir = runDir();
    const torch = await train({ ...options, outDir });
    expect(torch.final).toMatchObject({ event: 'done', backend: 'pytorch', outDir });
    const kinds = (events: TrainingEvent[]) => [...new Set(events.map((e) => e.event))];
    expect(kinds(torch.events)).toEqual(kinds(builtIn.events));
    // Every kind of event carries the same fields as the built-in engine's.
    for (const kind of kinds(builtIn.events)) {
      const ours = torch.events.find((e) => e.event === kind) as object;
      const theirs = builtIn.events.find((e) => e.event === kind) as object;
      // execution: which tfjs path trained (WebGPU's compiled step or op by op); PyTorch has neither.
      const optional = ['backendNote', 'threads', 'execution'];
      expect(
        keys(ours).filter((k) => !optional.includes(k)),
        kind,
      ).toEqual(keys(theirs).filter((k) => !optional.includes(k)));
    }
    const start = torch.events[0] as Extract<TrainingEvent, { event: 'start' }>;
    expect(start).toMatchObject({ backend: 'pytorch', epochs: 2, batchesPerEpoch: 4 });
    expect(start.dataset).toEqual((builtIn.events[0] as typeof start).dataset);
    expect(start.backendNote).toMatch(/^PyTorch: torch \d+\.\d+\S* in \S+ \(Python 3/);
    expect(torch.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const epoch of torch.epochs) {
      expect(epoch).toMatchObject({
        backend: 'pytorch',
        device: start.device,
        epochs: 2,
        lr: 0.05,
      });
      expect(epoch.device).toMatch(/^(CPU, \d+ threads?|CUDA .+)$/);
      for (const value of [epoch.trainLoss, epoch.valLoss, epoch.samplesPerSec, epoch.seconds]) {
        expect(value).toBeGreaterThan(0);
      }
      expect(epoch.valAcc).toBeGreaterThanOrEqual(0);
      expect(epoch.valAcc).toBeLessThanOrEqual(1);
    }
    const layerIds = (events: TrainingEvent[]) =>
      (
        events.find((e) => e.event === 'layerStats') as Extract<
          TrainingEvent,
          { event: 'layerStats' }
        >
      ).layers.map((l) => `${l.id}:${Object.keys(l).sort().join(',')}`);
    expect(layerIds(torch.events)).toEqual(layerIds(builtIn.events));
    // The run folder: every event recorded, weights and a checkpoint per epoch.
    const recorded = readFileSync(path.join(outDir, RUN_FILES.metrics), 'utf8').trim().split('\n');
    expect(recorded.map((line) => JSON.parse(line))).toEqual(torch.events);
    for (const file of [RUN_FILES.project, RUN_FILES.weights, 'curves.png']) {
      expect(existsSync(path.join(outDir, file)), file).toBe(true);
    }
    expect(loadCheckpoint(outDir).position).toMatchObject({ epoch: 2, batch: 0, optimizerStep: 8 });
  });

  it('crops and flips training images as asked, repeatably, then resizes them, follows the schedule and takes the thread count asked for', async () => {
    // Fed at 32×32: the engine crops and flips the stored 28×28 images, then resizes each batch.
    const larger = structuredClone(project);
    Object.assign(larger.nodes[0].params, { height: 32, width: 32 });
    const settings: Partial<TrainOptions> = {
      resize: [32, 32],
      lr: 0.1,
      schedule: 'step',
      stepSize: 1,
      gamma: 0.5,
      threads: 1,
    };
    const augmented = { ...settings, cropPadding: 2, flip: true };
    const [plain, first, again] = [
      await train(settings, undefined, larger),
      await train(augmented, undefined, larger),
      await train(augmented, undefined, larger),
    ];
    expect(first.events[0]).toMatchObject({
      event: 'start',
      dataset: { inputShape: [32, 32, 1] },
      threads: 1,
      augmentation: { cropPadding: 2, flip: true },
    });
    expect(plain.events[0]).not.toHaveProperty('augmentation');
    const { device } = first.events[0] as { device: string };
    if (device.startsWith('CPU')) expect(device).toBe('CPU, 1 thread');
    expect(first.epochs.map((e) => e.lr)).toEqual([0.1, 0.05]);
    const losses = (run: { epochs: Epoch[] }) => run.epochs.map((e) => e.trainLoss);
    expect(losses(again)).toEqual(losses(first));
    expect(losses(first)[0]).not.toBeCloseTo(losses(plain)[0], 6);
    expect(first.final.event).toBe('done');
  });

  it('refuses a network that does not give one score per class as the built-in engine does', async () => {
    const seven = structuredClone(project);
    const last = seven.nodes.findLast((n) => n.type === 'Linear');
    if (last) last.params.out_features = 7;
    const message = async (backend: TrainOptions['backend']) => {
      const final = await runTraining(
        seven,
        resolveTrainOptions(seven, { ...base, backend }),
        () => undefined,
      );
      return final.event === 'error' ? final.message : final.event;
    };
    const refused = await message('pytorch');
    expect(refused).toMatch(/node 'fc', field 'out_features'.*10 outputs/);
    expect(refused).toBe(await message('cpu'));
  });

  it('pauses and stops between batches, keeping a checkpoint that --resume continues from', async () => {
    const outDir = runDir();
    // 64 batches an epoch, so the requests land inside the first epoch.
    const options = resolveTrainOptions(project, { ...base, limitTrain: 1024, outDir });
    const events: TrainingEvent[] = [];
    const job = startTrainingJob(project, options, (e) => {
      events.push(e);
      if (e.event === 'batch' && e.epoch === 1 && e.batch === 1) job.pause();
      if (e.event === 'paused') setTimeout(() => job.resume(), 50);
      if (e.event === 'resumed') job.stop();
    });
    const stopped = await job.done;
    expect(stopped).toMatchObject({
      event: 'stopped',
      epoch: 1,
      checkpoint: checkpointPath(outDir),
    });
    const kinds = events.map((e) => e.event);
    // Nothing trains while paused.
    expect(kinds.slice(kinds.indexOf('paused'), kinds.indexOf('paused') + 2)).toEqual([
      'paused',
      'resumed',
    ]);
    const paused = events.find((e) => e.event === 'paused') as { batch: number };
    const at = (stopped as { batch: number }).batch;
    expect(at).toBeGreaterThanOrEqual(paused.batch);
    expect(at).toBeLessThan(64);
    const position = loadCheckpoint(outDir).position;
    expect(position).toMatchObject({ epoch: 0, batch: at, optimizerStep: at });
    expect(position.partial.seen).toBe(16 * at);

    // Resumed with checkpoints also within epochs, every 6 ms (a few batches).
    const resumed = await train({
      limitTrain: 1024,
      outDir,
      resume: true,
      checkpointMinutes: 0.0001,
    });
    const within = resumed.events.filter((e) => e.event === 'checkpoint' && e.batch !== undefined);
    expect(within.length).toBeGreaterThan(0);
    expect(resumed.final.event).toBe('done');
    expect(resumed.events[0]).toMatchObject({ event: 'start', resumedFromEpoch: 0 });
    expect(resumed.events.find((e) => e.event === 'batch')).toMatchObject({
      epoch: 1,
      batch: at + 1,
    });
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(loadCheckpoint(outDir).position).toMatchObject({ epoch: 2, optimizerStep: 128 });
  });

  it('runs under torchrun with 2 processes (gloo), reporting from rank 0 only', async () => {
    const outDir = runDir();
    const run = await train({ nprocPerNode: 2, outDir });
    expect(run.final).toMatchObject({ event: 'done', backend: 'pytorch' });
    const start = run.events.filter((e) => e.event === 'start');
    expect(start).toHaveLength(1);
    // Each process trains on its half: 2 batches of 16 per epoch.
    expect(start[0]).toMatchObject({ batchesPerEpoch: 2 });
    expect((start[0] as { backendNote: string }).backendNote).toMatch(
      /2 processes under torchrun, DistributedDataParallel over gloo: 16 images per process per step, 32 in all/,
    );
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(run.epochs[0].device).toMatch(/2 processes \(gloo\)$/);
    expect(loadCheckpoint(outDir).position).toMatchObject({ epoch: 2, optimizerStep: 4 });
    expect(engineProcesses()).toEqual([]);
  });

  it('meets the other machines of a cluster run at --rdzv-endpoint (two nodes, here on one machine)', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const node = (nodeRank: number) =>
      train({
        epochs: 1,
        nprocPerNode: 1,
        nnodes: 2,
        nodeRank,
        rdzvEndpoint: `127.0.0.1:${port}`,
        outDir: runDir(),
      });
    const [first, second] = await Promise.all([node(0), node(1)]);
    for (const [nodeRank, run] of [first, second].entries()) {
      expect(run.final).toMatchObject({ event: 'done', backend: 'pytorch' });
      expect((run.events[0] as { backendNote: string }).backendNote).toMatch(
        new RegExp(`2 processes under torchrun on 2 machines \\(this is node ${nodeRank}\\)`),
      );
      expect(run.epochs[0].device).toMatch(/2 processes \(gloo\)$/);
    }
    // One training, recorded on each machine: the numbers are the same.
    expect(second.epochs[0].trainLoss).toBe(first.epochs[0].trainLoss);
    expect(second.epochs[0].valAcc).toBe(first.epochs[0].valAcc);
    expect(engineProcesses()).toEqual([]);
  });

  /** The last checkpoint's epoch among the events (the engine may run ahead of the studio's writes). */
  const lastCheckpoint = (events: TrainingEvent[]) =>
    (events.filter((e) => e.event === 'checkpoint').at(-1) as { epoch: number }).epoch;

  it('reports a PyTorch process that is killed, keeping the last checkpoint and the project', async () => {
    const outDir = runDir();
    const run = await train({ epochs: 20, outDir }, (event) => {
      if (event.event === 'checkpoint' && event.epoch === 1) {
        for (const { pid } of engineProcesses()) process.kill(pid, 'SIGKILL');
      }
    });
    expect(run.final.event).toBe('error');
    const saved = lastCheckpoint(run.events);
    expect(saved).toBeLessThan(20);
    expect((run.final as { message: string }).message).toBe(
      `the PyTorch process was killed by SIGKILL (the system does this when memory runs out, or someone ended it). Training stopped; the checkpoint after epoch ${saved} in ${outDir} is kept, so the run can be resumed from it (--resume).`,
    );
    expect(loadCheckpoint(outDir).position).toMatchObject({ epoch: saved, batch: 0 });
    expect(readFileSync(path.join(outDir, RUN_FILES.project), 'utf8')).toBe(
      `${JSON.stringify(project, null, 2)}\n`,
    );
  });

  it('names the rank that failed under torchrun', async () => {
    const outDir = runDir();
    const run = await train({ epochs: 20, nprocPerNode: 2, outDir }, (event) => {
      if (event.event !== 'checkpoint' || event.epoch !== 1) return;
      for (const { pid, rank } of engineProcesses()) if (rank === 1) process.kill(pid, 'SIGKILL');
    });
    expect((run.final as { message: string }).message).toMatch(
      new RegExp(
        // torchrun sees the kill itself, or only rank 0 failing on the closed connection first.
        `^the PyTorch process of rank 1 (\\(pid \\d+\\) was killed by SIGKILL .*|ended without saying why .*), so torchrun ended the run\\. Training stopped; the checkpoint after epoch ${lastCheckpoint(run.events)} in .* is kept`,
      ),
    );
    expect(engineProcesses()).toEqual([]);
  });

  it('says what to do when CUDA is asked for where torch sees no GPU', async () => {
    const run = await train({ device: 'cuda' });
    const message = (run.final as { message?: string }).message ?? '';
    // On a CUDA machine this trains; here it must refuse before loading anything.
    if (run.final.event === 'error') {
      expect(message).toMatch(
        /^--device cuda: torch .* sees no CUDA GPU.*or train on the CPU with --device cpu$/,
      );
      expect(run.events).toEqual([run.final]);
    } else {
      expect(run.epochs[0].device).toMatch(/^CUDA /);
    }
  });

  it('stops a diverging run with the built-in engine’s advice', async () => {
    const run = await train({ lr: 1e38, momentum: 0, epochs: 2 });
    expect((run.final as { message: string }).message).toMatch(
      /^the loss (became NaN|became Infinity|exploded to .*) at batch \d+ in epoch \d: training diverged\. Lower the learning rate \(it is 1e\+38; try 1e\+37\) and start again$/,
    );
  });

  it('says how to get PyTorch when there is none, before touching anything', async () => {
    const outDir = runDir();
    const saved = process.env.CONVNET_STUDIO_PYTHON;
    process.env.CONVNET_STUDIO_PYTHON = path.join(root, 'no-python-here');
    try {
      const run = await train({ outDir });
      expect(run.events).toEqual([run.final]);
      expect((run.final as { message: string }).message).toMatch(
        /^PyTorch was not found: CONVNET_STUDIO_PYTHON \(.*no-python-here\) is not there\. Install PyTorch/,
      );
      expect(existsSync(outDir)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CONVNET_STUDIO_PYTHON;
      else process.env.CONVNET_STUDIO_PYTHON = saved;
    }
  });
});

describeWith([pytorch], 'a PyTorch run in the studio', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'cs-pytorch-service-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const pushes: StudioPush[] = [];
  const service = new TrainingRunsService({ projectFolder: folder, push: (p) => pushes.push(p) });
  const evaluation = new EvaluationService({ projectFolder: folder, push: (p) => pushes.push(p) });
  writeFileSync(path.join(folder, 'tiny.json'), projectText);
  const target = { project, projectPath: 'tiny.json' };
  const value = <T>(result: Result<T>): T => {
    if (!result.ok) throw new Error(result.error);
    return result.value;
  };

  it('is listed with its version, trains, and is accepted by evaluation and export', async () => {
    const backends = value(await service.trainingBackends());
    expect(backends.find((b) => b.name === 'pytorch')).toMatchObject({
      available: true,
      device: expect.stringMatching(/torch \d+\.\d+\S* in /),
    });
    const run = value(await service.trainingStart({ ...target, options: { ...base, epochs: 1 } }));
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => {
        if (
          pushes.some(
            (p) => p.channel === 'training' && p.runId === run.id && p.payload.event === 'done',
          )
        ) {
          clearInterval(wait);
          resolve();
        }
      }, 100);
    });
    // The service records the end just after the last event.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [listed] = value(await service.trainingRuns(target));
    expect(listed).toMatchObject({
      id: run.id,
      status: 'done',
      backend: 'pytorch',
      hasWeights: true,
      epochsDone: 1,
    });
    const report = value(
      await evaluation.evaluateClassification({
        ...target,
        weights: { kind: 'run', runId: run.id },
        limit: 32,
      }),
    );
    expect(report.count).toBe(32);
    // The studio's evaluation of the weights PyTorch trained: the accuracy PyTorch measured on the same 32 images.
    const done = pushes.find(
      (p) => p.channel === 'training' && p.runId === run.id && p.payload.event === 'done',
    )?.payload as Extract<FinalEvent, { event: 'done' }>;
    expect(report.accuracy).toBeCloseTo(done.valAcc, 6);
    const exporter = new ExportService({ projectFolder: folder });
    for (const [format, file] of [
      ['onnx', 'model.onnx'],
      ['pytorch', 'weights.safetensors'],
      ['tfjs', 'model.json'],
    ] as const) {
      const plan = value(
        await exporter.exportModel({
          target,
          weights: { kind: 'run', runId: run.id },
          format,
          folder: `exports/${format}`,
        }),
      );
      expect(plan.files.map((f) => f.path)).toContain(file);
    }
  });
});
