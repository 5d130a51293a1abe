/**
 * The same flows in the desktop app, plus what only the desktop app has: the
 * app:// page, no Node in it, no way out of it. It runs wherever Electron's
 * binary is there (e2e/run.mjs fetches it as npm start does) and a window can
 * open. Elsewhere the suite is reported skipped with the reason in its name;
 * with STUDIO_E2E_ELECTRON=required (a CI that must test the desktop app) a
 * missing binary or display is a failure instead.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayProblem } from '../scripts/launch/choose-host';
import { electronPackage, installedElectron } from '../scripts/launch/electron-runtime';
import { STUDIO_ENTRY_URL } from '../src/main/renderer-protocol';
import {
  buildLeNetFromEmptyCanvas,
  openResNet18Preset,
  saveReloadAndReopen,
  shapeErrorAndUndo,
} from './flows';
import { nodeIds, repoRoot } from './support/studio';

const binary = installedElectron(electronPackage());
const missing = binary
  ? displayProblem(process.platform, process.env)
  : (process.env.STUDIO_E2E_NO_ELECTRON ??
    "Electron's binary is not installed (run npm start once, or npx install-electron)");

function desktopSuite() {
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'studio-e2e-electron-'));
    app = await _electron.launch({
      executablePath: binary!,
      args: [path.join(repoRoot, 'out/main/index.js'), '--project', 'lenet', '--workspace', folder],
      cwd: repoRoot,
    });
    page = await app.firstWindow();
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(() => app?.close());

  it('loads the studio from app://studio/, with no Node in the page', async () => {
    expect(page.url()).toBe(STUDIO_ENTRY_URL);
    expect(
      await page.evaluate(() => ({
        api: typeof (window as { studio?: unknown }).studio,
        require: typeof (window as { require?: unknown }).require,
        process: typeof (window as { process?: unknown }).process,
      })),
    ).toEqual({ api: 'object', require: 'undefined', process: 'undefined' });
  });

  it('stays on the studio: no navigation away, no new windows', async () => {
    expect(await page.evaluate(() => window.open('https://example.com/'))).toBeNull();
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(STUDIO_ENTRY_URL);
    expect(app.windows()).toHaveLength(1);
  });

  it('builds LeNet from an empty canvas', () => buildLeNetFromEmptyCanvas(page));
  it('shows and undoes a shape error', async () => {
    const ids = await nodeIds(page);
    await shapeErrorAndUndo(page, ids[1], ids[2]);
  });
  it('saves and reopens', () => saveReloadAndReopen(page, `e2e-${Date.now()}.json`));
  it('opens ResNet-18', () => openResNet18Preset(page));
}

if (!missing) describe('the desktop app (Electron)', desktopSuite);
else if (process.env.STUDIO_E2E_ELECTRON === 'required')
  describe('the desktop app (Electron)', () => {
    it('can run here', () => {
      throw new Error(`STUDIO_E2E_ELECTRON=required, but ${missing}`);
    });
  });
else {
  console.warn(`Electron end-to-end tests skipped: ${missing}.`);
  describe.skip(`the desktop app (Electron) [skipped: ${missing}]`, desktopSuite);
}
