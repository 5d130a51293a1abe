/**
 * Opening the desktop app: a window that opened and closed is the end of
 * `npm start`; an Electron that dies before its window opens sends it to the
 * web host with Electron's own words. Stand-in executables play Electron.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchDesktop } from '../../scripts/launch/launch-desktop';
import { WINDOW_READY_LINE } from '../../src/main/window';

const folder = mkdtempSync(path.join(os.tmpdir(), 'studio-launch-'));
function fakeElectron(name: string, script: string): string {
  const file = path.join(folder, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return file;
}

describe.skipIf(process.platform === 'win32')('launching the desktop app', () => {
  it('ends with the exit code of an app whose window opened', async () => {
    const opened = fakeElectron('opened', `echo '${WINDOW_READY_LINE}'; exit 3`);
    expect(await launchDesktop(opened, ['.'], folder)).toEqual({ kind: 'closed', code: 3 });
  });

  it('reports an Electron that cannot start, with the end of what it printed', async () => {
    const broken = fakeElectron(
      'broken',
      [
        'echo "starting" >&2',
        'echo "electron: error while loading shared libraries: libnss3.so: cannot open shared object file: No such file or directory" >&2',
        'exit 127',
      ].join('\n'),
    );
    expect(await launchDesktop(broken, ['.'], folder)).toEqual({
      kind: 'failed',
      why: [
        'The desktop app could not start: Electron exited with code 127 before its window opened.',
        '  starting',
        '  electron: error while loading shared libraries: libnss3.so: cannot open shared object file: No such file or directory',
      ].join('\n'),
    });
  });

  it('reports a crash before the window by its signal', async () => {
    const crashing = fakeElectron('crashing', 'kill -SEGV $$');
    expect(await launchDesktop(crashing, ['.'], folder)).toMatchObject({
      kind: 'failed',
      why: expect.stringContaining('Electron was killed by SIGSEGV before its window opened'),
    });
  });

  it('reports a binary that cannot be run at all', async () => {
    const outcome = await launchDesktop(path.join(folder, 'missing'), ['.'], folder);
    expect(outcome).toMatchObject({ kind: 'failed', why: expect.stringContaining('ENOENT') });
  });
});
