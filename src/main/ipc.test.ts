/**
 * IPC calls reach the backend only from the studio page and only with
 * arguments that pass the method's schema; the real backend answers them.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { IpcMain } from 'electron';
import { beforeAll, describe, expect, it } from 'vitest';
import { type StudioApi, studioMethods } from '../api/studio-api';
import { createStudioBackend } from '../backend';
import { answerCall, serveApi } from './ipc';
import { isStudioUrl } from './origins';

let api: StudioApi;
beforeAll(async () => {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'studio-ipc-'));
  api = createStudioBackend({
    host: 'electron',
    version: 'test',
    projectFolder: folder,
    stateFolder: path.join(folder, '.state'),
    startup: { kind: 'new' },
    push: () => {},
  });
});
const fromPage = (url: string | undefined) => isStudioUrl(url);

describe('IPC', () => {
  it('answers the studio page', async () => {
    const answer = await answerCall(
      api,
      'loadPreset',
      'app://studio/index.html',
      ['lenet'],
      fromPage,
    );
    expect(answer.ok && JSON.parse((answer.value as { text: string }).text).name).toMatch(/LeNet/);
  });

  it('refuses any other frame before looking at the call', async () => {
    for (const sender of ['https://evil.example/', 'file:///tmp/index.html', undefined])
      expect(await answerCall(api, 'loadPreset', sender, ['lenet'], fromPage)).toEqual({
        ok: false,
        error: 'calls are accepted only from the studio window',
      });
  });

  it('refuses bad arguments, naming the method and the argument', async () => {
    expect(await answerCall(api, 'loadPreset', 'app://studio/', [42], fromPage)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^bad arguments for loadPreset: argument 0 /),
    });
    expect(await answerCall(api, 'openProject', 'app://studio/', [], fromPage)).toMatchObject({
      ok: false,
      error: expect.stringContaining('bad arguments for openProject'),
    });
  });

  it('registers one handler per API method, each reading the frame Electron reports', async () => {
    const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
    const ipcMain = { handle: (channel: string, fn: never) => handlers.set(channel, fn) };
    serveApi(ipcMain as unknown as IpcMain, api, fromPage);
    expect([...handlers.keys()].sort()).toEqual(studioMethods.map((m) => `studio:${m}`).sort());
    const call = handlers.get('studio:loadPreset')!;
    expect(await call({ senderFrame: { url: 'https://evil.example/' } }, 'lenet')).toMatchObject({
      ok: false,
    });
    expect(await call({ senderFrame: { url: 'app://studio/index.html' } }, 'lenet')).toMatchObject({
      ok: true,
    });
  });
});
