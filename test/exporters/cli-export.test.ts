/** `convnet-studio export` and `import` as a user runs them. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { layerZoo } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'cli-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const result = spawnSync('node', ['bin/convnet-studio.mjs', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

it('exports a preset with fresh weights and says so; import + re-export round-trips', () => {
  const tfjs = cli('export', 'lenet', '--format', 'tfjs', '--out', join(dir, 'lenet-tfjs'));
  expect(tfjs.stderr.replace(/=+\n|Hi, looks[^\n]*\n/g, '').trim()).toBe('');
  expect(tfjs.code).toBe(0);
  expect(tfjs.stdout).toMatch(/exported preset 'lenet' as TensorFlow.js Layers/);
  expect(tfjs.stdout).toMatch(/freshly initialised/);
  expect(readdirSync(join(dir, 'lenet-tfjs')).sort()).toEqual([
    '.convnet-studio.json', // what the studio wrote, so a later export may replace it
    'README.md',
    'convnet-studio-layers.js',
    'model.json',
    'weights.bin',
  ]);

  const imported = cli(
    'import',
    join(dir, 'lenet-tfjs', 'model.json'),
    '--out',
    join(dir, 'lenet-run'),
  );
  expect(imported.code).toBe(0);
  expect(imported.stdout).toMatch(/imported .* as 'LeNet-5'/);
  const onnx = cli(
    'export',
    join(dir, 'lenet-run'),
    '--format',
    'onnx',
    '--out',
    join(dir, 'lenet-onnx'),
  );
  expect(onnx.code).toBe(0);
  expect(onnx.stdout).toMatch(/exported run folder .*lenet-run/);
  expect(onnx.stdout).not.toMatch(/freshly initialised/);
  expect(existsSync(join(dir, 'lenet-onnx', 'model.onnx'))).toBe(true);
});

it('names the node a format cannot express, and a wrong format', () => {
  const project = layerZoo();
  project.nodes.find((n) => n.id === 'gap')!.params = { output_size: [2, 2] };
  const file = join(dir, 'zoo.json');
  writeFileSync(file, JSON.stringify(project));
  const result = cli('export', file, '--format', 'onnx', '--out', join(dir, 'zoo-onnx'));
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /error: cannot export to onnx: node 'gap': AdaptiveAvgPool2d from 3×2 to 2×2 uses unequal windows/,
  );
  const format = cli('export', 'lenet', '--format', 'keras', '--out', join(dir, 'x'));
  expect(format.code).toBe(1);
  expect(format.stderr).toMatch(/--format must be one of tfjs, onnx, pytorch, got 'keras'/);
});
