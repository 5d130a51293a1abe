/**
 * The web host: serves the built renderer over HTTP, downloads (an export as
 * a zip, a run's weights) and the StudioApi over a WebSocket at /api, on
 * 127.0.0.1 unless told otherwise.
 *
 * Who may use it: whoever holds the per-launch access token, printed in the
 * address (`?token=…`, as Jupyter does); the page, every download and the
 * WebSocket need it. The Host header must name this machine (a page whose
 * domain was re-pointed at it, "DNS rebinding", is refused) and a browser's
 * Origin must be this server (other sites open in the same browser cannot
 * drive it). An address presenting too many wrong tokens is refused for the
 * rest of the minute. The built UI's scripts and styles are public: they
 * hold no data.
 *
 * What it survives: every socket has an error handler, so a frame that is not
 * valid UTF-8 or larger than MAX_FRAME_BYTES drops that client, not the host;
 * connections, calls in flight per connection and answers a client does not
 * read are bounded; every frame is validated (dispatch.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { WebSocket, WebSocketServer } from 'ws';
import { CONTENT_SECURITY_POLICY } from '../api/content-security-policy';
import {
  DOWNLOAD_PATH,
  type DownloadRequest,
  parseDownload,
  TOKEN_PARAMETER,
} from '../api/downloads';
import { MAX_PROJECT_BYTES } from '../api/project-api';
import { fail } from '../api/result';
import type { StudioApi, StudioPush } from '../api/studio-api';
import { dispatch } from '../backend/dispatch';
import type { Download } from '../backend/downloads';
import { contentType, staticFile } from '../node/static-files';

export interface WebHostOptions {
  port: number;
  host: string;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  /** The access token: the page, downloads and the WebSocket need it. */
  token: string;
  /** Host names the Host header may carry besides this machine's own (a DNS name, a proxy's). */
  allowedHosts?: readonly string[];
  /** Builds the API, given how to push events to every connected page. */
  createApi(push: (event: StudioPush) => void): StudioApi;
  /** The files a download names (backend/downloads.ts); without it downloads are refused. */
  findDownload?(request: DownloadRequest): Promise<Download>;
}

export interface WebHost {
  /** The address to open, with the access token. */
  url: string;
  close(): Promise<void>;
}

/**
 * The largest WebSocket frame: a call carrying the largest project file
 * (MAX_PROJECT_BYTES) with room for JSON's escapes. Anything larger closes
 * that connection (code 1009) before it is read into memory.
 */
export const MAX_FRAME_BYTES = 4 * MAX_PROJECT_BYTES;
/** Pages (or scripts) connected at once. */
export const MAX_CONNECTIONS = 16;
/** Calls of one connection being answered at once; more are refused until some finish. */
export const MAX_CALLS_IN_FLIGHT = 32;
/** Answers and pushes waiting for a client that does not read them; past this it is dropped. */
const MAX_UNREAD_BYTES = 64 * 1024 * 1024;
/**
 * Wrong tokens one address may present in a minute; past this it is answered
 * 429 until the minute is over, so a token chosen by a person (possibly
 * guessable, unlike the 256 random bits of the default) cannot be guessed by
 * trying many from the network.
 */
export const MAX_WRONG_TOKENS_PER_MINUTE = 20;

