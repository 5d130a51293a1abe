/**
 * Run checkpoints (Node only): one safetensors file holding the model weights
 * (`model.<key>`), the optimizer slots (`optimizer.<key>.<slot>`) and, in its
 * metadata, where the run stands (epoch, batch, partial sums, metrics so far,
 * seed and options) and a SHA-256 of all of that. One file written to a
 * temporary name and renamed, so a checkpoint is either the old one or the
 * new one, never half of each; read back, it is verified (readable, the
 * checksum, every shape against its values, every value finite) and a
 * damaged one is refused naming the file and what is wrong.
 */
import { createHash } from 'node:crypto';
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
  /** The first batch's loss, the yardstick for a loss that explodes (absent before the first step). */
  firstLoss?: number;
  savedAt: string;
}

export interface Checkpoint {
  position: RunPosition;
  weights: TensorMap;
  optimizer: OptimizerState;
}

/** A checkpoint that cannot be used; the message names the file, what is wrong and what to do. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(
      `the checkpoint ${file} ${problem}; it cannot be resumed from. Start the run again without --resume (in a new folder), or put back a good copy of the file`,
    );
    this.name = 'CheckpointError';
  }
}

export function checkpointPath(outDir: string): string {
  return join(outDir, RUN_FILES.checkpoint);
}

/** SHA-256 of the position and every tensor (name, shape, values), in the file's order. */
function checksum(tensors: TensorMap, position: string): string {
  const hash = createHash('sha256').update(position);
  for (const [name, t] of tensors) {
    hash.update(`\0${name}\0${t.shape.join(',')}\0`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest('hex');
}

export function saveCheckpoint(outDir: string, checkpoint: Checkpoint): string {
  const tensors: TensorMap = new Map();
  for (const [key, t] of checkpoint.weights) tensors.set(MODEL_PREFIX + key, t);
  for (const [key, t] of checkpoint.optimizer.slots) tensors.set(OPTIMIZER_PREFIX + key, t);
  const path = checkpointPath(outDir);
  mkdirSync(dirname(path), { recursive: true });
  const position = JSON.stringify(checkpoint.position);
  writeFileAtomic(
    path,
    encodeSafetensors(tensors, { position, sha256: checksum(tensors, position) }),
  );
  return path;
}

/** The first problem of a tensor: values that do not fill its shape, or ones that are not finite. */
function tensorProblem(name: string, t: TensorMap extends Map<string, infer T> ? T : never) {
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || size !== t.data.length) {
    return `says '${name}' is ${t.shape.join('×')} but holds ${t.data.length} values`;
  }
  const bad = t.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    return `holds ${t.data[bad]} in '${name}' (value ${bad}), where only finite numbers belong`;
  return undefined;
}

export function loadCheckpoint(outDir: string): Checkpoint {
  const path = checkpointPath(outDir);
  if (!existsSync(path)) {
    throw new Error(
      `no checkpoint to resume from at ${path}; start the run without --resume (or point --out at the folder of the run to continue)`,
    );
  }
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(new Uint8Array(readFileSync(path)));
  } catch (error) {
    throw new CheckpointError(path, `is damaged (${(error as Error).message})`);
  }
  const { tensors, metadata } = decoded;
  if (!metadata.position) {
    throw new CheckpointError(path, 'is not a training checkpoint (no position in its metadata)');
  }
  // Checkpoints of studios before the checksum have none; the other checks still hold for them.
  if (metadata.sha256 !== undefined && metadata.sha256 !== checksum(tensors, metadata.position)) {
    throw new CheckpointError(
      path,
      'is damaged: its contents do not match the checksum saved with it',
    );
  }
  let position: RunPosition;
  try {
    position = JSON.parse(metadata.position) as RunPosition;
  } catch (error) {
    throw new CheckpointError(path, `has an unreadable position (${(error as Error).message})`);
  }
  const weights: TensorMap = new Map();
  const slots: TensorMap = new Map();
  for (const [name, t] of tensors) {
    const problem = tensorProblem(name, t);
    if (problem) throw new CheckpointError(path, problem);
    if (name.startsWith(MODEL_PREFIX)) weights.set(name.slice(MODEL_PREFIX.length), t);
    else if (name.startsWith(OPTIMIZER_PREFIX)) slots.set(name.slice(OPTIMIZER_PREFIX.length), t);
  }
  return {
    position,
    weights,
    optimizer: { name: position.optimizer, step: position.optimizerStep, slots },
  };
}
