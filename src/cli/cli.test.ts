/** The command line as users run it: `npx convnet-studio …` in a subprocess. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DESIGN_PRESET_NAMES } from '../../test/support/preset-names';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const bin = join(repoRoot, 'bin', 'convnet-studio.mjs');

function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the command line's entry (what `npx convnet-studio` runs, without npx's start-up). */
const cli = (...args: string[]) => run(process.execPath, [bin, ...args]);

function projectFile(doc: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-cli-'));
  const path = join(dir, 'project.json');
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

const header = { format: 'convnet-studio', version: 1 };

// Subprocesses wait on start-up more than on the CPU: run them side by side.
describe.concurrent('convnet-studio CLI', () => {
  it('summary lenet --input 1,1,28,28 --json prints the course’s shapes and 61,706 parameters', async () => {
    const r = await run('npx', [
      'convnet-studio',
      'summary',
      'lenet',
      '--input',
      '1,1,28,28',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.totalParams).toBe(61_706);
    expect(summary.macs).toBeGreaterThan(0);
    expect(
      summary.layers.map((l: { type: string; outputShape: number[] }) => [l.type, l.outputShape]),
    ).toEqual([
      ['Conv2d', [1, 6, 28, 28]],
      ['Sigmoid', [1, 6, 28, 28]],
      ['AvgPool2d', [1, 6, 14, 14]],
      ['Conv2d', [1, 16, 10, 10]],
      ['Sigmoid', [1, 16, 10, 10]],
      ['AvgPool2d', [1, 16, 5, 5]],
      ['Flatten', [1, 400]],
      ['Linear', [1, 120]],
      ['Sigmoid', [1, 120]],
      ['Linear', [1, 84]],
      ['Sigmoid', [1, 84]],
      ['Linear', [1, 10]],
    ]);
    expect(summary.layers[0]).toMatchObject({ name: 'conv1', params: 156 });
  });

  it('summary prints an aligned table with totals, and --input changes the shapes', async () => {
    const r = await cli('summary', 'resnet18', '--input', '2,1,224,224');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/b5 +Block output shape: +\[2, 512, 7, 7\] +8,395,264/);
    expect(r.stdout).toContain('Total params: 11,178,378');
  });

  it('summary reads a project file', async () => {
    const path = projectFile({
      ...header,
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 1, height: 8, width: 8 } },
        {
          id: 'conv',
          type: 'Conv2d',
          params: { out_channels: 1, kernel_size: [3, 5], padding: [0, 1], stride: [3, 4] },
        },
      ],
      edges: [{ source: 'input', target: 'conv' }],
    });
    const r = await cli('summary', path, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).layers[0].outputShape).toEqual([1, 1, 2, 2]);
  });

  it('a shape error exits 1 naming the node and field', async () => {
    const path = projectFile({
      ...header,
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 1, height: 8, width: 8 } },
        { id: 'big_conv', type: 'Conv2d', params: { kernel_size: 11 } },
      ],
      edges: [{ source: 'input', target: 'big_conv' }],
    });
    const r = await cli('summary', path);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: ${path} has 1 problem:`);
    expect(r.stderr).toMatch(
      /node 'big_conv', field 'kernel_size': .*larger than its padded input 8×8/,
    );
  });

  it('a cycle exits 1 showing the loop', async () => {
    const path = projectFile({
      ...header,
      nodes: [
        { id: 'input', type: 'Input' },
        { id: 'relu_a', type: 'ReLU' },
        { id: 'relu_b', type: 'ReLU' },
      ],
      edges: [
        { source: 'input', target: 'relu_a' },
        { source: 'relu_a', target: 'relu_b' },
        { source: 'relu_b', target: 'relu_a' },
      ],
    });
    const r = await cli('summary', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node 'relu_a': the graph has a cycle: relu_a → relu_b → relu_a/);
  });

  it('an unknown preset, a bad --input and an unknown command exit 1 with what to do', async () => {
    const unknown = await cli('summary', 'resnet19');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /'resnet19' is neither a preset nor a file; presets are lenet, .*resnet18/,
    );
    const badInput = await cli('summary', 'lenet', '--input', '1,28,28');
    expect(badInput.code).toBe(1);
    expect(badInput.stderr).toMatch(/--input must be four whole numbers N,C,H,W/);
    const badCommand = await cli('sumary');
    expect(badCommand.code).toBe(1);
    expect(badCommand.stderr).toMatch(/unknown command 'sumary'/);
  });

  it('presets --json lists every preset with its input, parameters and training set-up', async () => {
    const r = await cli('presets', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.map((p: { name: string }) => p.name)).toEqual(DESIGN_PRESET_NAMES);
    expect(list[0]).toMatchObject({ input: [1, 28, 28], params: 61_706, training: { lr: 0.1 } });
    const text = await cli('presets');
    expect(text.stdout).toMatch(/resnet18 +ResNet-18 +1×96×96 +11,178,378/);
  });

  it('--version prints package.json’s version; --help lists the commands with examples', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect((await cli('--version')).stdout.trim()).toBe(version);
    const help = (await cli('--help')).stdout;
    expect(help).toMatch(/Usage: convnet-studio/);
    expect(help).toMatch(/presets/);
    expect(help).toMatch(/summary \[options\] <preset\|file\.json>/);
    expect(help).toContain('npx convnet-studio summary lenet');
  });
});
