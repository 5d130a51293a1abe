/**
 * The packaging configuration (electron-builder.ts): valid for
 * electron-builder, the four artefacts, the fuses, ASAR, the icon, and every
 * file the packaged app looks for beside app.asar.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import config, { electronFuses } from '../../electron-builder';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

describe('packaging', () => {
  it("passes electron-builder's own validation", async () => {
    const builderLib = path.dirname(require.resolve('electron-builder/package.json'));
    const { validateConfiguration } = createRequire(path.join(builderLib, 'package.json'))(
      'app-builder-lib/out/util/config/config',
    );
    await expect(
      validateConfiguration(config, { isEnabled: false, add() {} }),
    ).resolves.toBeUndefined();
  });

  it('makes an AppImage and a .deb on Linux, a .dmg on macOS, an NSIS installer on Windows', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.productName).toBe('ConvNet Studio');
  });

  it('flips the fuses: no Node mode, no NODE_OPTIONS or inspector, encrypted cookies, ASAR only and checked', () => {
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toBe(electronFuses);
    expect(electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    });
  });

  it('uses the 1024-pixel icon in resources/ on every platform', () => {
    const icon = readFileSync(path.join(root, 'resources/icon.png'));
    expect(icon.subarray(1, 4).toString()).toBe('PNG');
    expect([icon.readUInt32BE(16), icon.readUInt32BE(20)]).toEqual([1024, 1024]);
    for (const platform of [config.linux, config.mac, config.win])
      expect(platform?.icon).toBe('resources/icon.png');
  });

  it("packs electron-vite's output, and puts the shipped files where the app looks for them", () => {
    expect(config.files).toEqual(
      expect.arrayContaining(['out/main/**', 'out/preload/**', 'out/renderer/**']),
    );
    // src/node/shipped-files.ts looks for `resources/X` at `<resourcesPath>/X`.
    const extra = (config.extraResources ?? []) as { from: string; to: string }[];
    for (const shipped of [
      'resources/sample/fashion-mnist',
      'resources/fonts/DejaVuSans.ttf',
      'resources/icon.png',
      'resources/pytorch/engine.py',
    ]) {
      const entry = extra.find((e) => shipped === e.from || shipped.startsWith(`${e.from}/`));
      expect(entry, shipped).toBeDefined();
      expect(existsSync(path.join(root, shipped))).toBe(true);
      expect(path.posix.join(entry!.to, shipped.slice(entry!.from.length))).toBe(
        shipped.slice('resources/'.length),
      );
    }
  });
});
