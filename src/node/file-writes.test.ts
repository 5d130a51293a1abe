import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { explainingWrites, WriteError } from './file-writes';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cs-file-writes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Linux's /dev/full fails every write with ENOSPC: the kernel's own "disk full".
describe('a write to a full disk', () => {
  it('names the file, the reason and what to do', () => {
    let caught: unknown;
    try {
      explainingWrites('/dev/full', () => writeFileSync('/dev/full', 'weights'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WriteError);
    expect((caught as WriteError).message).toBe(
      'could not write /dev/full: the disk is full; free some space or choose a folder on another disk (ENOSPC)',
    );
    expect((caught as WriteError).code).toBe('ENOSPC');
  });

  it('is reported by `export` as such, with exit code 1', () => {
    const out = join(dir, 'onnx');
    mkdirSync(out);
    symlinkSync('/dev/full', join(out, 'model.onnx'));
    const r = spawnSync(
      process.execPath,
      ['bin/convnet-studio.mjs', 'export', 'lenet', '--format', 'onnx', '--out', out],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `could not write ${join(out, 'model.onnx')}: the disk is full; free some space or choose a folder on another disk (ENOSPC)`,
    );
  });
});
