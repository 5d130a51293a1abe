import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { trainingMethodArgs } from '../../api/training-api';
import { addTrainingFlags, flagError, readTrainingFlags } from '../../cli/option-flags';
import { createOptimizer } from '../../engine/training/optimizers';
import { validateProject } from '../document/load';
import { projectJsonSchema } from '../document/schema';
import { getPreset } from '../presets';
import { flagOf } from './option-fields';
import {
  checkTrainOptions,
  defaultTrainOptions,
  resolveTrainOptions,
  TrainOptionsError,
  trainingOptions,
} from './options';

const project = getPreset('lenet')!.build();

/** The file's training section with one value changed, as the loader sees it. */
function loadWithTraining(training: Record<string, unknown>) {
  return validateProject({ ...project, training: { ...project.training, ...training } });
}

function startArgs(options: Record<string, unknown>) {
  return trainingMethodArgs.trainingStart.safeParse([{ project, options }]);
}

describe('the training options table', () => {
  it('gives defaults, then the project’s settings, then the caller’s overrides', () => {
    expect(resolveTrainOptions({})).toEqual({ ...defaultTrainOptions });
    expect(defaultTrainOptions).toMatchObject({
      dataset: 'fashion-mnist',
      epochs: 10,
      batchSize: 128,
      lr: 0.1,
      optimizer: 'sgd',
      momentum: 0,
      init: 'xavier',
      backend: 'auto',
    });
    const resnet = getPreset('resnet18')!.build();
    expect(resolveTrainOptions(resnet, { epochs: 2, limitTrain: undefined, dataDir: '' })).toEqual({
      ...defaultTrainOptions,
      lr: 0.01,
      resize: [96, 96],
      epochs: 2,
    });
  });

  it('refuses momentum 1 the same way in the project file, the API, the engine and the CLI', () => {
    const message = 'momentum must be a number ≥ 0 and < 1, got 1';
    expect(() => resolveTrainOptions(project, { momentum: 1 })).toThrow(message);
    const file = loadWithTraining({ momentum: 1 });
    expect(file.ok).toBe(false);
    expect(file.issues[0]).toMatchObject({ field: 'training.momentum' });
    expect(file.issues[0].message).toMatch(/must be a number ≥ 0 and < 1/);
    const api = startArgs({ momentum: 1 });
    expect(api.success).toBe(false);
    expect(api.error?.issues[0].message).toMatch(/must be a number ≥ 0 and < 1/);
    expect(() => createOptimizer(tf, new Map(), { name: 'sgd', lr: 0.1, momentum: 1 })).toThrow(
      message,
    );
    expect(() => checkTrainOptions({ momentum: 0.9 }, { partial: true })).not.toThrow();
  });

  it('checks the rules between options and names every problem', () => {
    expect(() => resolveTrainOptions(project, { optimizer: 'adam', momentum: 0.9 })).toThrow(
      'momentum applies to sgd only; adam uses its own moments',
    );
    let error: unknown;
    try {
      resolveTrainOptions(project, { lr: -1, batchSize: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainOptionsError);
    expect((error as Error).message).toBe(
      'learning rate must be a number > 0, got -1; batch size must be a whole number from 1 to 65536, got 0',
    );
    expect((flagError(error) as Error).message).toBe(
      '--lr must be a number > 0, got -1; --batch-size must be a whole number from 1 to 65536, got 0',
    );
  });

  it('keeps an unknown dataset out of the project file, where it used to load and fail later', () => {
    const file = loadWithTraining({ dataset: 'cifar' });
    expect(file.ok).toBe(false);
    expect(file.issues[0].message).toMatch(/must be one of fashion-mnist, mnist, sample, folder/);
  });

  it('lets the UI set what it may, and never the run folder, which the host chooses', () => {
    expect(startArgs({ epochs: 3, backend: 'wasm', layerStatsEvery: 5 }).success).toBe(true);
    expect(startArgs({ outDir: '/etc' }).success).toBe(false);
    expect(startArgs({ resume: true }).success).toBe(false);
    expect(startArgs({ colour: 'blue' }).success).toBe(false);
  });

  it('stores exactly the stored options in the project file and its JSON Schema', () => {
    const stored = Object.entries(trainingOptions)
      .filter(([, f]) => f.stored)
      .map(([key]) => key);
    const schema = projectJsonSchema() as {
      properties: { training: { properties: Record<string, { description?: string }> } };
    };
    const properties = schema.properties.training.properties;
    expect(Object.keys(properties).sort()).toEqual([...stored].sort());
    for (const key of stored) {
      expect(properties[key].description).toBe(
        trainingOptions[key as keyof typeof trainingOptions].help,
      );
    }
    expect(Object.keys(project.training ?? {})).toEqual(expect.arrayContaining(['lr', 'init']));
  });

  it('gives every option with a flag a command-line flag, read back as its value', () => {
    const command = addTrainingFlags(new Command().exitOverride());
    const flags = Object.entries(trainingOptions).flatMap(([key, f]) => flagOf(key, f) ?? []);
    expect(new Set(flags).size).toBe(flags.length);
    for (const flag of flags) expect(command.options.map((o) => o.long)).toContain(flag);
    command.parse(
      ['--epochs', '3', '--resize', '96,96', '--optimizer', 'adam', '--out', 'runs/x', '--resume'],
      { from: 'user' },
    );
    expect(readTrainingFlags(command.opts())).toEqual({
      epochs: 3,
      resize: [96, 96],
      optimizer: 'adam',
      outDir: 'runs/x',
      resume: true,
    });
  });

  it('draws in the form only options the UI may set, each in a section of the form', () => {
    for (const [key, field] of Object.entries(trainingOptions)) {
      if (!field.form) continue;
      expect(field.api, key).toBe(true);
      expect(field.group, key).not.toBe('run');
    }
  });

  it('keeps the PyTorch engine’s device and torchrun options to it, with a consistent set of machines', () => {
    const pytorch = { backend: 'pytorch' } as const;
    expect(() => resolveTrainOptions(project, { device: 'cuda' })).toThrow(
      'device applies to the PyTorch engine only; add --backend pytorch',
    );
    expect(
      resolveTrainOptions(project, { ...pytorch, device: 'cpu', nprocPerNode: 2 }),
    ).toMatchObject({ backend: 'pytorch', device: 'cpu', nprocPerNode: 2 });
    expect(() => resolveTrainOptions(project, { ...pytorch, nnodes: 2 })).toThrow(
      /nnodes above 1 needs --node-rank .* and --rdzv-endpoint/,
    );
    expect(() =>
      resolveTrainOptions(project, { ...pytorch, nnodes: 2, nodeRank: 2, rdzvEndpoint: 'a:1' }),
    ).toThrow('node-rank must be below --nnodes (2), got 2');
    expect(() =>
      resolveTrainOptions(project, { ...pytorch, nnodes: 2, nodeRank: 1, rdzvEndpoint: '-x' }),
    ).toThrow(/rdzv-endpoint must be host:port/);
    const cluster = { ...pytorch, nnodes: 2, nodeRank: 1, rdzvEndpoint: '10.0.0.1:29500' };
    expect(resolveTrainOptions(project, cluster)).toMatchObject(cluster);
    // The UI may choose the device, not a cluster.
    expect(startArgs({ backend: 'pytorch', device: 'cuda' }).success).toBe(true);
    expect(startArgs({ backend: 'pytorch', nprocPerNode: 2 }).success).toBe(false);
  });
});
