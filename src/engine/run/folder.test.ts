import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../../test/support/temp-dirs';
import { createRunFolder, lockRunFolder, removeTemporaries, runLockHolder } from './folder';

const tempDir = tempDirs('cs-run-folder-');

/** The id of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

describe('run folders', () => {
  it('are created exclusively: runs started at the same moment get folders of their own', async () => {
    const parent = join(tempDir(), 'runs');
    const inProcess = Array.from({ length: 20 }, () => createRunFolder(parent, 'lenet-20261201'));
    expect(new Set(inProcess).size).toBe(20);
    // Two other processes racing for the same name with this one.
    const script = `import { createRunFolder } from ${JSON.stringify(new URL('./folder.ts', import.meta.url).pathname)};
      for (let i = 0; i < 20; i++) console.log(createRunFolder(${JSON.stringify(parent)}, 'lenet-20261201'));`;
    const race = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
        ]);
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.on('error', reject);
        child.on('close', () => resolve(out.trim().split('\n')));
      });
    const [a, b] = await Promise.all([race(), race()]);
    const all = [...inProcess, ...a, ...b];
    expect(all).toHaveLength(60);
    expect(new Set(all).size).toBe(60);
    expect(readdirSync(parent)).toHaveLength(60);
  }, 60_000);

  it('are locked by the process training in them; a lock left by a crash is taken over', () => {
    const dir = tempDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(join(dir, 'run.lock'), String(sleeper.pid));
      expect(runLockHolder(dir)).toBe(sleeper.pid);
      expect(() => lockRunFolder(dir)).toThrow(
        `${dir} is being trained by another process (${sleeper.pid}); wait for it to finish or stop it first`,
      );
    } finally {
      sleeper.kill('SIGKILL');
    }
    writeFileSync(join(dir, 'run.lock'), String(deadPid()));
    expect(runLockHolder(dir)).toBeUndefined();
    const release = lockRunFolder(dir);
    expect(runLockHolder(dir)).toBe(process.pid);
    release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
  });

  it('lose the temporary files a crash left behind, but not those being written', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'checkpoint'));
    const dead = deadPid();
    const left = [
      join(dir, 'checkpoint', `checkpoint.safetensors.${dead}.tmp`),
      join(dir, `run.json.${dead}.3.tmp`),
    ];
    const writing = join(dir, `curves.png.${process.pid}.tmp`);
    for (const file of [...left, writing]) writeFileSync(file, Buffer.alloc(1000));
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    expect(removeTemporaries(dir, { all: false })).toBe(2000);
    for (const file of left) expect(existsSync(file)).toBe(false);
    expect(existsSync(writing)).toBe(true);
    expect(removeTemporaries(dir, { all: true })).toBe(1000);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint', 'metrics.jsonl']);
  });
});