/** Sent with every response: no address (with its token) leaks to another site, no sniffing. */
const COMMON_HEADERS = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const root = path.resolve(options.staticDir);
  const hosts = allowedHostNames(options.host, options.allowedHosts ?? []);
  const access = new TokenCheck(options.token);
  const server = createServer((req, res) => {
    handleRequest(root, options, hosts, access, req, res).catch((err: Error) => {
      if (res.headersSent) res.destroy(err);
      else plain(res, 500, `internal error: ${err.message}`);
    });
  });
  // A malformed request, or a client gone mid-request: answer or drop it, never crash.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const push = (event: StudioPush) => {
    const frame = JSON.stringify({ push: event });
    for (const client of sockets.clients) sendFrame(client, frame);
  };
  const api = options.createApi(push);

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    const refusal = (() => {
      if (url?.pathname !== '/api') return '404 Not Found';
      if (!knownHost(req, hosts) || !sameOrigin(req)) return '403 Forbidden';
      const token = access.check(req, url);
      if (token === 'guessing') return '429 Too Many Requests';
      if (token === 'wrong') return '401 Unauthorized';
      if (sockets.clients.size >= MAX_CONNECTIONS) return '503 Service Unavailable';
      return undefined;
    })();
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nconnection: close\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, api));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors after start (a socket the system closed under us) are logged; the host goes on.
  server.on('error', (err) => console.error(`web host: ${err.message}`));
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const query = new URLSearchParams({ [TOKEN_PARAMETER]: options.token });
  return {
    url: `http://${shownHost}:${address.port}/?${query}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One page's connection: calls answered in order of completion, each validated by dispatch. */
function serveConnection(ws: WebSocket, api: StudioApi): void {
  // Invalid UTF-8 (1007) or a frame over the limit (1009): ws has already begun closing
  // the connection with that code and reports it here; without a handler the error
  // would end the whole host.
  ws.on('error', () => undefined);
  let inFlight = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      sendFrame(ws, JSON.stringify({ id: null, result: fail('binary frames are not accepted') }));
      return;
    }
    if (inFlight >= MAX_CALLS_IN_FLIGHT) {
      sendFrame(
        ws,
        JSON.stringify({
          id: null,
          result: fail(
            `too many calls at once (${MAX_CALLS_IN_FLIGHT} are being answered); wait for answers before sending more`,
          ),
        }),
      );
      return;
    }
    inFlight++;
    void dispatch(api, data.toString())
      .then((answer) => sendFrame(ws, JSON.stringify(answer)))
      .finally(() => inFlight--);
  });
}

/** Sends unless the connection closed meanwhile; drops a client that leaves too much unread. */
function sendFrame(ws: WebSocket, frame: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ws.bufferedAmount + frame.length > MAX_UNREAD_BYTES) {
    ws.terminate();
    return;
  }
  ws.send(frame, () => undefined); // a send failing because the client left is not an error
}

async function handleRequest(
  root: string,
  options: WebHostOptions,
  hosts: ReadonlySet<string>,
  access: TokenCheck,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = requestUrl(req);
  if (!url) return plain(res, 400, 'bad request address');
  if (!knownHost(req, hosts)) {
    return plain(res, 403, 'this studio answers only to its own address (Host header refused)');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...COMMON_HEADERS, allow: 'GET, HEAD' }).end();
    return;
  }
  const isPage = url.pathname === '/' || url.pathname === '/index.html';
  if (isPage || url.pathname === DOWNLOAD_PATH) {
    const token = access.check(req, url);
    if (token === 'guessing') return plain(res, 429, TOO_MANY_WRONG_TOKENS);
    if (token === 'wrong') {
      return plain(
        res,
        401,
        'This studio needs its access token: open the address it printed when it started (…/?token=…).',
      );
    }
  }
  if (url.pathname === DOWNLOAD_PATH) return serveDownload(options, url, res);
  return serveStatic(root, url, req, res);
}

function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

const TOO_MANY_WRONG_TOKENS = `More than ${MAX_WRONG_TOKENS_PER_MINUTE} wrong access tokens came from this address in a minute; wait a minute, then open the address the studio printed.`;

/**
 * Checks the token from `?token=` (browsers) or `Authorization: Bearer`
 * (scripts) in constant time, and counts wrong ones per address: an address
 * that presents too many in a minute is refused ('guessing') until the
 * minute is over, even with the right one.
 */
class TokenCheck {
  private readonly digest: Buffer;
  private readonly wrong = new Map<string, { count: number; since: number }>();

  constructor(token: string) {
    this.digest = sha256(token);
  }

  check(req: IncomingMessage, url: URL): 'ok' | 'wrong' | 'guessing' {
    const address = req.socket.remoteAddress ?? '';
    const now = Date.now();
    let tries = this.wrong.get(address);
    if (tries && now - tries.since > 60_000) {
      this.wrong.delete(address);
      tries = undefined;
    }
    if (tries && tries.count >= MAX_WRONG_TOKENS_PER_MINUTE) return 'guessing';
    const header = req.headers.authorization;
    const presented =
      url.searchParams.get(TOKEN_PARAMETER) ??
      (header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined);
    // No token at all is a browser sent to the bare address, not a guess.
    if (presented === undefined || presented === '') return 'wrong';
    if (timingSafeEqual(sha256(presented), this.digest)) return 'ok';
    if (!tries) {
      this.makeRoom(now);
      tries = { count: 0, since: now };
      this.wrong.set(address, tries);
    }
    tries.count++;
    return 'wrong';
  }

  /** Keeps the table bounded when many addresses try: entries past their minute go, then the oldest. */
  private makeRoom(now: number): void {
    if (this.wrong.size < 1024) return;
    for (const [address, tries] of this.wrong)
      if (now - tries.since > 60_000) this.wrong.delete(address);
    if (this.wrong.size >= 16_384) this.wrong.delete(this.wrong.keys().next().value as string);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The host names this server answers to: loopback, the address it listens on,
 * this machine's name and addresses when it listens on all of them, and any
 * the user allowed. Always checked (a re-pointed domain carries its own name).
 */
function allowedHostNames(listenHost: string, extra: readonly string[]): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', listenHost, `[${listenHost}]`]);
  if (listenHost === '0.0.0.0' || listenHost === '::') {
    names.add(os.hostname());
    for (const entries of Object.values(os.networkInterfaces()))
      for (const entry of entries ?? [])
        names.add(entry.family === 'IPv6' ? `[${entry.address}]` : entry.address);
  }
  for (const name of extra) names.add(name);
  return new Set([...names].map((name) => name.toLowerCase()));
}

function knownHost(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const header = req.headers.host;
  if (!header) return false;
  try {
    return allowed.has(new URL(`http://${header}`).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** A browser sends Origin on WebSocket upgrades; it must be this server itself. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (scripts, tests): the token guards it
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

async function serveStatic(
  root: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const file = staticFile(root, url.pathname);
  if (!file) return plain(res, 403, 'forbidden');
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return plain(res, 404, `not found: ${url.pathname}`);
  res.writeHead(200, {
    ...COMMON_HEADERS,
    'content-type': contentType(file),
    'content-length': info.size,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'cache-control': file === path.join(root, 'index.html') ? 'no-store' : 'max-age=3600',
  });
  if (req.method === 'HEAD') res.end();
  else
    createReadStream(file)
      .on('error', (err) => res.destroy(err))
      .pipe(res);
}

async function serveDownload(
  options: WebHostOptions,
  url: URL,
  res: ServerResponse,
): Promise<void> {
  const request = parseDownload(url.searchParams);
  if ('error' in request) return plain(res, 400, request.error);
  if (!options.findDownload) return plain(res, 404, 'this host offers no downloads');
  let download: Download;
  try {
    download = await options.findDownload(request);
  } catch (err) {
    return plain(res, 404, (err as Error).message);
  }
  const headers = {
    ...COMMON_HEADERS,
    'content-disposition': `attachment; filename="${download.name.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'cache-control': 'no-store',
  };
  if (download.kind === 'file') {
    const { size } = await stat(download.file);
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': size,
    });
    (await openNoFollow(download.file)).on('error', (err) => res.destroy(err)).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': 'application/zip' });
  await streamZip(download.folder, download.files, res);
}

/** Opens a file for reading without following a link put in its place since it was checked. */
async function openNoFollow(file: string) {
  const handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  return handle.createReadStream();
}

/** Files already compressed (weights, models) are stored; text is deflated. */
const STORED = new Set(['.safetensors', '.bin', '.onnx', '.png', '.zip']);

/** Until the response can take more, or the client has gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Writes a zip of `files` (names in `folder`) to the response as it is made, minding backpressure. */
async function streamZip(folder: string, files: string[], res: ServerResponse): Promise<void> {
  const zip = new Zip((err, chunk, final) => {
    if (err) {
      res.destroy(err);
      return;
    }
    res.write(chunk);
    if (final) res.end();
  });
  for (const name of files) {
    if (res.destroyed) return;
    const entry = STORED.has(path.extname(name))
      ? new ZipPassThrough(name)
      : new ZipDeflate(name, { level: 6 });
    zip.add(entry);
    for await (const chunk of await openNoFollow(path.join(folder, name))) {
      entry.push(chunk as Buffer);
      if (res.destroyed) return;
      if (res.writableNeedDrain) await drained(res);
    }
    entry.push(new Uint8Array(0), true);
  }
  zip.end();
}
