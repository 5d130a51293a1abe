/**
 * The pictures in docs/studio.md, taken from the running studio (web host,
 * Chromium). Run: npx tsx scripts/screenshots.ts
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  launchChromium,
  leaveFields,
  node,
  repoRoot,
  setField,
  startStudio,
} from '../e2e/support/studio';

const out = (name: string) => path.join(repoRoot, 'docs/images', name);

async function settle(page: Page) {
  await page.waitForTimeout(400);
}

const studio = await startStudio({ project: 'lenet' });
const browser = await launchChromium();
try {
  const page = await browser.newPage({
    viewport: { width: 1500, height: 920 },
    deviceScaleFactor: 1,
  });
  await page.goto(studio.url);
  await page.getByTestId('total-params').filter({ hasText: '61,706' }).waitFor();
  const conv = (await page.locator('[data-node-id^=conv]').first().getAttribute('data-node-id'))!;
  await node(page, conv).click();
  await settle(page);
  await page.screenshot({ path: out('editor-lenet.png') });

  await setField(page, 'kernel_size', '40');
  await leaveFields(page);
  await settle(page);
  await page.screenshot({ path: out('shape-error.png') });
  await page.keyboard.press('Control+z');

  await page.getByRole('button', { name: 'Presets' }).click();
  await settle(page);
  await page.screenshot({ path: out('presets.png') });
  page.on('dialog', (d) => void d.accept());
  await page.getByTestId('preset-resnet18').click();
  await page.getByTestId('total-params').filter({ hasText: '11,178,378' }).waitFor();
  await settle(page);
  await page.screenshot({ path: out('editor-resnet18.png') });

  await node(page, 'b2').getByRole('button', { name: 'Open ▸' }).click();
  await settle(page);
  await page.screenshot({ path: out('block-view.png') });
  console.log(
    'wrote docs/images/{editor-lenet,shape-error,presets,editor-resnet18,block-view}.png',
  );
} finally {
  await browser.close();
  await studio.stop();
}
