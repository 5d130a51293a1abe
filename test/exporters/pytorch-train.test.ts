/**
 * The PyTorch export's train.py on the real Fashion-MNIST files: alone, and
 * under torchrun with two CPU processes (DistributedDataParallel over gloo),
 * a few batches each; the trained weights load back into the model. Its
 * crops, flips and learning-rate schedules are the studio's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getPreset } from '../../src/core/presets/index';
import { decodeSafetensors } from '../../src/core/weights/safetensors';
import { placeImage } from '../../src/engine/data/augment';
import { learningRateAt } from '../../src/engine/training/schedules';
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
      '--crop-padding',
      '2',
      '--flip',
      ...common,
    ]);
    expect(out).toMatch(/1 process\(es\)/);
    expect(out).toMatch(/epoch 1: 128 samples, train loss \d/);
    expect(largestChange('weights.safetensors', 'single.safetensors')).toBeGreaterThan(0);
    python(['-c', 'from model import load_model; load_model("single.safetensors")']);
  });

  it('runs under torchrun --nproc_per_node=2 (gloo), each process on its share', () => {
    // What --standalone does, on a free port: torch 1.13's --standalone always takes port 29400,
    // which another run on the same machine may hold.
    const port = python([
      '-c',
      'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])',
    ]).trim();
    const out = python([
      '-m',
      'torch.distributed.run',
      '--nnodes=1',
      '--rdzv_backend=c10d',
      `--rdzv_endpoint=localhost:${port}`,
      '--rdzv_id=pytorch-train-test',
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

  it('crops, flips and schedules the learning rate as the studio does', () => {
    // Three 5×6 images of 2 channels, every pixel distinct and none zero (the padding is).
    const [h, w, c] = [5, 6, 2];
    const pixel = (n: number, y: number, x: number, k: number) =>
      n * 1000 + y * 100 + x * 10 + k + 1;
    const placements = [
      { top: 0, left: 4, flip: false },
      { top: 2, left: 1, flip: true },
      { top: 4, left: 0, flip: true },
    ];
    const studio = placements.flatMap((placement, n) => {
      const image = Float32Array.from({ length: h * w * c }, (_, i) =>
        pixel(n, Math.floor(i / (w * c)), Math.floor(i / c) % w, i % c),
      );
      const out = new Float32Array(h * w * c);
      placeImage(image, out, [h, w, c], 2, placement);
      return [...out];
    });
    const schedules = [
      { schedule: 'step', stepSize: 2, gamma: 0.5, etaMin: 0 },
      { schedule: 'step', stepSize: undefined, gamma: 0.1, etaMin: 0 },
      { schedule: 'cosine', stepSize: undefined, gamma: 0.1, etaMin: 0.01 },
    ] as const;
    const program = `
import json, sys, torch
from train import make_schedule, place_images
n, y, x, k = torch.meshgrid(*(torch.arange(s) for s in (3, ${h}, ${w}, ${c})), indexing="ij")
images = (n * 1000 + y * 100 + x * 10 + k + 1).float().permute(0, 3, 1, 2)
placed = place_images(images, 2, torch.tensor([0, 2, 4]), torch.tensor([4, 1, 0]), torch.tensor([False, True, True]))
rates = []
for case in json.loads(sys.argv[1]):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    schedule = make_schedule(optimizer, case["schedule"], 7, case.get("stepSize"), case["gamma"], case["etaMin"])
    epochs = []
    for _ in range(7):
        epochs.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    rates.append(epochs)
print(json.dumps({"placed": placed.permute(0, 2, 3, 1).flatten().tolist(), "rates": rates}))
`;
    const out = JSON.parse(python(['-c', program, JSON.stringify(schedules)]));
    expect(out.placed).toEqual(studio);
    schedules.forEach((schedule, i) => {
      const options = { ...schedule, lr: 0.1, epochs: 7 };
      const expected = Array.from({ length: 7 }, (_, epoch) => learningRateAt(options, epoch));
      out.rates[i].forEach((rate: number, epoch: number) => {
        expect(rate).toBeCloseTo(expected[epoch], 12);
      });
    });
  });
});
