/**
 * The preload bridge: window.studio gets one function per StudioApi method
 * (generated from the method list, so it never falls behind the API) and a
 * push subscription. Nothing else of Electron or Node reaches the page.
 */
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import type { StudioPush } from '../api/studio-api';
import { studioMethods } from '../api/studio-api';

const api: Record<string, unknown> = {
  onPush(listener: (push: StudioPush) => void) {
    const forward = (_event: IpcRendererEvent, push: StudioPush) => listener(push);
    ipcRenderer.on('studio:push', forward);
    return () => {
      ipcRenderer.removeListener('studio:push', forward);
    };
  },
};
for (const method of studioMethods) {
  api[method] = (...args: unknown[]) => ipcRenderer.invoke(`studio:${method}`, ...args);
}

contextBridge.exposeInMainWorld('studio', api);
