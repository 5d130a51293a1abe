/**
 * Finding PyTorch as a user's machine offers it: the Python named in
 * CONVNET_STUDIO_PYTHON, python3 on PATH without torch (a pyenv or venv one)
 * with the system's Python behind it, a torch too old, no Python at all. The
 * Pythons here are real: the system's, run with -S (no site packages, so no
 * torch) or with a torch package of an old version first on its path.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWith, PYTHON, pytorch } from '../../../test/support/requirements';
import { findTorch, isTorchTooOld, TorchNotFound, torchVersionParts } from './python';

const dir = mkdtempSync(path.join(tmpdir(), 'cs-python-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script in its own folder (so it can stand first on PATH as `python3`). */
function script(name: string, body: string): string {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'python3');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('torch versions', () => {
  it('reads release, pre-release and local versions, and knows 1.13 is the oldest it takes', () => {
    expect(torchVersionParts('1.13.0a0')).toEqual([1, 13]);
    expect(torchVersionParts('2.11.0+cu130')).toEqual([2, 11]);
    expect(isTorchTooOld('1.12.1')).toBe(true);
    expect(isTorchTooOld('0.4.1')).toBe(true);
    expect(isTorchTooOld('1.13.0a0')).toBe(false);
    expect(isTorchTooOld('2.0.0')).toBe(false);
  });
});

describeWith([pytorch], 'finding a Python with torch', () => {
  const withoutTorch = script('no-torch', `exec ${PYTHON} -S "$@"`);
  const fakeTorch = path.join(dir, 'old-torch-site', 'torch');
  mkdirSync(fakeTorch, { recursive: true });
  writeFileSync(path.join(fakeTorch, '__init__.py'), '__version__ = "1.8.1"\n');
  const oldTorch = script('old-torch', `PYTHONPATH=${path.dirname(fakeTorch)} exec ${PYTHON} "$@"`);

  it('takes the Python CONVNET_STUDIO_PYTHON names and reports its torch and devices', async () => {
    const found = await findTorch({ ...process.env, CONVNET_STUDIO_PYTHON: PYTHON });
    expect(found.command).toBe(PYTHON);
    expect(found.torch).toMatch(/^\d+\.\d+/);
    expect(found.pythonVersion).toMatch(/^3\.\d+/);
    expect(found.threads).toBeGreaterThanOrEqual(1);
    expect(found.gpus.length > 0).toBe(found.cuda);
    expect(found.passedOver).toEqual([]);
  });

  it('passes over python3 on PATH without torch for the system Python, and says so', async () => {
    const found = await findTorch({
      ...process.env,
      CONVNET_STUDIO_PYTHON: '',
      PATH: `${path.dirname(withoutTorch)}:/usr/bin:/bin`,
    });
    expect(found.command).toBe('/usr/bin/python3');
    expect(found.passedOver).toEqual([expect.stringMatching(/^python3 on PATH .*has no torch/)]);
  });

  it('names a missing Python and what to do', async () => {
    const error = await findTorch({
      ...process.env,
      CONVNET_STUDIO_PYTHON: '/nowhere/python3',
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(TorchNotFound);
    expect((error as Error).message).toMatch(
      /^PyTorch was not found: CONVNET_STUDIO_PYTHON \(\/nowhere\/python3\) is not there\. Install PyTorch .*CONVNET_STUDIO_PYTHON/,
    );
  });

  it('names a Python without torch', async () => {
    const error = await findTorch({ ...process.env, CONVNET_STUDIO_PYTHON: withoutTorch }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toMatch(
      /CONVNET_STUDIO_PYTHON \(.*no-torch\/python3\) \(\/usr\/bin\/python3\), Python 3\.\d+\.\d+, has no torch \(ModuleNotFoundError: No module named 'torch'\)\. Install PyTorch/,
    );
  });

  it('refuses a torch that is too old, naming its version and how to upgrade', async () => {
    const error = await findTorch({ ...process.env, CONVNET_STUDIO_PYTHON: oldTorch }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toMatch(
      /has torch 1\.8\.1, which is too old: the studio needs 1\.13 or newer \(upgrade it with: \/usr\/bin\/python3 -m pip install --upgrade torch\)/,
    );
  });
});
