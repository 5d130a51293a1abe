/**
 * The preload bridge, loaded with a stand-in for Electron's two modules it
 * uses (Electron itself cannot run here): it must expose exactly one function
 * per StudioApi method, each invoking that method's own IPC channel, and a
 * push subscription that can be undone.
 */
import { describe, expect, it, vi } from 'vitest';
import { studioMethods } from '../api/studio-api';

const exposed: Record<string, Record<string, (...args: unknown[]) => unknown>> = {};
const invoked: unknown[][] = [];
const listeners = new Map<string, ((...args: unknown[]) => void)[]>();

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: Record<string, (...args: unknown[]) => unknown>) => {
      exposed[key] = api;
    },
  },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => {
      invoked.push(args);
      return { ok: true, value: null };
    },
    on: (channel: string, fn: (...args: unknown[]) => void) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), fn]);
    },
    removeListener: (channel: string, fn: (...args: unknown[]) => void) => {
      listeners.set(
        channel,
        (listeners.get(channel) ?? []).filter((f) => f !== fn),
      );
    },
  },
}));

describe('preload bridge', () => {
  it('exposes one function per API method on window.studio, each on its own channel', async () => {
    await import('./index');
    const api = exposed.studio;
    expect(Object.keys(api).sort()).toEqual([...studioMethods, 'onPush'].sort());
    await api.openProject('nets/lenet.json');
    expect(invoked.at(-1)).toEqual(['studio:openProject', 'nets/lenet.json']);
  });

  it('forwards pushes to subscribers until they unsubscribe', async () => {
    await import('./index');
    const received: unknown[] = [];
    const unsubscribe = exposed.studio.onPush((push: unknown) => received.push(push)) as () => void;
    const push = { channel: 'training', runId: 'r1', payload: { event: 'done' } };
    for (const fn of listeners.get('studio:push') ?? []) fn({}, push);
    unsubscribe();
    for (const fn of listeners.get('studio:push') ?? []) fn({}, push);
    expect(received).toEqual([push]);
  });
});
