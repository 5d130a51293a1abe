/**
 * The pictures in docs/studio.md and the README, taken from the running
 * studio (web host, Chromium) at 1440×900, as a new user sees it.
 * Run: npx tsx scripts/screenshots.ts
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  edgeMidpoint,
  launchChromium,
  leaveFields,
  node,
  repoRoot,
  setField,
  startStudio,
} from '../e2e/support/studio';

const out = (name: string) => path.join(repoRoot, 'docs/images', name);
const written: string[] = [];

async function shoot(
  page: Page,
  name: string,
  clip?: { x: number; y: number; width: number; height: number },
) {
  await page.waitForTimeout(500);
  await page.screenshot({ path: out(name), clip });
  written.push(name);
}

const browser = await launchChromium();
// A studio started without a project: the start page.
const fresh = await startStudio();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(fresh.url);
  await page.getByRole('dialog', { name: 'Start' }).getByTestId('preset-lenet').waitFor();
  await shoot(page, 'start-page.png');
  await page.close();
} finally {
  await fresh.stop();
}
const studio = await startStudio({ project: 'lenet' });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('dialog', (d) => void d.accept());
  await page.goto(studio.url);
  await page.getByTestId('total-params').filter({ hasText: '61,706' }).waitFor();
  await node(page, 'conv1').click();
  await shoot(page, 'editor-lenet.png');

  await setField(page, 'kernel_size', '40');
  await leaveFields(page);
  await shoot(page, 'shape-error.png');
  await page.keyboard.press('Control+z');

  // A problem inside a catalog block names the block's own parameter that fixes it.
  await node(page, 'conv1').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Insert layer after…' }).click();
  await page.getByRole('searchbox', { name: 'Search layers to insert' }).fill('Residual');
  await page.keyboard.press('Enter');
  await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
  await page.locator('.issues li').getByRole('button', { name: 'residual1' }).click();
  await shoot(page, 'block-error.png');
  await leaveFields(page);
  await page.keyboard.press('Control+z');

  await node(page, 'sigmoid1').click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Insert layer after…' }).click();
  await page.getByRole('searchbox', { name: 'Search layers to insert' }).fill('batch');
  await shoot(page, 'insert-layer.png');
  await page.keyboard.press('Escape');
  const edge = await edgeMidpoint(page, 'pool1', 'conv2');
  await page.mouse.click(edge.x, edge.y, { button: 'right' });
  await shoot(page, 'context-menu.png');
  await page.keyboard.press('Escape');

  // A block of one's own, used twice, opened for editing.
  await node(page, 'conv2').click();
  await node(page, 'sigmoid2').click({ modifiers: ['Control'] });
  await leaveFields(page);
  await page.keyboard.press('Control+g');
  await page.getByLabel('block name').fill('conv_sigmoid');
  await page.keyboard.press('Enter');
  await node(page, 'conv_sigmoid1').dblclick();
  await node(page, 'conv2').click();
  await shoot(page, 'block-editing.png');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'Lay out left to right' }).click();
  await shoot(page, 'layout-left-right.png');

  // The summary made taller by its grip, zoomed in, a row followed to its layer.
  await page.getByRole('button', { name: 'Lay out top-down' }).click();
  const grip = (await page.getByTestId('summary-resize').boundingBox())!;
  await page.mouse.move(grip.x + 200, grip.y + 2);
  await page.mouse.down();
  await page.mouse.move(grip.x + 200, grip.y - 160, { steps: 8 });
  await page.mouse.up();
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.getByTestId('summary-fc2').click();
  await shoot(page, 'summary-follow.png');
  await page.mouse.move(grip.x + 200, grip.y - 158);
  await page.mouse.down();
  await page.mouse.move(grip.x + 200, grip.y + 2, { steps: 8 });
  await page.mouse.up();

  // A 7-output network cannot train on 10 classes: the Train area says so before a run.
  await page.getByRole('button', { name: 'Fit' }).click();
  await node(page, 'fc3').click();
  await setField(page, 'out_features', '7');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page
    .getByRole('region', { name: 'Training settings' })
    .locator('select[name=dataset]')
    .selectOption('sample');
  await page.getByTestId('output-mismatch').waitFor();
  await shoot(page, 'train-output-mismatch.png');
  // The export dialog notes it too, and still exports the network as drawn.
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByTestId('export-output-note').waitFor();
  await page.getByTestId('export-plan').waitFor();
  // Cut above the line naming the folder it writes to: the workspace here is a temporary one.
  const dialog = (await page.locator('.export-dialog').boundingBox())!;
  const folder = (await page.getByTestId('export-folder').boundingBox())!;
  await shoot(page, 'export-output-note.png', {
    ...dialog,
    height: folder.y + folder.height + 16 - dialog.y,
  });
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Design', exact: true }).click();
  await page.keyboard.press('Control+z');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const form = page.getByRole('region', { name: 'Training settings' });
  await form.locator('select[name=schedule]').selectOption('step');
  await form.locator('input[name=stepSize]').fill('4');
  await form.locator('input[name=cropPadding]').fill('4');
  await form.locator('input[name=flip]').check();
  await shoot(page, 'train-schedule-augmentation.png');
  await page.getByRole('button', { name: 'Design', exact: true }).click();

  await page.getByRole('button', { name: 'Presets' }).click();
  await shoot(page, 'presets.png');
  await page.getByTestId('preset-resnet18').click();
  await page.getByTestId('total-params').filter({ hasText: '11,178,378' }).waitFor();
  await shoot(page, 'editor-resnet18.png');

  await node(page, 'b2').getByRole('button', { name: 'Open ▸' }).click();
  await page.waitForTimeout(500);
  await node(page, '1').dblclick();
  await shoot(page, 'block-view.png');
  await page
    .getByRole('dialog', { name: 'Inside the block' })
    .getByRole('button', { name: 'Close' })
    .click();
  await page
    .getByRole('navigation', { name: 'Editing inside' })
    .getByRole('button', { name: 'Project' })
    .click();

  // A DenseBlock's inside, folded where each Concat's output forks.
  await page.getByRole('button', { name: 'Presets' }).click();
  await page.getByTestId('preset-densenet').click();
  await page.getByTestId('total-params').filter({ hasText: '758,226' }).waitFor();
  await node(page, 'dense_blk1').dblclick();
  await shoot(page, 'block-view-dense.png');
  console.log(`wrote docs/images/{${written.join(',')}}`);
} finally {
  await browser.close();
  await studio.stop();
}
