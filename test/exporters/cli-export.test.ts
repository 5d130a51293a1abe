/** `convnet-studio export` and `import` as a user runs them. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cli } from '../support/cli';
import { layerZoo } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'cli-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

it('import lists the outputs of a model with several and keeps the one --output names', () => {
  const folder = join(dir, 'lenet-tfjs');
  const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
  delete json.userDefinedMetadata;
  json.modelTopology.config.output_layers.push(['flatten', 0, 0]);
  writeFileSync(join(folder, 'two.json'), JSON.stringify(json));
  const asked = cli('import', join(folder, 'two.json'), '--out', join(dir, 'two'));
  expect(asked.code).toBe(1);
  expect(asked.stderr).toMatch(
    /two.json has 2 outputs \(fc3, flatten\) and a studio network has one: run again with --output NAME/,
  );
  const kept = cli(
    'import',
    join(folder, 'two.json'),
    '--out',
    join(dir, 'two'),
    '--output',
    'flatten',
  );
  expect(kept.code).toBe(0);
  expect(kept.stdout).toMatch(/note: kept the output 'flatten' \(the model has 2: fc3, flatten\)/);
});

it('import says what a file is when it is not a TF.js Layers model', () => {
  writeFileSync(join(dir, 'blob.json'), new Uint8Array([0x08, 0x07, 0x12, 0x00, 0x1b, 0x5b]));
  const binary = cli('import', join(dir, 'blob.json'), '--out', join(dir, 'x'));
  expect(binary.code).toBe(1);
  expect(binary.stderr).toMatch(/error: .*blob.json is not a model.json: it is a binary file/);
  // None of the file's bytes (control characters) reach the terminal.
  expect([...binary.stderr].filter((c) => c < ' ' && c !== '\n')).toEqual([]);
});
