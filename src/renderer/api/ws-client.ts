/**
 * The StudioApi over the web host's WebSocket: one function per method,
 * generated from the method list, each sending {id, method, args} and
 * resolving to the host's Result. Pushes arrive as {push}.
 */
import type { Result } from '../../api/result';
import { type StudioClient, type StudioPush, studioMethods } from '../../api/studio-api';

/** `onLost` is told when an open connection closes (the host stopped or the network went). */
export function connectWebSocket(url: string, onLost?: () => void): Promise<StudioClient> {
  const socket = new WebSocket(url);
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Set<(push: StudioPush) => void>();
  let nextId = 1;

  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as
      | { id: number | null; result: Result<unknown> }
      | { push: StudioPush };
    if ('push' in message) {
      for (const listener of listeners) listener(message.push);
      return;
    }
    if (message.id === null) {
      console.error('the studio host refused a message:', message.result);
      return;
    }
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  let opened = false;
  socket.addEventListener('close', () => {
    if (opened) onLost?.();
    for (const resolve of pending.values())
      resolve({
        ok: false,
        error: 'the connection to the studio host was lost; restart it and reload the page',
      });
    pending.clear();
  });

  const client: Record<string, unknown> = {
    onPush(listener: (push: StudioPush) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  for (const method of studioMethods) {
    client[method] = (...args: unknown[]) =>
      new Promise<Result<unknown>>((resolve) => {
        if (socket.readyState !== WebSocket.OPEN) {
          resolve({
            ok: false,
            error: 'not connected to the studio host; restart it and reload the page',
          });
          return;
        }
        const id = nextId++;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, args }));
      });
  }
  return new Promise((resolve, reject) => {
    socket.addEventListener(
      'open',
      () => {
        opened = true;
        resolve(client as unknown as StudioClient);
      },
      { once: true },
    );
    socket.addEventListener(
      'error',
      () => reject(new Error(`cannot reach the studio host at ${url}`)),
      {
        once: true,
      },
    );
  });
}
