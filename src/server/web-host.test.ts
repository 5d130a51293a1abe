/**
 * The web host against hostile clients: no token or a wrong one, a foreign
 * Host (DNS rebinding) or Origin, frames that are not UTF-8 or too large,
 * floods of calls and of connections, malformed messages, and downloads that
 * try to leave the workspace. After each, the host must still answer.
 */
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { get, type IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { StudioApi, StudioPush } from '../api/studio-api';
import { combineServices } from '../backend';
import { findDownload } from '../backend/downloads';
import { builtInPresets } from '../backend/presets';
import { ProjectService } from '../backend/project-service';
import {
  MAX_CALLS_IN_FLIGHT,
  MAX_CONNECTIONS,
  MAX_FRAME_BYTES,
  MAX_WRONG_TOKENS_PER_MINUTE,
  startWebHost,
  type WebHost,
} from './web-host';

const TOKEN = 'test-token-0123456789abcdef';
let host: WebHost;
let folder: string;
let outside: string;

/** A method that takes a while, so calls pile up as a flood would make them. */
const slowService = {
  hostInfo: () => new Promise((resolve) => setTimeout(() => resolve({ ok: true, value: {} }), 200)),
};

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'studio-web-'));
  outside = await mkdtemp(path.join(os.tmpdir(), 'studio-web-outside-'));
  await writeFile(path.join(outside, 'private.txt'), 'not for the browser');
  const staticDir = path.join(folder, 'static');
  await mkdir(staticDir);
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(path.join(staticDir, 'app.js'), 'console.log(1)');
  host = await startWebHost({
    port: 0,
    host: '127.0.0.1',
    staticDir,
    token: TOKEN,
    createApi: () =>
      combineServices([
        slowService,
        new ProjectService({
          host: 'web',
          version: 'test',
          projectFolder: folder,
          stateFolder: path.join(folder, '.state'),
          presets: builtInPresets,
        }),
      ]) as StudioApi,
    findDownload: (request) => findDownload(folder, request),
  });
});

afterAll(() => host.close());

const port = () => new URL(host.url).port;

/** A request with the path exactly as given (fetch would normalise the dots away). */
function rawGet(
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number | undefined; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: port(), path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    }).on('error', reject);
  });
}

