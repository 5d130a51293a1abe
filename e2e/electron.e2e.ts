/**
 * The same flows in the desktop app. Electron needs its binary, which cannot
 * be downloaded on machines without internet access: there the suite is
 * skipped and says why.
 */
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
// @ts-expect-error: plain ES module shared with scripts/start.mjs
import { electronBinary, electronMissingReason } from '../scripts/electron-binary.mjs';
import {
  buildLeNetFromEmptyCanvas,
  openResNet18Preset,
  saveReloadAndReopen,
  shapeErrorAndUndo,
} from './flows';
import { nodeIds, repoRoot } from './support/studio';

const binary = electronBinary() as string | null;
if (!binary) console.warn(`Electron end-to-end tests skipped: ${electronMissingReason}.`);

describe.skipIf(!binary)('the desktop app (Electron)', () => {
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    app = await _electron.launch({
      executablePath: binary!,
      args: [path.join(repoRoot, 'out/main/index.js'), '--project', 'lenet'],
      cwd: repoRoot,
    });
    page = await app.firstWindow();
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(() => app?.close());

  it('builds LeNet from an empty canvas', () => buildLeNetFromEmptyCanvas(page));
  it('shows and undoes a shape error', async () => {
    const ids = await nodeIds(page);
    await shapeErrorAndUndo(page, ids[1], ids[2]);
  });
  it('saves and reopens', () => saveReloadAndReopen(page, `e2e-${Date.now()}.json`));
  it('opens ResNet-18', () => openResNet18Preset(page));
});
