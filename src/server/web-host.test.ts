import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StudioApi } from '../api/studio-api';
import { builtInPresets } from '../backend/presets';
import { ProjectService } from '../backend/project-service';
import { startWebHost, type WebHost } from './web-host';

let host: WebHost;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'studio-web-'));
  const staticDir = path.join(folder, 'static');
  await mkdir(staticDir);
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>studio</title>');
  host = await startWebHost({
    port: 0,
    host: '127.0.0.1',
    staticDir,
    createApi: () =>
      new ProjectService({
        host: 'web',
        version: 'test',
        projectFolder: folder,
        stateFolder: path.join(folder, '.state'),
        presets: builtInPresets,
      }) as unknown as StudioApi,
  });
});

afterAll(() => host.close());

/** A request with the path exactly as given (fetch would normalise the dots away). */
function rawStatus(rawPath: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: new URL(host.url).port, path: rawPath }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

function connect(origin?: string, hostHeader?: string): Promise<WebSocket> {
  const ws = new WebSocket(new URL('api', host.url.replace('http', 'ws')), {
    ...(origin ? { origin } : {}),
    ...(hostHeader ? { headers: { host: hostHeader } } : {}),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, message: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(data.toString())));
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

describe('web host', () => {
  it('serves the renderer with a Content-Security-Policy, and nothing outside it', async () => {
    const page = await fetch(host.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(new URL('../../etc/passwd', host.url))).status).toBe(404);
    expect(await rawStatus('/..%2F..%2F..%2Fetc%2Fpasswd')).toBe(403);
  });

  it('answers calls over the WebSocket with Results', async () => {
    const ws = await connect();
    const answer = (await call(ws, { id: 1, method: 'listPresets', args: [] })) as {
      id: number;
      result: { ok: true; value: { name: string }[] };
    };
    expect(answer.id).toBe(1);
    expect(answer.result.value.map((p) => p.name)).toContain('resnet18');
    ws.close();
  });

  it('validates every message: envelope, method name and arguments', async () => {
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
    ws.close();
  });

  it('refuses WebSockets opened by other sites, also through a re-pointed domain name', async () => {
    await expect(connect('http://evil.example')).rejects.toThrow(/403/);
    const port = new URL(host.url).port;
    await expect(connect(`http://evil.example:${port}`, `evil.example:${port}`)).rejects.toThrow(
      /403/,
    );
  });
});
