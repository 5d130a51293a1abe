/**
 * `convnet-studio train lenet --backend webgpu` as users run it, on
 * SwiftShader (this project's workers, and so the subprocess, have its
 * environment): every epoch event names the compiled step, and
 * `--webgpu-step op-by-op` runs tfjs op by op and says so.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWith, swiftshader } from '../../../test/support/requirements';
import type { TrainingEvent } from '../../api/training-protocol';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function train(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'bin/convnet-studio.mjs'),
      'train',
      'lenet',
      '--dataset',
      'sample',
      '--backend',
      'webgpu',
      '--batch-size',
      '32',
      ...args,
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 },
  );
  expect(r.status, `${r.signal ? `killed by ${r.signal}: ` : ''}${r.stderr}`).toBe(0);
  return r.stdout;
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TrainingEvent);

describeWith([swiftshader], 'convnet-studio train on WebGPU (SwiftShader)', () => {
  it('trains LeNet on the sample with every epoch event naming the compiled step', () => {
    const lines = events(
      train('--epochs', '2', '--limit-train', '64', '--limit-val', '32', '--json'),
    );
    expect(lines[0]).toMatchObject({ event: 'start', backend: 'webgpu', execution: 'compiled' });
    const epochs = lines.filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const e of epochs) expect(e).toMatchObject({ backend: 'webgpu', execution: 'compiled' });
    expect(lines.at(-1)).toMatchObject({ event: 'done', execution: 'compiled' });
  });

  it('runs op by op with --webgpu-step op-by-op, and its first and last lines say so', () => {
    const out = train(
      '--webgpu-step',
      'op-by-op',
      '--epochs',
      '1',
      '--limit-train',
      '32',
      '--limit-val',
      '32',
    );
    expect(out.split('\n')[0]).toMatch(/, backend webgpu \(Dawn\/Vulkan .*\), op by op$/);
    expect(out).toMatch(/^done: 1 epoch in .* on webgpu \(op by op\); val acc/m);
  });
});
