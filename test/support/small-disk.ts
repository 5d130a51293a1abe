/**
 * A disk that really fills up: a tmpfs of a few KiB mounted on a temporary
 * folder (needs root on Linux, as CI runs). Tests of full-disk handling write
 * into it and see the kernel's own ENOSPC.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check } from './requirements';

export interface SmallDisk {
  dir: string;
  unmount(): void;
}

export function mountSmallDisk(bytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      rmdirSync(dir);
    },
  };
}

export const smallDisk = check(
  'a small tmpfs (mount, as root)',
  'run the tests as root on Linux, as CI does',
  () => {
    mountSmallDisk(64 * 1024).unmount();
    return true;
  },
);
