/**
 * The user flows, written once against a Playwright page so the web host
 * (Chromium) and Electron run the same steps.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { dropLayer, leaveFields, node, nodeIds, nodeShape, setField } from './support/studio';

/** LeNet as the course's notes build it, with the shapes they print. */
const lenet: { layer: string; fields?: Record<string, string>; shape: string }[] = [
  {
    layer: 'Conv2d',
    fields: { out_channels: '6', kernel_size: '5', padding: '2' },
    shape: '1×6×28×28',
  },
  { layer: 'Sigmoid', shape: '1×6×28×28' },
  { layer: 'AvgPool2d', fields: { kernel_size: '2', stride: '2' }, shape: '1×6×14×14' },
  { layer: 'Conv2d', fields: { out_channels: '16', kernel_size: '5' }, shape: '1×16×10×10' },
  { layer: 'Sigmoid', shape: '1×16×10×10' },
  { layer: 'AvgPool2d', fields: { kernel_size: '2', stride: '2' }, shape: '1×16×5×5' },
  { layer: 'Flatten', shape: '1×400' },
  { layer: 'Linear', fields: { out_features: '120' }, shape: '1×120' },
  { layer: 'Sigmoid', shape: '1×120' },
  { layer: 'Linear', fields: { out_features: '84' }, shape: '1×84' },
  { layer: 'Sigmoid', shape: '1×84' },
  { layer: 'Linear', fields: { out_features: '10' }, shape: '1×10' },
];

/**
 * New project, then each layer dragged from the palette onto the last one: a
 * layer dropped while another is selected is connected after it.
 */
export async function buildLeNetFromEmptyCanvas(page: Page): Promise<string[]> {
  await page.getByRole('button', { name: 'New', exact: true }).click();
  expect(await nodeIds(page)).toEqual(['input']);
  let previous = 'input';
  await node(page, previous).click();
  const ids: string[] = [];
  for (const step of lenet) {
    const id = await dropLayer(page, step.layer, { onto: node(page, previous) });
    for (const [name, value] of Object.entries(step.fields ?? {}))
      await setField(page, name, value);
    await expect.poll(() => nodeShape(page, id).textContent()).toBe(step.shape);
    previous = id;
    ids.push(id);
  }
  await expect.poll(() => page.getByTestId('total-params').textContent()).toBe('61,706');
  expect(await page.getByTestId('node-error').count()).toBe(0);
  // The whole network in view, as a user would look at it.
  await leaveFields(page);
  await page.keyboard.press('f');
  return ids;
}

/** ResNet-18: its stage b2 (a block of the project's own) opens on the canvas; a Residual in it opens read-only. */
export async function openResNet18Preset(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Presets' }).click();
  await page.getByTestId('preset-resnet18').click();
  await expect.poll(() => page.getByTestId('doc-title').textContent()).toContain('ResNet-18');
  await expect.poll(() => page.getByTestId('total-params').textContent()).toBe('11,178,378');
  const ids = await nodeIds(page);
  await expect.poll(() => nodeShape(page, ids.at(-1)!).textContent()).toBe('1×10');
  await node(page, 'b2').getByRole('button', { name: 'Open ▸' }).click();
  const trail = page.getByRole('navigation', { name: 'Editing inside' });
  await expect.poll(() => trail.textContent()).toContain('b2');
  await expect.poll(() => nodeIds(page)).toEqual(['input', '0', '1']);
  await expect.poll(() => nodeShape(page, '0').textContent()).toBe('1×64×24×24');
  // A catalog block is made from its parameters: it opens read-only, fitted.
  await node(page, '0').dblclick();
  const dialog = page.getByRole('dialog', { name: 'Inside the block' });
  await expect
    .poll(() => dialog.locator('.layer-type').allTextContents())
    .toEqual(expect.arrayContaining(['Conv2d', 'BatchNorm2d', 'Add']));
  await dialog.getByRole('button', { name: 'Close' }).click();
  await trail.getByRole('button', { name: 'Project' }).click();
  await expect.poll(() => trail.count()).toBe(0);
  expect(await nodeIds(page)).toEqual(ids);
}

/** A kernel larger than its input: the node shows why, and undo takes it back. */
export async function shapeErrorAndUndo(page: Page, conv: string, next: string): Promise<void> {
  await node(page, conv).click();
  const before = await nodeShape(page, conv).textContent();
  await setField(page, 'kernel_size', '40');
  const error = node(page, conv).getByTestId('node-error');
  await expect
    .poll(() => error.textContent())
    .toMatch(/kernel 40×40 is larger than its padded input/);
  await expect.poll(() => nodeShape(page, next).textContent()).toBe('?');
  await leaveFields(page);
  await page.keyboard.press('Control+z');
  await expect.poll(() => error.count()).toBe(0);
  await expect.poll(() => nodeShape(page, conv).textContent()).toBe(before);
}