function connect(
  options: { token?: string | null; origin?: string; host?: string; bearer?: string } = {},
): Promise<WebSocket> {
  const url = new URL(`ws://127.0.0.1:${port()}/api`);
  const token = options.token === undefined ? TOKEN : options.token;
  if (token) url.searchParams.set('token', token);
  const ws = new WebSocket(url, {
    ...(options.origin ? { origin: options.origin } : {}),
    headers: {
      ...(options.host ? { host: options.host } : {}),
      ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
    },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, message: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(data.toString())));
    if (Buffer.isBuffer(message)) ws.send(message, { binary: true });
    else ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

/** Closes a connection and waits until the host has let it go. */
async function hangUp(ws: WebSocket): Promise<void> {
  const done = closed(ws);
  ws.close();
  await done;
  await new Promise((resolve) => setTimeout(resolve, 20));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

/** The host still answers a fresh, well-behaved client. */
async function stillServes(): Promise<void> {
  const ws = await connect();
  const answer = (await call(ws, { id: 1, method: 'listPresets', args: [] })) as {
    result: { ok: boolean };
  };
  expect(answer.result.ok).toBe(true);
  await hangUp(ws);
}

describe('web host: who may use it', () => {
  it('prints its address with the token, and serves the page only with it', async () => {
    expect(host.url).toBe(`http://127.0.0.1:${port()}/?token=${TOKEN}`);
    const page = await fetch(host.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    for (const address of ['/', '/index.html', '/?token=wrong', `/?token=${TOKEN}x`]) {
      const refused = await rawGet(address);
      expect(refused.status).toBe(401);
      expect(refused.body.toString()).toContain('needs its access token');
      expect(refused.body.toString()).not.toContain('<title>studio');
    }
    // The UI's own code holds no data: it is served without the token.
    expect((await rawGet('/app.js')).status).toBe(200);
  });

  it('serves nothing outside the built UI', async () => {
    expect((await rawGet('/../../etc/passwd')).status).toBe(404);
    expect((await rawGet('/..%2F..%2F..%2Fetc%2Fpasswd')).status).toBe(403);
    expect((await rawGet('/%E0%A4%A')).status).toBe(403);
  });

  it('opens the API only with the token (address or Authorization header)', async () => {
    await expect(connect({ token: null })).rejects.toThrow(/401/);
    await expect(connect({ token: 'wrong' })).rejects.toThrow(/401/);
    await hangUp(await connect({ token: null, bearer: TOKEN }));
    await stillServes();
  });

  it('refuses other sites and re-pointed domain names, even with the token', async () => {
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const rebound = `evil.example:${port()}`;
    await expect(connect({ origin: `http://${rebound}`, host: rebound })).rejects.toThrow(/403/);
    const page = await rawGet(`/?token=${TOKEN}`, { host: rebound });
    expect(page.status).toBe(403);
    expect(
      (await rawGet(`/download?kind=export&folder=x&token=${TOKEN}`, { host: rebound })).status,
    ).toBe(403);
  });
});

describe('web host: guessing the token', () => {
  it(`refuses an address that presented ${MAX_WRONG_TOKENS_PER_MINUTE} wrong tokens for the rest of the minute, even with the right one`, async () => {
    const guarded = await startWebHost({
      port: 0,
      host: '127.0.0.1',
      staticDir: path.join(folder, 'static'),
      token: TOKEN,
      createApi: () => combineServices([]),
    });
    const page = async (query: string) =>
      (await fetch(`http://127.0.0.1:${new URL(guarded.url).port}/${query}`)).status;
    const socket = (token: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${new URL(guarded.url).port}/api?token=${token}`);
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('error', (err) => resolve(err.message));
      });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // A browser sent to the bare address is no guess.
      for (let i = 0; i < 30; i++) expect(await page('')).toBe(401);
      for (let i = 0; i < MAX_WRONG_TOKENS_PER_MINUTE - 1; i++)
        expect(await page(`?token=guess-${i}`)).toBe(401);
      expect(await socket('one-more-guess')).toMatch(/401/);
      expect(await page(`?token=${TOKEN}`)).toBe(429);
      expect(await socket(TOKEN)).toMatch(/429/);
      const refused = await fetch(`http://127.0.0.1:${new URL(guarded.url).port}/?token=${TOKEN}`);
      expect(await refused.text()).toContain('wrong access tokens came from this address');
      vi.setSystemTime(Date.now() + 61_000);
      expect(await page(`?token=${TOKEN}`)).toBe(200);
      expect(await socket(TOKEN)).toBe('open');
    } finally {
      vi.useRealTimers();
      await guarded.close();
    }
  });
});

describe('web host on every address (--host 0.0.0.0)', () => {
  it('still needs the token and still checks the Host header', async () => {
    const open = await startWebHost({
      port: 0,
      host: '0.0.0.0',
      staticDir: path.join(folder, 'static'),
      token: TOKEN,
      createApi: () => combineServices([]),
    });
    try {
      const at = (address: string, hostHeader: string) =>
        new Promise<number | undefined>((resolve, reject) => {
          get(
            {
              host: '127.0.0.1',
              port: new URL(open.url).port,
              path: address,
              headers: { host: hostHeader },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode);
            },
          ).on('error', reject);
        });
      expect(await at('/', '127.0.0.1')).toBe(401);
      expect(await at(`/?token=${TOKEN}`, '127.0.0.1')).toBe(200);
      expect(await at(`/?token=${TOKEN}`, os.hostname())).toBe(200);
      expect(await at(`/?token=${TOKEN}`, 'evil.example')).toBe(403);
    } finally {
      await open.close();
    }
  });
});

describe('web host: hostile frames', () => {
  it('drops a client that sends a text frame of invalid UTF-8, and goes on', async () => {
    const ws = await connect();
    const code = closed(ws);
    ws.send(Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), { binary: false });
    expect(await code).toBe(1007);
    await stillServes();
  });

  it('drops a client whose frame is over the payload limit, and goes on', async () => {
    const ws = await connect();
    const code = closed(ws);
    ws.send(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x20), { binary: false });
    expect(await code).toBe(1009);
    await stillServes();
  });

  it('answers malformed messages with what is wrong', async () => {
    const ws = await connect();
    expect(await call(ws, 'not json')).toEqual({
      id: null,
      result: { ok: false, error: 'the message is not valid JSON' },
    });
    expect(await call(ws, { id: 2, method: 'listPresets' })).toMatchObject({
      id: null,
      result: { ok: false },
    });
    expect(await call(ws, { id: 3, method: 'constructor', args: [] })).toEqual({
      id: 3,
      result: { ok: false, error: "unknown method 'constructor'" },
    });
    expect(await call(ws, { id: 4, method: 'openProject', args: [42] })).toMatchObject({
      id: 4,
      result: {
        ok: false,
        error: expect.stringContaining('bad arguments for openProject: argument 0'),
      },
    });
    expect(await call(ws, '{"id":5,"method":"__proto__","args":[]}')).toMatchObject({
      id: 5,
      result: { ok: false },
    });
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(
      await call(ws, `{"id":6,"method":"saveProject","args":["a.json",${deep},true]}`),
    ).toEqual({
      id: null,
      result: { ok: false, error: 'the message nests deeper than 64 levels; no call needs that' },
    });
    expect(await call(ws, Buffer.from([1, 2, 3]))).toMatchObject({
      id: null,
      result: { ok: false, error: 'binary frames are not accepted' },
    });
    await hangUp(ws);
  });

  it('bounds a flood of calls: those beyond the limit are refused, the rest answered', async () => {
    const ws = await connect();
    const answers: { id: number | null; result: { ok: boolean; error?: string } }[] = [];
    const all = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        answers.push(JSON.parse(data.toString()));
        if (answers.length === 200) resolve();
      }),
    );
    for (let id = 1; id <= 200; id++) ws.send(JSON.stringify({ id, method: 'hostInfo', args: [] }));
    await all;
    const answered = answers.filter((a) => a.id !== null);
    const refused = answers.filter((a) => a.id === null);
    expect(answered.length).toBeGreaterThanOrEqual(MAX_CALLS_IN_FLIGHT);
    expect(answered.length).toBeLessThan(200);
    expect(refused[0].result.error).toMatch(/too many calls at once/);
    await hangUp(ws);
    await stillServes();
  });

  it('bounds connections: one past the limit is refused until others close', async () => {
    const open = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => connect()));
    await expect(connect()).rejects.toThrow(/503/);
    await Promise.all(open.map(hangUp));
    await stillServes();
  });
});

