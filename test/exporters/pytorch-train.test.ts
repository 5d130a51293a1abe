/**
 * The PyTorch export's train.py on the real Fashion-MNIST files: alone, and
 * under torchrun with two CPU processes (DistributedDataParallel over gloo),
 * a few batches each; the trained weights load back into the model.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getPreset } from '../../src/core/presets/index';
import { decodeSafetensors } from '../../src/core/weights/safetensors';
import { prepareExport } from '../../src/exporters/index';
import { writeBundle } from '../../src/exporters/node-io';
import { exportPytorch } from '../../src/exporters/pytorch/export';
import {
  describeWith,
  FASHION_MNIST_DIR,
  fashionMnist,
  PYTHON,
  pytorch,
} from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';

const dir = mkdtempSync(join(tmpdir(), 'pytorch-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const python = (args: string[]) =>
  execFileSync(PYTHON, args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });
const common = [
  '--limit-val',
  '64',
  '--epochs',
  '1',
  '--batch-size',
  '32',
  '--data-dir',
  FASHION_MNIST_DIR,
];

/** Largest absolute change of any weight between two safetensors files. */
function largestChange(a: string, b: string): number {
  const before = decodeSafetensors(new Uint8Array(readFileSync(join(dir, a)))).tensors;
  const after = decodeSafetensors(new Uint8Array(readFileSync(join(dir, b)))).tensors;
  let change = 0;
  for (const [key, t] of before) {
    const other = after.get(key)!;
    for (let i = 0; i < t.data.length; i++)
      change = Math.max(change, Math.abs(t.data[i] - other.data[i]));
  }
  return change;
}

describeWith([pytorch, fashionMnist], 'PyTorch export training', () => {
  beforeAll(async () => {
    const { input } = prepareExport(await cpuTf(), getPreset('lenet')!.build());
    writeBundle(exportPytorch(input), dir);
  });

  it('train.py trains alone and saves weights that load back', () => {
    const out = python([
      'train.py',
      '--limit-train',
      '128',
      '--out',
      'single.safetensors',
      ...common,
    ]);
    expect(out).toMatch(/1 process\(es\)/);
    expect(out).toMatch(/epoch 1: 128 samples, train loss \d/);
    expect(largestChange('weights.safetensors', 'single.safetensors')).toBeGreaterThan(0);
    python(['-c', 'from model import load_model; load_model("single.safetensors")']);
  });

  it('runs under torchrun --nproc_per_node=2 (gloo), each process on its share', () => {
    const out = python([
      '-m',
      'torch.distributed.run',
      '--standalone',
      '--nproc_per_node=2',
      // Debian's torch 1.13 launcher on Python 3.11 crashes on its default output settings.
      '--redirects',
      '1',
      '--tee',
      '1',
      'train.py',
      '--limit-train',
      '256',
      '--out',
      'ddp.safetensors',
      ...common,
    ]);
    expect(out).toMatch(/2 process\(es\), device cpu, backend gloo/);
    // 256 samples in all: the two processes' shares, summed across them.
    expect(out).toMatch(/epoch 1: 256 samples/);
    expect(largestChange('weights.safetensors', 'ddp.safetensors')).toBeGreaterThan(0);
    python(['-c', 'from model import load_model; load_model("ddp.safetensors")']);
  });
});
