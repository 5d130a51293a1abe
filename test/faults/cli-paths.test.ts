/**
 * Paths on the command line: what the user typed (the project file,
 * --data-dir, --out) is theirs; a folder named inside a project file
 * (training.dataDir) must stay inside that file's folder, links included.
 * Each case runs the real command; a refusal happens before anything is read
 * or a run folder made.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../e2e/support/studio';
import { tempDirs } from '../support/temp-dirs';

const tempDir = tempDirs('fault-cli-paths-');

/** A project folder holding a project whose training section names `dataDir`, and a folder outside it. */
function layout(dataDir: (outside: string) => string) {
  const top = tempDir();
  const folder = path.join(top, 'project');
  const outside = path.join(top, 'outside');
  for (const dir of [folder, outside, path.join(folder, 'images')]) mkdirSync(dir);
  symlinkSync(outside, path.join(folder, 'linked'));
  const project = JSON.parse(
    readFileSync(path.join(repoRoot, 'test/fixtures/tiny-cnn.json'), 'utf8'),
  );
  project.training = { ...project.training, dataset: 'folder', dataDir: dataDir(outside) };
  const file = path.join(folder, 'net.json');
  writeFileSync(file, JSON.stringify(project));
  return { file, outside, run: path.join(top, 'run') };
}

function train(file: string, ...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'bin/convnet-studio.mjs'), 'train', file, '--backend', 'cpu', ...args],
    { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
  );
  // Refusals of the command go to stderr; a training's own error event, to stdout.
  return { code: r.status, stderr: r.stderr, output: r.stdout + r.stderr };
}

describe('train: a dataset folder named inside the project file', () => {
  it.each([
    ['an absolute path elsewhere', (outside: string) => outside, 'is outside the project file'],
    ['a path with ..', () => '../outside', 'is outside the project file'],
    ['a link inside the folder leading out', () => 'linked', 'leads outside the project file'],
  ])('is refused when it is %s, naming --data-dir to choose it yourself', (_, dataDir, reason) => {
    const { file, outside, run } = layout(dataDir);
    const r = train(file, '--out', run);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`training.dataDir '${dataDir(outside)}' ${reason}`);
    expect(r.stderr).toContain(`--data-dir "${outside}"`);
    expect(existsSync(run)).toBe(false);
  });

  it('is read from the project file’s folder, not the current one, when it stays inside', () => {
    const { file, run } = layout(() => 'images');
    const r = train(file, '--out', run);
    // The loader got the folder beside the project (empty here), so it was not refused.
    expect(r.output).toContain(
      `Image folder ${path.join(path.dirname(file), 'images')} has 0 class`,
    );
  });

  it('is the user’s choice when typed with --data-dir, even outside', () => {
    const { file, outside, run } = layout((dir) => dir);
    const r = train(file, '--data-dir', outside, '--out', run);
    expect(r.output).not.toContain('training.dataDir');
    expect(r.output).toContain(`Image folder ${outside} has 0 class`);
  });
});
