/**
 * PyTorch → studio → PyTorch: a network exported as a PyTorch package is
 * trained further by its own train.py in real PyTorch (a few batches of the
 * real Fashion-MNIST), the trained weights come back with `import` as a run,
 * the studio computes what PyTorch computes with them, and the run exports
 * to PyTorch again with the same outputs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../src/core/compile/model';
import { inferValidGraph } from '../../src/core/infer';
import { decodeSafetensors, encodeSafetensors } from '../../src/core/weights/safetensors';
import { readExportSource } from '../../src/exporters/node-io';
import { cli } from '../support/cli';
import {
  describeWith,
  FASHION_MNIST_DIR,
  fashionMnist,
  PYTHON,
  pytorch,
} from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';
import { random, relativeError } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'pytorch-roundtrip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Output of a PyTorch package's load_model(weights) on x (NCHW), computed by real PyTorch. */
function torchOutput(
  packageDir: string,
  weights: string,
  x: Float32Array,
  shape: number[],
): Float32Array {
  const input = join(dir, 'x.safetensors');
  writeFileSync(input, encodeSafetensors(new Map([['x', { shape, data: x }]])));
  const output = join(dir, 'y.safetensors');
  const script = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(packageDir)})
from model import load_model
from weights_io import load_safetensors, save_safetensors
model = load_model(${JSON.stringify(weights)})
with torch.no_grad():
    y = model(load_safetensors(${JSON.stringify(input)})["x"])
save_safetensors({"y": y}, ${JSON.stringify(output)})`;
  execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' });
  return decodeSafetensors(new Uint8Array(readFileSync(output))).tensors.get('y')!.data;
}

describeWith([pytorch, fashionMnist], 'PyTorch → studio → PyTorch', () => {
  const pkg = join(dir, 'tiny-py');
  const shape = [4, 1, 28, 28];
  const next = random(5);
  const x = Float32Array.from({ length: 4 * 28 * 28 }, next);

  beforeAll(() => {
    const exported = cli(
      'export',
      'test/fixtures/tiny-cnn.json',
      '--format',
      'pytorch',
      '--out',
      pkg,
    );
    expect(exported.code, exported.stderr).toBe(0);
    // Real PyTorch training: a few batches, BatchNorm statistics and all.
    execFileSync(
      PYTHON,
      [
        'train.py',
        '--epochs',
        '1',
        '--limit-train',
        '256',
        '--limit-val',
        '32',
        '--batch-size',
        '32',
        '--data-dir',
        FASHION_MNIST_DIR,
        '--out',
        'trained.safetensors',
      ],
      { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 },
    );
  }, 300_000);

  it('the trained weights come back as a run whose outputs are PyTorch’s, and export to PyTorch again', async () => {
    const run = join(dir, 'run');
    const imported = cli('import', join(pkg, 'trained.safetensors'), '--out', run);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/imported .*trained.safetensors as 'Tiny CNN'/);

    // A run of the project, recorded as training records one (the Runs list reads run.json).
    const record = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(record).toMatchObject({ id: 'run', projectName: 'Tiny CNN', status: 'done' });
    // Never into an existing run: a second import makes run-2.
    const second = cli('import', join(pkg, 'trained.safetensors'), '--out', run);
    expect(second.stdout).toMatch(/into .*run-2\n/);

    const source = readExportSource(run);
    const exportedWeights = decodeSafetensors(
      new Uint8Array(readFileSync(join(pkg, 'weights.safetensors'))),
    ).tensors;
    // Training moved the weights and BatchNorm's running statistics.
    for (const key of ['conv1.weight', 'bn1.running_mean', 'fc.weight']) {
      expect(
        relativeError(source.weights!.get(key)!.data, exportedWeights.get(key)!.data),
        key,
      ).toBeGreaterThan(1e-3);
    }

    const expected = torchOutput(pkg, join(pkg, 'trained.safetensors'), x, shape);
    const tf = await cpuTf();
    const model = compileModel(tf, inferValidGraph(source.project, { batch: 1 }), {
      weights: source.weights,
    });
    const actual = tf.tidy(() =>
      model
        .forward(
          tf.transpose(
            tf.tensor4d(x, shape as [number, number, number, number]),
            [0, 2, 3, 1],
          ) as tfc.Tensor4D,
          false,
        )
        .dataSync(),
    );
    model.dispose();
    expect(relativeError(actual, expected)).toBeLessThan(1e-4);

    const again = join(dir, 'again-py');
    expect(cli('export', run, '--format', 'pytorch', '--out', again).code).toBe(0);
    expect(
      relativeError(torchOutput(again, join(again, 'weights.safetensors'), x, shape), expected),
    ).toBeLessThan(1e-5);
  });

  it('weights that do not fit the package’s project are refused, naming the key', () => {
    const wrong = join(pkg, 'wrong.safetensors');
    writeFileSync(
      wrong,
      encodeSafetensors(
        new Map([['conv1.weight', { shape: [3, 1, 3, 3], data: new Float32Array(27) }]]),
      ),
    );
    const result = cli('import', wrong, '--out', join(dir, 'wrong'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /does not fit .*project.json.*'conv1.weight' is 3×1×3×3 but the project needs 4×1×3×3/,
    );
  });
});
