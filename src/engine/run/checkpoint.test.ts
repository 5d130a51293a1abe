import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../../test/support/temp-dirs';
import { resolveTrainOptions } from '../../core/training/options';
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorMap,
} from '../../core/weights/safetensors';
import {
  type Checkpoint,
  CheckpointError,
  checkpointPath,
  loadCheckpoint,
  type RunPosition,
  saveCheckpoint,
} from './checkpoint';

const tempDir = tempDirs('cs-checkpoint-');

const position: RunPosition = {
  epoch: 1,
  batch: 3,
  partial: { lossSum: 4.2, correct: 7, seen: 48 },
  seed: 0,
  optimizerStep: 7,
  optimizer: 'sgd',
  metrics: [],
  options: resolveTrainOptions({}),
  savedAt: '2026-12-01T00:00:00.000Z',
};

function checkpoint(weight = Float32Array.from([0.5, -1, 2, 0.25])): Checkpoint {
  const weights: TensorMap = new Map([['fc.weight', { shape: [2, 2], data: weight }]]);
  const slots: TensorMap = new Map([
    ['fc.weight.momentum_buffer', { shape: [2, 2], data: new Float32Array(4) }],
  ]);
  return { position, weights, optimizer: { name: 'sgd', step: 7, slots } };
}

/** A run folder whose checkpoint file is `bytes` (or a good one). */
function runWith(bytes?: Uint8Array): { dir: string; file: string } {
  const dir = tempDir();
  const file = saveCheckpoint(dir, checkpoint());
  if (bytes) writeFileSync(file, bytes);
  return { dir, file };
}

const refusal = (dir: string) => {
  try {
    loadCheckpoint(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return (error as Error).message;
  }
  throw new Error('the checkpoint was accepted');
};

describe('checkpoints', () => {
  it('read back what was saved, position, weights and optimizer state', () => {
    const { dir, file } = runWith();
    expect(file).toBe(checkpointPath(dir));
    const back = loadCheckpoint(dir);
    expect(back.position).toEqual(position);
    expect([...back.weights.get('fc.weight')!.data]).toEqual([0.5, -1, 2, 0.25]);
    expect(back.optimizer).toMatchObject({ name: 'sgd', step: 7 });
  });

  it('refuse a flipped byte, naming the file and the checksum', () => {
    const { dir, file } = runWith();
    const bytes = new Uint8Array(readFileSync(file));
    bytes[bytes.length - 20] ^= 0x40;
    writeFileSync(file, bytes);
    expect(refusal(dir)).toBe(
      `the checkpoint ${file} is damaged: its contents do not match the checksum saved with it; it cannot be resumed from. Start the run again without --resume (in a new folder), or put back a good copy of the file`,
    );
  });

  it('refuse a file cut short (a crash while copying it)', () => {
    const { dir, file } = runWith();
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    expect(refusal(dir)).toMatch(new RegExp(`^the checkpoint ${file} is damaged \\(`));
  });

  it('refuse NaN and infinite values, naming the tensor', () => {
    // Saved with the values as they are, so the checksum holds and the values are what is wrong.
    const dir = tempDir();
    saveCheckpoint(dir, checkpoint(Float32Array.from([0.5, Number.NaN, 2, 0.25])));
    expect(refusal(dir)).toMatch(
      /holds NaN in 'model\.fc\.weight' \(value 1\), where only finite numbers belong/,
    );
  });

  it('refuse a shape that its values do not fill, and an unreadable position', () => {
    const wrongShape = new Map([['model.fc.weight', { shape: [3, 2], data: new Float32Array(4) }]]);
    const { dir } = runWith(encodeSafetensors(wrongShape, { position: JSON.stringify(position) }));
    expect(refusal(dir)).toMatch(/says 'model\.fc\.weight' is 3×2 but holds 4 values/);
    const { dir: garbled } = runWith(
      encodeSafetensors(new Map(), { position: '{"epoch": 1, "batch' }),
    );
    expect(refusal(garbled)).toMatch(/has an unreadable position/);
  });

  it('stay readable when written by a studio before checksums', () => {
    const { file } = runWith();
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(file)));
    const { dir } = runWith(encodeSafetensors(tensors, { position: metadata.position }));
    expect(loadCheckpoint(dir).position.batch).toBe(3);
  });
});
