/**
 * npm start's choice between the desktop app and the web host, with
 * Electron's binary present: `--web` and the display variables decide.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chooseHost } from '../../scripts/launch/choose-host';
import type { ElectronPackage } from '../../scripts/launch/electron-runtime';
import { closedPort, electronPackageCopy, startMirror } from './support';

let electron: ElectronPackage;
let binary: string;
let said: string[];

beforeEach(() => {
  // An Electron "installed" as install.js leaves it: path.txt naming the binary in dist/.
  electron = electronPackageCopy();
  binary = path.join(electron.dir, 'dist', 'electron');
  mkdirSync(path.dirname(binary));
  writeFileSync(binary, '', { mode: 0o755 });
  writeFileSync(path.join(electron.dir, 'dist', 'version'), `v${electron.version}`);
  writeFileSync(path.join(electron.dir, 'path.txt'), 'electron');
  said = [];
  vi.stubEnv('ELECTRON_OVERRIDE_DIST_PATH', undefined);
  vi.stubEnv('DISPLAY', undefined);
  vi.stubEnv('WAYLAND_DISPLAY', undefined);
});
afterEach(() => vi.unstubAllEnvs());

const choose = (platform: NodeJS.Platform, args: string[] = []) =>
  chooseHost({ args, platform, electron, say: (line) => said.push(line) });

describe('choosing the host', () => {
  it('opens the desktop app where there is a display', async () => {
    vi.stubEnv('DISPLAY', ':0');
    expect(await choose('linux')).toEqual({ host: 'desktop', binary });
    vi.stubEnv('DISPLAY', undefined);
    vi.stubEnv('WAYLAND_DISPLAY', 'wayland-0');
    expect(await choose('linux')).toEqual({ host: 'desktop', binary });
    expect(said).toEqual([]);
  });

  it('serves the web UI on Linux without DISPLAY or WAYLAND_DISPLAY, and says so', async () => {
    expect(await choose('linux')).toEqual({
      host: 'web',
      why: expect.stringMatching(
        /^The desktop app cannot open a window: there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set \(a headless machine, or SSH without X forwarding\)/,
      ),
    });
  });

  it('needs no display variables on macOS and Windows', async () => {
    expect(await choose('darwin')).toEqual({ host: 'desktop', binary });
    expect(await choose('win32')).toEqual({ host: 'desktop', binary });
  });

  it('serves the web UI for --web without looking for Electron or downloading it', async () => {
    const mirror = await startMirror((_req, res) => res.writeHead(404).end());
    vi.stubEnv('ELECTRON_MIRROR', mirror.url);
    vi.stubEnv('DISPLAY', ':0');
    const missing = electronPackageCopy();
    const choice = await chooseHost({
      args: ['--web'],
      platform: 'linux',
      electron: missing,
      say: (line) => said.push(line),
    });
    await mirror.close();
    expect(choice).toEqual({ host: 'web' });
    expect(mirror.requests).toEqual([]);
    expect(said).toEqual([]);
  });

  it("fetches this package's version when the binary on disk is another (after an upgrade)", async () => {
    vi.stubEnv('DISPLAY', ':0');
    vi.stubEnv('ELECTRON_MIRROR', `http://127.0.0.1:${await closedPort()}/`);
    writeFileSync(path.join(electron.dir, 'dist', 'version'), 'v44.0.0');
    const choice = await choose('linux');
    expect(said[0]).toContain(
      `Electron ${electron.version}, the desktop app's runtime, is not installed yet`,
    );
    expect(choice).toMatchObject({
      host: 'web',
      why: expect.stringContaining('refused the connection'),
    });
  });

  it('uses the binary ELECTRON_OVERRIDE_DIST_PATH names, and says when there is none', async () => {
    vi.stubEnv('DISPLAY', ':0');
    const elsewhere = path.join(path.dirname(electron.dir), 'unpacked');
    vi.stubEnv('ELECTRON_OVERRIDE_DIST_PATH', elsewhere);
    expect(await choose('linux')).toEqual({
      host: 'web',
      why: expect.stringContaining(
        `could not be downloaded: ELECTRON_OVERRIDE_DIST_PATH is set to ${elsewhere}, which holds no Electron binary`,
      ),
    });
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, 'electron'), '', { mode: 0o755 });
    expect(await choose('linux')).toEqual({
      host: 'desktop',
      binary: path.join(elsewhere, 'electron'),
    });
  });
});
