/**
 * A run's TrainOptions from the project's training settings and the caller's
 * overrides (command-line flags, the dashboard's form), with every value
 * checked so a mistake is reported before any data is loaded.
 */
import type { Project } from '../core/document/schema';
import type { BackendChoice, DatasetName, TrainOptions } from './training-protocol';

export const DATASETS: readonly DatasetName[] = ['fashion-mnist', 'mnist', 'folder', 'sample'];
export const BACKENDS: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const SCHEDULES = ['constant', 'step', 'cosine'] as const;
const INITS = ['pytorch', 'xavier'] as const;

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new Error(`${name} must be a whole number >= 1, got ${value}`);
  }
}

/** Project settings, then overrides; the result is validated. */
export function resolveTrainOptions(
  project: Project,
  overrides: Partial<TrainOptions> = {},
): TrainOptions {
  const t = project.training;
  const options: TrainOptions = {
    dataset: (t?.dataset ?? 'fashion-mnist') as DatasetName,
    ...(t?.dataDir ? { dataDir: t.dataDir } : {}),
    epochs: t?.epochs ?? 10,
    batchSize: t?.batchSize ?? 128,
    lr: t?.lr ?? 0.1,
    optimizer: t?.optimizer ?? 'sgd',
    momentum: t?.momentum ?? 0,
    weightDecay: t?.weightDecay ?? 0,
    schedule: t?.schedule ?? 'constant',
    init: t?.init ?? 'xavier',
    ...(t?.resize ? { resize: t.resize } : {}),
    backend: 'auto',
    seed: t?.seed ?? 0,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  oneOf('dataset', options.dataset, DATASETS);
  oneOf('optimizer', options.optimizer, OPTIMIZERS);
  oneOf('schedule', options.schedule, SCHEDULES);
  oneOf('init', options.init, INITS);
  oneOf('backend', options.backend, BACKENDS);
  positiveInteger('epochs', options.epochs);
  positiveInteger('batch size', options.batchSize);
  positiveInteger('limit-train', options.limitTrain);
  positiveInteger('limit-val', options.limitVal);
  if (!(options.lr > 0) || !Number.isFinite(options.lr)) {
    throw new Error(`learning rate must be a positive number, got ${options.lr}`);
  }
  if (!(options.momentum >= 0 && options.momentum < 1)) {
    throw new Error(`momentum must be in [0, 1), got ${options.momentum}`);
  }
  if (!(options.weightDecay >= 0)) {
    throw new Error(`weight decay must be >= 0, got ${options.weightDecay}`);
  }
  if (options.momentum > 0 && options.optimizer !== 'sgd') {
    throw new Error(`momentum applies to sgd only; ${options.optimizer} uses its own moments`);
  }
  if (!Number.isInteger(options.seed))
    throw new Error(`seed must be a whole number, got ${options.seed}`);
  if (options.resize) {
    for (const side of options.resize) positiveInteger('resize', side);
  }
  return options;
}