describe('web host: downloads', () => {
  it('zips an export folder (its plain files only) and sends a run’s weights', async () => {
    const exportDir = path.join(folder, 'exports', 'net-onnx');
    await mkdir(exportDir, { recursive: true });
    await writeFile(path.join(exportDir, 'model.onnx'), Buffer.from([1, 2, 3, 4]));
    await writeFile(path.join(exportDir, 'README.md'), '# net\n'.repeat(100));
    await symlink(path.join(outside, 'private.txt'), path.join(exportDir, 'leak.txt'));
    const zip = await rawGet(`/download?kind=export&folder=exports/net-onnx&token=${TOKEN}`);
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toBe('attachment; filename="net-onnx.zip"');
    const files = unzipSync(new Uint8Array(zip.body));
    expect(Object.keys(files).sort()).toEqual(['README.md', 'model.onnx']);
    expect([...files['model.onnx']]).toEqual([1, 2, 3, 4]);
    expect(Buffer.from(files['README.md']).toString()).toBe('# net\n'.repeat(100));

    const run = path.join(folder, 'nets', 'runs', 'run-1');
    await mkdir(run, { recursive: true });
    await writeFile(path.join(run, 'weights.safetensors'), 'weights');
    const weights = await rawGet(
      `/download?kind=weights&project=nets/lenet.json&run=run-1&token=${TOKEN}`,
    );
    expect(weights.status).toBe(200);
    expect(weights.body.toString()).toBe('weights');
    expect(weights.headers['content-disposition']).toBe(
      'attachment; filename="run-1-weights.safetensors"',
    );
  });

  it('needs the token and refuses anything outside the workspace', async () => {
    expect((await rawGet('/download?kind=export&folder=exports/net-onnx')).status).toBe(401);
    await symlink(outside, path.join(folder, 'exports', 'linked'));
    for (const [address, message] of [
      [`kind=export&folder=..%2F..%2Fetc`, 'is outside the workspace'],
      [`kind=export&folder=${encodeURIComponent(outside)}`, 'is outside the workspace'],
      ['kind=export&folder=exports%2Flinked', 'leads outside the workspace'],
      ['kind=weights&project=..%2Fx.json&run=r', 'is outside the workspace'],
      ['kind=weights&run=..', 'is not a run id'],
      ['kind=nothing', 'unknown download'],
    ]) {
      const answer = await rawGet(`/download?${address}&token=${TOKEN}`);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body.toString()).toContain(message);
      expect(answer.body.toString()).not.toContain('not for the browser');
    }
  });
});

