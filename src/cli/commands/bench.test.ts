/** `convnet-studio bench` as users run it, in a subprocess. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWith, fashionMnist, pytorch } from '../../../test/support/requirements';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(repoRoot, 'bin/convnet-studio.mjs');
const cli = (...args: string[]) => cliWith({}, ...args);
const cliWith = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, 'bench', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    // wasm's pthread workers must not keep the process alive after the work is done.
    timeout: 100_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describeWith([pytorch], 'convnet-studio bench --pytorch', () => {
  it('times LeNet on wasm and in PyTorch with the threads asked for, and says which libraries PyTorch uses', () => {
    // Without --backend, every available backend is probed first: the probe must not fix wasm's threads.
    const r = cli('--models', 'lenet', '--batches', '2', '--threads', '2', '--pytorch', '--json');
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.backend === 'wasm');
    expect(line).toMatchObject({
      model: 'lenet',
      batchSize: 128,
      batches: 2,
      device: 'wasm SIMD, 2 threads',
      threads: 2,
      pytorchDevice: 'cpu',
      pytorchThreads: 2,
      pytorchLibraries: {
        matmul: expect.any(String),
        convolutions: expect.stringMatching(/oneDNN|ATen/),
        parallel: expect.any(String),
      },
    });
    expect(line.samplesPerSec).toBeGreaterThan(0);
    expect(line.pytorchSamplesPerSec).toBeGreaterThan(0);
    expect(line.ratio).toBeCloseTo(line.samplesPerSec / line.pytorchSamplesPerSec, 6);
  });
});

describeWith([pytorch, fashionMnist], 'convnet-studio bench --backend pytorch', () => {
  it('times the studio-driven PyTorch engine beside the exported train.py on the same data, with the threads asked for', () => {
    const r = cli('--backend', 'pytorch', '--batches', '2', '--threads', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [line] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line).toMatchObject({ model: 'lenet', epochs: 1, batchSize: 128, trainImages: 256 });
    expect(line.device).toMatch(/^(CPU, 2 threads|CUDA)/);
    expect(line.studioSamplesPerSec).toHaveLength(1);
    expect(line.standaloneSamplesPerSec).toHaveLength(1);
    expect(line.overhead).toBeCloseTo(line.studioSeconds / line.standaloneSeconds - 1, 6);
  });
});

it('bench --pytorch names the Python it ran and how to get PyTorch when that fails', () => {
  const r = cliWith(
    { CONVNET_STUDIO_PYTHON: '/nonexistent/python3' },
    ...['--models', 'lenet', '--backend', 'cpu', '--batches', '1', '--pytorch'],
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/PyTorch could not run the benchmark with \/nonexistent\/python3/);
  expect(r.stderr).toMatch(/apt-get install -y python3-torch.*CONVNET_STUDIO_PYTHON/);
});

it('bench names an unknown model and the ones it knows', () => {
  const r = cli('--models', 'lenet,vgg99');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/unknown model 'vgg99' for bench; use lenet, resnet18/);
});
