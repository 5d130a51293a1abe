/**
 * The web host: serves the built renderer over HTTP and the StudioApi over a
 * WebSocket at /api, on 127.0.0.1 unless told otherwise. Every frame is
 * validated (dispatch.ts); a WebSocket whose Origin is not this server is
 * refused, so other web pages open in the same browser cannot drive it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { CONTENT_SECURITY_POLICY } from '../api/content-security-policy';
import type { StudioApi, StudioPush } from '../api/studio-api';
import { dispatch } from '../backend/dispatch';
import { contentType, staticFile } from '../node/static-files';

export interface WebHostOptions {
  port: number;
  host: string;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  /** Builds the API, given how to push events to every connected page. */
  createApi(push: (event: StudioPush) => void): StudioApi;
}

export interface WebHost {
  url: string;
  close(): Promise<void>;
}

const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const root = path.resolve(options.staticDir);
  const server = createServer((req, res) => {
    serveStatic(root, req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const push = (event: StudioPush) => {
    const frame = JSON.stringify({ push: event });
    for (const client of sockets.clients)
      if (client.readyState === WebSocket.OPEN) client.send(frame);
  };
  const api = options.createApi(push);

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api' || !knownHost(req, options.host) || !sameOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', async (data, isBinary) => {
        if (isBinary) {
          ws.send(
            JSON.stringify({
              id: null,
              result: { ok: false, error: 'binary frames are not accepted' },
            }),
          );
          return;
        }
        const answer = await dispatch(api, data.toString());
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(answer));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The Host header must name this machine as the host was told to listen (a
 * page whose domain was re-pointed at 127.0.0.1, "DNS rebinding", would pass
 * the Origin check below but not this one).
 */
function knownHost(req: IncomingMessage, listenHost: string): boolean {
  const header = req.headers.host;
  if (!header) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  const allowed = new Set(['127.0.0.1', 'localhost', '[::1]', listenHost, `[${listenHost}]`]);
  return allowed.has(hostname) || listenHost === '0.0.0.0' || listenHost === '::';
}

/** A browser sends Origin on WebSocket upgrades; it must be this server itself. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (scripts, tests): no cross-site risk
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  const file = staticFile(root, pathname);
  if (!file) {
    res.writeHead(403).end();
    return;
  }
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}`);
    return;
  }
  res.writeHead(200, {
    'content-type': contentType(file),
    'content-length': info.size,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cache-control': file === path.join(root, 'index.html') ? 'no-cache' : 'max-age=3600',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}