/** A full garbage collection (V8's gc, reached without starting Node with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('web host: a client that never reads', () => {
  it('is dropped once 64 MiB wait for it, while a client that reads gets everything', async () => {
    let push: (event: StudioPush) => void = () => undefined;
    const streaming = await startWebHost({
      port: 0,
      host: '127.0.0.1',
      staticDir: path.join(folder, 'static'),
      token: TOKEN,
      createApi: (pushEvent) => {
        push = pushEvent;
        return combineServices([]);
      },
    });
    const open = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(
          `ws://127.0.0.1:${new URL(streaming.url).port}/api?token=${TOKEN}`,
        );
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    try {
      const reader = await open();
      const stalled = await open();
      // It stops reading its socket: what the host sends piles up on the host's side.
      stalled.pause();
      let received = 0;
      reader.on('message', (data: Buffer) => {
        received += data.length;
      });
      const MiB = 1024 * 1024;
      const message = 'x'.repeat(MiB);
      const frames = 192; // three times the limit
      // What the host holds: queued frames are strings (heap) or buffers (external), after a
      // collection so that garbage does not count.
      const held = () => {
        collectGarbage();
        const { heapUsed, external } = process.memoryUsage();
        return heapUsed + external;
      };
      const before = held();
      let peak = 0;
      for (let i = 0; i < frames; i++) {
        push({ channel: 'training', runId: 'r', payload: { event: 'warning', message } });
        // The host's event loop turns between pushes (training pushes a few a second).
        await new Promise((resolve) => setImmediate(resolve));
        if (i % 16 === 15) peak = Math.max(peak, held() - before);
      }
      // What waited for the stalled client stayed near the limit: not the 192 MiB pushed.
      expect(peak).toBeLessThan(100 * MiB);
      const code = closed(stalled);
      stalled.resume();
      expect(await code).toBe(1006); // terminated by the host, without a closing handshake
      await expect.poll(() => received, { timeout: 30_000 }).toBeGreaterThan(frames * MiB);
      reader.close();
    } finally {
      await streaming.close();
    }
  }, 60_000);
});