/** Save As into the host's folder, reload the page: the same file opens again, the same graph. */
export async function saveReloadAndReopen(page: Page, fileName: string): Promise<void> {
  const cards = async () =>
    page
      .locator('[data-node-id]')
      .evaluateAll((els) =>
        els.map(
          (e) =>
            `${e.getAttribute('data-node-id')} ${e.querySelector('[data-testid=shape]')?.textContent}`,
        ),
      );
  const before = await cards();
  await page.getByRole('button', { name: 'Save as…' }).click();
  await page.getByTestId('save-name').fill(fileName);
  await page.getByRole('button', { name: 'Save', exact: true }).last().click();
  await expect.poll(() => page.getByTestId('doc-title').textContent()).toContain(fileName);
  await page.reload();
  await expect.poll(() => page.getByTestId('doc-title').textContent()).toContain(fileName);
  await expect.poll(cards).toEqual(before);
}

/** A file from a newer studio opens with a clear message, and the current graph stays. */
export async function newerFileIsRefused(page: Page, folder: string): Promise<void> {
  const before = await nodeIds(page);
  await writeFile(
    path.join(folder, 'future.json'),
    JSON.stringify({ format: 'convnet-studio', version: 99, nodes: [], edges: [] }),
  );
  await page.getByRole('button', { name: 'Open…' }).click();
  await page.getByTestId('file-future.json').click();
  await expect.poll(() => page.getByTestId('notice').textContent()).toMatch(/newer ConvNet Studio/);
  expect(await nodeIds(page)).toEqual(before);
  await page.getByTestId('notice').getByRole('button', { name: 'Dismiss' }).click();
}

/** Unsaved work survives losing the window: the autosave offers it back on the next start. */
export async function recoverAfterCrash(page: Page, openAgain: () => Promise<Page>): Promise<Page> {
  await page.getByRole('button', { name: 'New', exact: true }).click();
  await page.getByLabel('name').fill('Unsaved experiment');
  await page.waitForTimeout(3500); // the autosave runs every 3 s
  await page.close({ runBeforeUnload: false });
  const next = await openAgain();
  await next.getByRole('button', { name: 'Recover' }).click();
  await expect
    .poll(() => next.getByTestId('doc-title').textContent())
    .toContain('Unsaved experiment');
  return next;
}

/** Two layers grouped into a block of one's own: same shapes and parameters, reusable from the palette, open to edit. */
export async function groupIntoOwnBlock(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Presets' }).click();
  await page.getByTestId('preset-lenet').click();
  await expect.poll(() => page.getByTestId('total-params').textContent()).toBe('61,706');
  const [, conv, act] = await nodeIds(page);
  await node(page, conv).click();
  await node(page, act).click({ modifiers: ['Control'] });
  await page.getByRole('button', { name: 'Group into block…' }).click();
  await page.getByLabel('block name').fill('conv_sigmoid');
  await page.getByRole('button', { name: 'Group into block', exact: true }).click();
  const block = (await nodeIds(page)).find((id) => id.startsWith('conv_sigmoid'))!;
  await expect.poll(() => nodeShape(page, block).textContent()).toBe('1×6×28×28');
  expect(await page.getByTestId('total-params').textContent()).toBe('61,706');
  await expect.poll(() => page.getByTestId('palette-block:conv_sigmoid').count()).toBe(1);
  await node(page, block).getByRole('button', { name: 'Open ▸' }).click();
  await expect
    .poll(() => page.getByTestId('canvas').locator('.layer-type').allTextContents())
    .toEqual(['Block input', 'Conv2d', 'Sigmoid']);
  await leaveFields(page);
  await page.keyboard.press('Escape');
  await expect.poll(() => nodeIds(page)).toContain(block);
}

/** A project file dropped onto the window opens (as from a file manager). */
export async function dropProjectFile(page: Page, text: string, fileName: string): Promise<void> {
  const transfer = await page.evaluateHandle(
    ([content, name]) => {
      const data = new DataTransfer();
      data.items.add(new File([content], name, { type: 'application/json' }));
      return data;
    },
    [text, fileName] as const,
  );
  await page.dispatchEvent('.app', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('.app', 'drop', { dataTransfer: transfer });
}

/** Copy, paste, delete and undo from the keyboard, and the shortcut list on '?'. */
export async function keyboardEditing(page: Page): Promise<void> {
  const before = await nodeIds(page);
  await node(page, before[1]).click();
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await expect.poll(async () => (await nodeIds(page)).length).toBe(before.length + 1);
  await page.keyboard.press('Delete');
  await expect.poll(() => nodeIds(page)).toEqual(before);
  await page.keyboard.press('Control+z');
  await expect.poll(async () => (await nodeIds(page)).length).toBe(before.length + 1);
  await page.keyboard.press('Control+z');
  await expect.poll(() => nodeIds(page)).toEqual(before);
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect.poll(() => help.textContent()).toContain('Group into block…');
  await page.keyboard.press('Escape');
  await expect.poll(() => help.count()).toBe(0);
}
