/**
 * The StudioApi over IPC: one `ipcMain.handle('studio:<method>')` per method.
 * A call is answered only when it comes from the studio page (its frame's URL,
 * as Electron reports it, not anything the page says), and only with
 * arguments that pass the method's schema (dispatch.ts, as for the web host).
 */
import type { IpcMain } from 'electron';
import { fail, type Result } from '../api/result';
import { type StudioApi, studioMethods } from '../api/studio-api';
import { invoke } from '../backend/dispatch';

export const API_CHANNEL_PREFIX = 'studio:';
export const PUSH_CHANNEL = 'studio:push';

/** One call from a frame at `senderUrl`, checked and answered. */
export function answerCall(
  api: StudioApi,
  method: string,
  senderUrl: string | undefined,
  args: unknown[],
  isStudioPage: (url: string | undefined) => boolean,
): Promise<Result<unknown>> {
  if (!isStudioPage(senderUrl))
    return Promise.resolve(fail('calls are accepted only from the studio window'));
  return invoke(api, method, args);
}

export function serveApi(
  ipcMain: IpcMain,
  api: StudioApi,
  isStudioPage: (url: string | undefined) => boolean,
): void {
  for (const method of studioMethods) {
    ipcMain.handle(`${API_CHANNEL_PREFIX}${method}`, (event, ...args: unknown[]) =>
      answerCall(api, method, event.senderFrame?.url, args, isStudioPage),
    );
  }
}
