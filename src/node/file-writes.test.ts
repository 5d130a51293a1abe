import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../../test/support/requirements';
import { mountSmallDisk, type SmallDisk, smallDisk } from '../../test/support/small-disk';
import { explainingWrites, WriteError } from './file-writes';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

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
});

describeWith([smallDisk], 'an export onto a disk that fills up', () => {
  let disk: SmallDisk;
  beforeAll(() => {
    disk = mountSmallDisk(64 * 1024); // LeNet's weights alone are 240 KiB
  });
  afterAll(() => disk?.unmount());

  it('is reported by `export` as such, with exit code 1, and leaves nothing half-written', () => {
    const out = join(disk.dir, 'onnx');
    const r = spawnSync(
      process.execPath,
      ['bin/convnet-studio.mjs', 'export', 'lenet', '--format', 'onnx', '--out', out],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^error: could not write .*model\.onnx: the disk is full; free some space or choose a folder on another disk \(ENOSPC\)$/m,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});
