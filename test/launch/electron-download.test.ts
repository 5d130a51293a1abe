/**
 * `npm start` getting Electron's binary through Electron's own machinery,
 * against local servers standing in for its release host: one that refuses,
 * one that serves a damaged archive, one that stalls, one that is slow but
 * delivers (through ELECTRON_CUSTOM_DIR). Each checks what the user is told
 * and which host `npm start` falls back to.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { chooseHost } from '../../scripts/launch/choose-host';
import {
  type DownloadProgress,
  type ElectronPackage,
  installedElectron,
} from '../../scripts/launch/electron-runtime';
import { describeWith, python } from '../support/requirements';
import {
  artifactName,
  closedPort,
  electronPackageCopy,
  executableInArchive,
  fakeElectronArchive,
  type Mirror,
  startMirror,
} from './support';

let electron: ElectronPackage & { root: string };
let cache: string;
let mirror: Mirror | undefined;
let said: string[];
let progress: DownloadProgress[];

beforeEach(() => {
  electron = electronPackageCopy();
  cache = path.join(electron.root, 'cache');
  said = [];
  progress = [];
  for (const name of [
    'ELECTRON_CUSTOM_DIR',
    'ELECTRON_CUSTOM_FILENAME',
    'ELECTRON_OVERRIDE_DIST_PATH',
    'ELECTRON_GET_USE_PROXY',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'http_proxy',
    'https_proxy',
    'electron_use_remote_checksums',
    'npm_config_electron_mirror',
  ])
    vi.stubEnv(name, undefined);
  vi.stubEnv('electron_config_cache', cache);
  vi.stubEnv('DISPLAY', ':0');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await mirror?.close();
  mirror = undefined;
});

const start = (stallTimeoutMs?: number) =>
  chooseHost({
    args: [],
    platform: 'linux',
    electron,
    say: (line) => said.push(line),
    progress: (p) => progress.push(p),
    stallTimeoutMs,
  });

const archivePath = (version: string) => `/v${version}/${artifactName(version)}`;

function expectNothingInstalled() {
  expect(installedElectron(electron)).toBeNull();
  expect(existsSync(path.join(electron.dir, 'dist'))).toBe(false);
}

describeWith([python], 'getting Electron for npm start', () => {
  it('falls back to the web host when the mirror refuses the connection, naming it and the ways out', async () => {
    const port = await closedPort();
    vi.stubEnv('ELECTRON_MIRROR', `http://127.0.0.1:${port}/`);
    const choice = await start();
    expect(choice.host).toBe('web');
    const why = choice.host === 'web' ? (choice.why ?? '') : '';
    expect(why).toContain(
      `Electron ${electron.version} (the desktop app's runtime) could not be downloaded: 127.0.0.1:${port} refused the connection [ECONNREFUSED]`,
    );
    expect(why).toContain(`tried: http://127.0.0.1:${port}${archivePath(electron.version)}`);
    expect(why).toMatch(/retry: +npm start/);
    expect(why).toMatch(/use a mirror: +ELECTRON_MIRROR=/);
    expect(said).toContain(`Downloading http://127.0.0.1:${port}${archivePath(electron.version)}`);
    expectNothingInstalled();
  });

  it('says what the mirror answered when it has no such file', async () => {
    mirror = await startMirror((_req, res) => res.writeHead(404, 'Not Found').end());
    vi.stubEnv('ELECTRON_MIRROR', mirror.url);
    const choice = await start();
    expect(choice).toMatchObject({
      host: 'web',
      why: expect.stringContaining(
        `could not be downloaded: ${new URL(mirror.url).host} answered 404 Not Found`,
      ),
    });
    expectNothingInstalled();
  });

  it("discards a damaged archive: its checksum is not Electron's", async () => {
    const damaged = Buffer.alloc(256 * 1024, 7);
    mirror = await startMirror((_req, res) =>
      res.writeHead(200, { 'content-length': damaged.length }).end(damaged),
    );
    vi.stubEnv('ELECTRON_MIRROR', mirror.url);
    const choice = await start();
    expect(choice).toMatchObject({
      host: 'web',
      why: expect.stringContaining(
        `the archive from ${new URL(mirror.url).host} is damaged or not Electron's: its SHA-256 checksum does not match`,
      ),
    });
    expect(mirror.requests).toEqual([archivePath(electron.version)]);
    expect(progress.at(-1)).toMatchObject({ transferred: damaged.length, total: damaged.length });
    expectNothingInstalled();
    // Nothing unverified is kept in Electron's cache.
    expect(
      existsSync(cache)
        ? readdirSync(cache, { recursive: true }).filter((f) => String(f).endsWith('.zip'))
        : [],
    ).toEqual([]);
  });

  it('gives up on a mirror that stops sending, after showing the bytes that came', async () => {
    mirror = await startMirror((_req, res) => {
      res.writeHead(200, { 'content-length': 10 * 1024 * 1024 });
      res.write(Buffer.alloc(64 * 1024));
      // …and nothing more.
    });
    vi.stubEnv('ELECTRON_MIRROR', mirror.url);
    const started = performance.now();
    const choice = await start(500);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(choice).toMatchObject({
      host: 'web',
      why: expect.stringContaining(
        `could not be downloaded: no data from ${new URL(mirror.url).host} for 0.5 s (a stalled or very slow connection)`,
      ),
    });
    expect(progress.at(-1)).toEqual({ transferred: 64 * 1024, total: 10 * 1024 * 1024 });
    expectNothingInstalled();
  });

  it('installs from a slow mirror laid out by ELECTRON_CUSTOM_DIR, showing progress, then opens the desktop app', async () => {
    const archive = fakeElectronArchive(electron.version);
    const name = artifactName(electron.version);
    const folder = `/builds/${electron.version}`;
    mirror = await startMirror((req, res) => {
      if (req.url === `${folder}/SHASUMS256.txt`) return res.end(`${archive.sha256} *${name}\n`);
      if (req.url !== `${folder}/${name}`) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': archive.bytes.length });
      // Four pieces, 150 ms apart: slow, but never quiet for the stall timeout.
      const piece = Math.ceil(archive.bytes.length / 4);
      let sent = 0;
      const next = () => {
        res.write(archive.bytes.subarray(sent, sent + piece));
        sent += piece;
        if (sent < archive.bytes.length) setTimeout(next, 150);
        else res.end();
      };
      next();
    });
    vi.stubEnv('ELECTRON_MIRROR', mirror.url);
    vi.stubEnv('ELECTRON_CUSTOM_DIR', 'builds/{{ version }}');
    // The archive is not Electron's, so its checksum comes from the mirror (Electron's option).
    vi.stubEnv('electron_use_remote_checksums', '1');

    const choice = await start(2_000);
    const binary = path.join(electron.dir, 'dist', executableInArchive());
    expect(choice).toEqual({ host: 'desktop', binary });
    expect(readFileSync(path.join(electron.dir, 'path.txt'), 'utf8')).toBe(executableInArchive());
    expect(mirror.requests).toContain(`${folder}/${name}`);
    const transferred = progress.map((p) => p.transferred);
    expect(transferred.length).toBeGreaterThanOrEqual(4);
    expect(transferred).toEqual([...transferred].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({
      transferred: archive.bytes.length,
      total: archive.bytes.length,
    });

    // Installed once: the next start neither downloads nor needs the mirror.
    await mirror.close();
    mirror = undefined;
    said = [];
    expect(await start()).toEqual({ host: 'desktop', binary });
    expect(said).toEqual([]);
  });

  it('reports a failed download and a missing display together', async () => {
    vi.stubEnv('ELECTRON_MIRROR', `http://127.0.0.1:${await closedPort()}/`);
    vi.stubEnv('DISPLAY', undefined);
    vi.stubEnv('WAYLAND_DISPLAY', undefined);
    const choice = await start();
    expect(choice).toMatchObject({
      host: 'web',
      why: expect.stringMatching(
        /refused the connection[\s\S]*\nAlso, there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set/,
      ),
    });
  });
});
