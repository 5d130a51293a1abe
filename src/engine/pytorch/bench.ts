/**
 * What the studio costs when PyTorch trains (Node only): the same training
 * timed twice, driven by the studio (a training job on the PyTorch engine:
 * the Python lookup, the data handed over, events, checkpoints, the run
 * folder) and as the exported train.py run by hand, each from start to end.
 * Both train the same network from the same weights with the same settings
 * and the same step (train.py's), so the difference is the studio's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TrainingEvent } from '../../api/training-protocol';
import type { Project } from '../../core/document/schema';
import { inferValidGraph } from '../../core/infer';
import { resolveTrainOptions, type TrainOptions } from '../../core/training/options';
import { writeBundle } from '../../exporters/node-io';
import { exportPytorch } from '../../exporters/pytorch/export';
import { initBackend } from '../backends';
import { loadDataset } from '../data';
import { startTrainingJob } from '../job';
import { findTorch, type TorchInstall } from './python';
import { initialWeights } from './run';

export interface EngineBenchCase {
  model: string;
  project: Project;
  epochs: number;
  batchSize: number;
  /** Training images per epoch (undefined: the whole training split). */
  limitTrain?: number;
  /** Validation images (undefined: the whole test split). */
  limitVal?: number;
  dataDir?: string;
}

export interface EngineBenchResult {
  model: string;
  epochs: number;
  batchSize: number;
  trainImages: number;
  /** Wall-clock seconds of the studio-driven run, from asking to the last event. */
  studioSeconds: number;
  /** Wall-clock seconds of `python train.py`, from start to exit. */
  standaloneSeconds: number;
  /** studioSeconds / standaloneSeconds - 1. */
  overhead: number;
  /** Training samples/s of each epoch, as each side reports it. */
  studioSamplesPerSec: number[];
  standaloneSamplesPerSec: number[];
  device: string;
  torch: string;
  python: string;
}

/** Fashion-MNIST's IDX files, where train.py can read them (the studio's lookup finds the folder). */
async function idxFolder(dataDir: string | undefined): Promise<string> {
  const { info } = await loadDataset({
    dataset: 'fashion-mnist',
    dataDir,
    limitTrain: 1,
    limitVal: 1,
    download: false,
  });
  return info.source;
}

function timeStandalone(
  install: TorchInstall,
  dir: string,
  args: string[],
): Promise<{ seconds: number; samplesPerSec: number[]; device: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(install.command, ['-u', 'train.py', ...args], { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`train.py failed (exit ${code}): ${err.trim().split('\n').at(-1)}`));
        return;
      }
      resolve({
        seconds,
        samplesPerSec: [...out.matchAll(/, (\d+) samples\/s/g)].map((m) => Number(m[1])),
        device: /device (\S+),/.exec(out)?.[1] ?? '?',
      });
    });
  });
}

function timeStudio(
  project: Project,
  options: TrainOptions,
): Promise<{
  seconds: number;
  trainImages: number;
  epochs: Extract<TrainingEvent, { event: 'epoch' }>[];
}> {
  const epochs: Extract<TrainingEvent, { event: 'epoch' }>[] = [];
  let trainImages = 0;
  const started = performance.now();
  const job = startTrainingJob(project, options, (event) => {
    if (event.event === 'epoch') epochs.push(event);
    if (event.event === 'start') trainImages = event.dataset.trainSize;
  });
  return job.done.then((final) => {
    if (final.event !== 'done') {
      throw new Error(
        `the studio-driven run ended with ${final.event}: ${'message' in final ? final.message : ''}`,
      );
    }
    return { seconds: (performance.now() - started) / 1000, trainImages, epochs };
  });
}

/** Times the studio-driven PyTorch training and the exported train.py, one after the other. */
export async function benchPyTorchEngine(c: EngineBenchCase): Promise<EngineBenchResult> {
  const install = await findTorch();
  const source = await idxFolder(c.dataDir);
  const options = resolveTrainOptions(c.project, {
    backend: 'pytorch',
    dataset: 'fashion-mnist',
    dataDir: source,
    epochs: c.epochs,
    batchSize: c.batchSize,
    limitTrain: c.limitTrain,
    limitVal: c.limitVal,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'convnet-studio-bench-'));
  try {
    // train.py starts from the weights the studio would start from.
    const { tf } = await initBackend('cpu');
    const inference = inferValidGraph(c.project, { batch: 1 });
    const packageDir = path.join(dir, 'package');
    writeBundle(
      exportPytorch({
        project: c.project,
        inference,
        weights: initialWeights(tf, inference, options),
      }),
      packageDir,
    );
    const standalone = await timeStandalone(install, packageDir, [
      '--data-dir',
      source,
      '--epochs',
      String(options.epochs),
      '--batch-size',
      String(options.batchSize),
      '--lr',
      String(options.lr),
      '--optimizer',
      options.optimizer,
      '--momentum',
      String(options.momentum),
      '--weight-decay',
      String(options.weightDecay),
      '--schedule',
      options.schedule,
      '--seed',
      String(options.seed),
      ...(options.limitTrain ? ['--limit-train', String(options.limitTrain)] : []),
      ...(options.limitVal ? ['--limit-val', String(options.limitVal)] : []),
      '--out',
      path.join(dir, 'trained.safetensors'),
    ]);
    const studio = await timeStudio(c.project, { ...options, outDir: path.join(dir, 'run') });
    return {
      model: c.model,
      epochs: options.epochs,
      batchSize: options.batchSize,
      trainImages: studio.trainImages,
      studioSeconds: studio.seconds,
      standaloneSeconds: standalone.seconds,
      overhead: studio.seconds / standalone.seconds - 1,
      studioSamplesPerSec: studio.epochs.map((e) => e.samplesPerSec),
      standaloneSamplesPerSec: standalone.samplesPerSec,
      device: studio.epochs[0]?.device ?? standalone.device,
      torch: install.torch,
      python: install.python,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
