/**
 * Run checkpoints (Node only): one safetensors file holding the model weights
 * (`model.<key>`), the optimizer slots (`optimizer.<key>.<slot>`) and, in its
 * metadata, where the run stands (epoch, batch, partial sums, metrics so far,
 * seed and options). One file written to a temporary name and renamed, so a
 * checkpoint is either the old one or the new one, never half of each.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EpochEvent } from '../../api/training-protocol';
import type { OptimizerName, TrainOptions } from '../../core/training/options';
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorMap,
} from '../../core/weights/safetensors';
import { writeFileAtomic } from '../../node/file-writes';
import { RUN_FILES } from '../../node/run-files';
import type { OptimizerState } from '../training/optimizers';

const MODEL_PREFIX = 'model.';
const OPTIMIZER_PREFIX = 'optimizer.';

/** Where the run stands; batch order is a function of (seed, epoch), so this is the RNG position. */
export interface RunPosition {
  /** Zero-based epoch in progress (equal to the epochs completed when batch is 0). */
  epoch: number;
  /** Next batch to train within that epoch. */
  batch: number;
  /** Sums over the batches of this epoch already trained. */
  partial: { lossSum: number; correct: number; seen: number };
  seed: number;
  /** Optimizer updates so far (Adam's bias correction). */
  optimizerStep: number;
  optimizer: OptimizerName;
  /** Every epoch event so far, so curves continue after a resume. */
  metrics: EpochEvent[];
  options: TrainOptions;
  savedAt: string;
}

export interface Checkpoint {
  position: RunPosition;
  weights: TensorMap;
  optimizer: OptimizerState;
}

export function checkpointPath(outDir: string): string {
  return join(outDir, RUN_FILES.checkpoint);
}

export function saveCheckpoint(outDir: string, checkpoint: Checkpoint): string {
  const tensors: TensorMap = new Map();
  for (const [key, t] of checkpoint.weights) tensors.set(MODEL_PREFIX + key, t);
  for (const [key, t] of checkpoint.optimizer.slots) tensors.set(OPTIMIZER_PREFIX + key, t);
  const path = checkpointPath(outDir);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(
    path,
    encodeSafetensors(tensors, { position: JSON.stringify(checkpoint.position) }),
  );
  return path;
}

export function loadCheckpoint(outDir: string): Checkpoint {
  const path = checkpointPath(outDir);
  if (!existsSync(path)) {
    throw new Error(
      `no checkpoint to resume from at ${path}; start the run without --resume (or point --out at the folder of the run to continue)`,
    );
  }
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(path)));
  if (!metadata.position)
    throw new Error(`${path} is not a training checkpoint (no position in its metadata)`);
  const position = JSON.parse(metadata.position) as RunPosition;
  const weights: TensorMap = new Map();
  const slots: TensorMap = new Map();
  for (const [name, t] of tensors) {
    if (name.startsWith(MODEL_PREFIX)) weights.set(name.slice(MODEL_PREFIX.length), t);
    else if (name.startsWith(OPTIMIZER_PREFIX)) slots.set(name.slice(OPTIMIZER_PREFIX.length), t);
  }
  return {
    position,
    weights,
    optimizer: { name: position.optimizer, step: position.optimizerStep, slots },
  };
}
