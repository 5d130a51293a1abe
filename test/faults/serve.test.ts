/**
 * The real `convnet-studio serve` process against hostile clients: it must
 * still be running and answering after each (the in-process cases, with
 * floods and downloads, are in src/server/web-host.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { repoRoot, type Studio, startStudio } from '../../e2e/support/studio';
import { isLoopback, TOKEN_VARIABLE } from '../../src/cli/commands/serve';
import { getPreset } from '../../src/core/presets';
import { MAX_FRAME_BYTES } from '../../src/server/web-host';

let studio: Studio;
beforeAll(async () => {
  studio = await startStudio();
});
afterAll(() => studio?.stop());

function socket(
  token: string | null,
  frame: Buffer,
): Promise<{ opened: boolean; code?: number; error?: string }> {
  const url = new URL('api', studio.url.replace('http', 'ws'));
  url.search = token ? `?token=${token}` : '';
  const ws = new WebSocket(url);
  return new Promise((resolve) => {
    ws.once('open', () => ws.send(frame, { binary: false }));
    ws.once('close', (code) => resolve({ opened: true, code }));
    ws.once('error', (err) => resolve({ opened: false, error: err.message }));
  });
}

/** Calls a method of the API as a page would; true when it succeeded. */
async function answers(method = 'listPresets', args: unknown[] = []): Promise<boolean> {
  const token = new URL(studio.url).searchParams.get('token');
  const url = new URL('api', studio.url.replace('http', 'ws'));
  url.search = `?token=${token}`;
  const ws = new WebSocket(url);
  const answer = await new Promise<string>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method, args })));
    ws.once('message', (data) => resolve(data.toString()));
    ws.once('error', reject);
  });
  ws.close();
  return JSON.parse(answer).result.ok;
}

describe('serve under attack', () => {
  it('prints an address with a fresh token; without it nothing is served', async () => {
    const token = new URL(studio.url).searchParams.get('token');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await fetch(studio.url.split('?')[0])).status).toBe(401);
    expect(await socket(null, Buffer.from('{}'))).toMatchObject({
      opened: false,
      error: expect.stringMatching(/401/),
    });
  });

  it('writes its token to no file, and keeps a chosen one off the process list', async () => {
    const token = new URL(studio.url).searchParams.get('token')!;
    // Used as a page would, so a project and the state files (recent files) are written.
    const project = JSON.stringify(getPreset('lenet')!.build());
    expect(await answers('saveProject', ['net.json', project, false])).toBe(true);
    const files = readdirSync(studio.folder, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(readFileSync(file, 'latin1'), file).not.toContain(token);

    const chosen = 'kept-off-the-process-list-0123';
    const withChosen = await startStudio({ env: { [TOKEN_VARIABLE]: chosen } });
    try {
      const port = new URL(withChosen.url).port;
      // Every process's command line, as ps shows them to any user (Linux's /proc).
      const commandLines = readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .map((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
          } catch {
            return ''; // gone meanwhile
          }
        });
      expect(commandLines.some((line) => line.includes('serve --port 0'))).toBe(true);
      expect(commandLines.filter((line) => line.includes(chosen))).toEqual([]);
      expect((await fetch(`http://127.0.0.1:${port}/?token=${chosen}`)).status).toBe(200);
    } finally {
      await withChosen.stop();
    }
  });

  it('survives a 4-byte frame of invalid UTF-8 and a frame over the limit', async () => {
    const token = new URL(studio.url).searchParams.get('token');
    expect(await socket(token, Buffer.from([0xff, 0xfe, 0xfd, 0xfc]))).toMatchObject({
      code: 1007,
    });
    expect(await socket(token, Buffer.alloc(MAX_FRAME_BYTES + 1, 0x61))).toMatchObject({
      code: 1009,
    });
    expect(await answers()).toBe(true);
  });

  it('refuses to listen beyond this machine unless the user chose the token', async () => {
    const { [TOKEN_VARIABLE]: _, ...env } = process.env;
    const refused = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'bin/convnet-studio.mjs'), 'serve', '--port', '0', '--host', '0.0.0.0'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env },
    );
    expect(refused.status).toBe(1);
    expect(refused.stdout).not.toContain('served at');
    expect(refused.stderr).toContain('--host 0.0.0.0 would serve the studio');
    expect(refused.stderr).toContain(`set ${TOKEN_VARIABLE} to a secret`);
    expect(refused.stderr).toContain('SSH tunnel');

    // With a token the user chose it starts, warns, and still wants that token.
    const chosen = 'chosen-token-0123456789';
    const open = await startStudio({
      args: ['--host', '0.0.0.0'],
      env: { [TOKEN_VARIABLE]: chosen },
    });
    try {
      const port = new URL(open.url).port;
      expect(new URL(open.url).searchParams.get('token')).toBe(chosen);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/?token=${chosen}`)).status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it('counts only this machine’s own addresses as loopback', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      'LOCALHOST',
      '::1',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.10',
      '10.0.0.1',
      'my-box.example',
      '::ffff:10.0.0.1',
    ])
      expect(isLoopback(host), host).toBe(false);
  });

  it('refuses the program’s own folder as the workspace', () => {
    const r = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin/convnet-studio.mjs'),
        'serve',
        '--port',
        '0',
        '--workspace',
        repoRoot,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the workspace cannot be the studio's own folder (${repoRoot})`);
  });
});
