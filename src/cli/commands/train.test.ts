/** `convnet-studio train` and `bench` as users run them, in a subprocess. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../../../test/support/temp-dirs';
import type { TrainingEvent } from '../../api/training-protocol';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(repoRoot, 'bin/convnet-studio.mjs');
const tiny = join(repoRoot, 'test/fixtures/tiny-cnn.json');
const small = [
  '--dataset',
  'sample',
  '--backend',
  'cpu',
  '--limit-train',
  '64',
  '--limit-val',
  '32',
];
const tempDir = tempDirs('cs-cli-train-');

const cli = (...args: string[]) => {
  // A timeout, so that a process kept alive (by wasm's pthread workers, say) fails the test.
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 100_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TrainingEvent);

describe('convnet-studio train', () => {
  it('--json prints one event per line ending in done, and fills the run folder', () => {
    const out = tempDir();
    const r = cli('train', tiny, ...small, '--epochs', '2', '--lr', '0.05', '--out', out, '--json');
    expect(r.code).toBe(0);
    const lines = events(r.stdout);
    expect(lines[0]).toMatchObject({ event: 'start', backend: 'cpu' });
    expect(lines.filter((e) => e.event === 'epoch')).toHaveLength(2);
    expect(lines.at(-1)).toMatchObject({ event: 'done', epochs: 2, outDir: out });
    for (const file of [
      'project.json',
      'weights.safetensors',
      'metrics.jsonl',
      'curves.svg',
      'curves.png',
    ]) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    expect(readFileSync(join(out, 'curves.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('trains on wasm with the CPU threads asked for, announced in the start event', () => {
    const args = [tiny, ...small, '--backend', 'wasm', '--threads', '2', '--epochs', '1'];
    const r = cli('train', ...args, '--out', tempDir(), '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = events(r.stdout);
    expect(lines[0]).toMatchObject({
      event: 'start',
      backend: 'wasm',
      device: 'wasm SIMD, 2 threads',
      threads: 2,
    });
    expect(lines.at(-1)).toMatchObject({ event: 'done', backend: 'wasm' });
  });

  it('prints an epoch table when the output is not a terminal', () => {
    const r = cli('train', tiny, ...small, '--epochs', '1', '--out', tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/epoch\s+train loss\s+train acc\s+val loss\s+val acc/);
    expect(r.stdout).toMatch(/\n\s+1\/1\s+\d\.\d{4}/);
    expect(r.stdout).toMatch(/done: 1 epoch in/);
    expect(r.stdout).not.toContain('\r');
  });

  it('refuses a network whose output does not give one score per class, naming the layer to fix', () => {
    const dir = tempDir();
    const file = join(dir, 'seven.json');
    const project = JSON.parse(readFileSync(tiny, 'utf8'));
    const last = project.nodes.findLast((n: { type: string }) => n.type === 'Linear');
    last.params.out_features = 7;
    writeFileSync(file, JSON.stringify(project));
    const r = cli('train', file, ...small, '--epochs', '1', '--out', join(dir, 'run'));
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /node 'fc', field 'out_features': the network ends in 16×7 but sample has 10 classes: its last layer must give 10 outputs/,
    );
  });

  it('rejects bad flags with a message naming the flag', () => {
    const r = cli('train', 'lenet', '--epochs', 'ten');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--epochs must be a number, got 'ten'/);
    const resize = cli('train', 'lenet', '--resize', '96');
    expect(resize.stderr).toMatch(/--resize must be two whole numbers H,W/);
    const resume = cli('train', 'lenet', '--resume');
    expect(resume.stderr).toMatch(/--resume needs --out/);
  });

  it('Ctrl-C stops at the next batch, saves a checkpoint, says how to resume, and --resume finishes the run', async () => {
    const out = tempDir();
    // The same run twice: interrupted, then resumed.
    const runArgs = [tiny, ...small, '--limit-train', '128', '--epochs', '2', '--out', out];
    const child = spawn(process.execPath, [bin, 'train', ...runArgs, '--json'], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let interrupted = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!interrupted && stdout.includes('"event":"batch"')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    const last = events(stdout).at(-1);
    expect(last).toMatchObject({
      event: 'stopped',
      epoch: 1,
      checkpoint: join(out, 'checkpoint/checkpoint.safetensors'),
    });
    expect(stderr).toContain(`--out ${out} --resume`);
    const resumed = cli('train', ...runArgs, '--resume', '--json');
    expect(resumed.code).toBe(0);
    const lines = events(resumed.stdout);
    expect(lines[0]).toMatchObject({ event: 'start', resumedFromEpoch: 0 });
    expect(
      lines.filter((e) => e.event === 'epoch').map((e) => (e as { epoch: number }).epoch),
    ).toEqual([1, 2]);
    expect(lines.at(-1)?.event).toBe('done');
  });
});

describe('convnet-studio train with a dataset that is nowhere on this computer', () => {
  const sampleDir = join(repoRoot, 'resources/sample/fashion-mnist');
  let server: Server;
  let baseUrl = '';
  beforeAll(async () => {
    // Serves the bundled sample's four files as if it were MNIST's download folder.
    server = createServer((req, res) => {
      const file = join(sampleDir, basename(req.url ?? ''));
      if (!existsSync(file)) return void res.writeHead(404).end();
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Runs the CLI without blocking this process, which serves the download. */
  const train = (...flags: string[]) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [bin, 'train', tiny, '--dataset', 'mnist', ...small.slice(2), '--epochs', '1', ...flags],
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            CONVNET_STUDIO_CACHE: tempDir(),
            CONVNET_STUDIO_DATASET_URL: baseUrl,
          },
        },
      );
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.on('close', (code) => resolve({ code, stdout }));
    });

  it('streams the download (each file from 0 to its size) before the start event', async () => {
    expect(
      existsSync('/usr/share/datasets/mnist'),
      'MNIST must not be installed for this test',
    ).toBe(false);
    const r = await train('--out', tempDir(), '--json');
    expect(r.code).toBe(0);
    const lines = events(r.stdout);
    const start = lines.findIndex((e) => e.event === 'start');
    const downloads = lines.filter(
      (e): e is Extract<TrainingEvent, { event: 'download' }> => e.event === 'download',
    );
    expect(lines.slice(0, start).every((e) => e.event === 'download')).toBe(true);
    for (const file of readdirSync(sampleDir)) {
      const mine = downloads.filter((e) => e.file === file);
      expect(mine[0]).toMatchObject({ loaded: 0, url: `${baseUrl}${file}` });
      const size = statSync(join(sampleDir, file)).size;
      expect(mine.at(-1)).toMatchObject({ loaded: size, total: size });
    }
    expect(lines[start]).toMatchObject({
      dataset: { name: 'mnist', source: expect.stringContaining(`(downloaded from ${baseUrl})`) },
    });
    expect(lines.at(-1)?.event).toBe('done');
  });

  it('says what it downloads on a plain output', async () => {
    const r = await train('--out', tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`downloading ${baseUrl}train-images-idx3-ubyte.gz\n`);
    expect(r.stdout).toMatch(/downloaded train-images-idx3-ubyte\.gz \(\d+\.\d (KiB|MiB)\)\n/);
  });
});
