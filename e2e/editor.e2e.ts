/**
 * The editor as a new user meets it, at 1440×900: presets open whole and
 * readable, the context menu, blocks of one's own edited in place, the
 * summary and the map, ports and drops.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fillRunSettings } from './dashboard-session';
import {
  connect,
  dropLayer,
  edgeMidpoint,
  leaveFields,
  node,
  nodeIds,
  nodeShape,
  setField,
  studioPageForFile,
} from './support/studio';

const session = studioPageForFile('lenet', { width: 1440, height: 900 });

type Box = { x: number; y: number; width: number; height: number };

const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 1 &&
  inner.y >= outer.y - 1 &&
  inner.x + inner.width <= outer.x + outer.width + 1 &&
  inner.y + inner.height <= outer.y + outer.height + 1;

const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** A canvas's zoom (the main one unless given), from React Flow's viewport transform. */
async function zoom(page: Page, canvas = page.getByTestId('canvas')): Promise<number> {
  const transform = await canvas
    .locator('.react-flow__viewport')
    .evaluate((el) => (el as HTMLElement).style.transform);
  return Number(/scale\(([\d.]+)\)/.exec(transform)?.[1]);
}

async function cardBoxes(canvas: Locator): Promise<Box[]> {
  const cards = await canvas.locator('[data-node-id]').all();
  return Promise.all(cards.map(async (c) => (await c.boundingBox())!));
}

/** The pairs of cards that overlap, by index. */
const overlaps = (boxes: Box[]) =>
  boxes.flatMap((a, i) => boxes.flatMap((b, j) => (j > i && overlap(a, b) ? [[i, j]] : [])));

/**
 * Every card lies inside the canvas (the main one unless given) and clear of
 * the map and of each other, at a zoom where cards can be read.
 */
async function expectWholeAndReadable(page: Page, canvas = page.getByTestId('canvas')) {
  await expect.poll(() => zoom(page, canvas)).toBeGreaterThanOrEqual(0.6);
  const bounds = (await canvas.boundingBox())!;
  const map = await page.locator('.minimap').boundingBox();
  await expect
    .poll(async () =>
      (await cardBoxes(canvas)).filter((b) => !inside(b, bounds) || (map && overlap(b, map))),
    )
    .toEqual([]);
  expect(overlaps(await cardBoxes(canvas))).toEqual([]);
}

async function openPreset(page: Page, name: string, params: string): Promise<void> {
  await page.getByRole('button', { name: 'Presets' }).click();
  await page.getByTestId(`preset-${name}`).click();
  await expect.poll(() => page.getByTestId('total-params').textContent()).toBe(params);
}

async function menuOn(
  page: Page,
  target: Locator | { x: number; y: number },
  item: string,
): Promise<void> {
  if ('x' in target) await page.mouse.click(target.x, target.y, { button: 'right' });
  else await target.click({ button: 'right' });
  await page.getByRole('menuitem', { name: item }).click();
}

/**
 * Double-clicks a card until what it opens is shown: a view settling after a
 * preset opens may still move the card under the first click.
 */
async function openByDoubleClick(page: Page, id: string, opened: () => Promise<boolean>) {
  await expect
    .poll(async () => {
      if (!(await opened()))
        await node(page, id)
          .dblclick({ timeout: 2000 })
          .catch(() => undefined);
      return opened();
    })
    .toBe(true);
}

/** Types into the layer picker and takes the first match. */
async function pick(page: Page, query: string): Promise<void> {
  const search = page.getByRole('searchbox', { name: 'Search layers to insert' });
  await search.fill(query);
  await search.press('Enter');
}

/** The sources feeding `target`, from the canvas's edges. */
async function inputsOf(page: Page, target: string): Promise<string[]> {
  const ids = await page
    .getByTestId('canvas')
    .locator('.react-flow__edge')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
  return ids
    .map((id) => id.split('#')[0].split('->'))
    .flatMap(([s, t]) => (t === target ? [s] : []));
}

describe('the editor as a new user meets it (1440×900)', () => {
  it('opens LeNet, ResNet-18 and DenseNet whole, and blocks’ insides, at a zoom where the cards can be read', async () => {
    const { page } = session;
    await expect.poll(() => page.getByTestId('total-params').textContent()).toBe('61,706');
    await expect.poll(async () => (await nodeIds(page)).length).toBe(13);
    await expectWholeAndReadable(page);
    await openPreset(page, 'resnet18', '11,178,378');
    await expectWholeAndReadable(page);
    // A catalog block's inside opens fitted and readable too.
    await openByDoubleClick(page, 'b2', async () => (await nodeIds(page)).join() === 'input,0,1');
    await expect.poll(() => nodeShape(page, '0').textContent()).toBe('1×64×24×24');
    const view = page.getByRole('dialog', { name: 'Inside the block' });
    await openByDoubleClick(page, '0', () => view.isVisible());
    await expectWholeAndReadable(page, view.locator('.block-canvas'));
    await view.getByRole('button', { name: 'Close' }).click();
    await page
      .getByRole('navigation', { name: 'Editing inside' })
      .getByRole('button', { name: 'Project' })
      .click();
    // A DenseBlock skips over every unit: it still opens readable, folded where a layer forks.
    await openPreset(page, 'densenet', '758,226');
    await expectWholeAndReadable(page);
    await openByDoubleClick(page, 'dense_blk1', () => view.isVisible());
    await expectWholeAndReadable(page, view.locator('.block-canvas'));
    await view.getByRole('button', { name: 'Close' }).click();
    await openPreset(page, 'lenet', '61,706');
  });

  it('lays the graph out left to right and back; the file keeps the choice', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Lay out left to right' }).click();
    await expect
      .poll(() => node(page, 'conv1').locator('.react-flow__handle-left').count())
      .toBe(1);
    const [a, b] = await Promise.all([
      node(page, 'input').boundingBox(),
      node(page, 'conv1').boundingBox(),
    ]);
    expect(b!.x).toBeGreaterThan(a!.x + a!.width);
    await expectWholeAndReadable(page);
    await page.getByRole('button', { name: 'Save as…' }).click();
    await page.getByTestId('save-name').fill('sideways.json');
    await page.getByRole('button', { name: 'Save', exact: true }).last().click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toContain('sideways');
    const saved = JSON.parse(
      await readFile(path.join(session.studio.folder, 'sideways.json'), 'utf8'),
    );
    expect(saved.ui.layoutDirection).toBe('LR');
    await page.getByRole('button', { name: 'Lay out top-down' }).click();
    await expect.poll(() => node(page, 'conv1').locator('.react-flow__handle-top').count()).toBe(1);
  });

  it('inserts layers from the context menu: after a layer, on a connection, on the canvas', async () => {
    const { page } = session;
    await menuOn(page, node(page, 'sigmoid1'), 'Insert layer after…');
    await pick(page, 'BatchNorm2d');
    await expect.poll(() => inputsOf(page, 'pool1')).toEqual(['bn1']);
    expect(await inputsOf(page, 'bn1')).toEqual(['sigmoid1']);
    await expect.poll(() => nodeShape(page, 'bn1').textContent()).toBe('1×6×28×28');

    await menuOn(page, await edgeMidpoint(page, 'conv2', 'sigmoid2'), 'Insert layer here…');
    await pick(page, 'ReLU');
    await expect.poll(() => inputsOf(page, 'sigmoid2')).toEqual(['relu1']);
    expect(await inputsOf(page, 'relu1')).toEqual(['conv2']);

    await menuOn(page, page.locator('.react-flow__pane'), 'Add layer here…');
    await pick(page, 'Dropout');
    // A layer just added is not an error: it says calmly that it is not connected.
    await expect.poll(() => nodeShape(page, 'dropout1').textContent()).toBe('not connected');
    expect(await node(page, 'dropout1').getByTestId('node-error').count()).toBe(0);
    expect(await node(page, 'dropout1').getAttribute('class')).not.toContain('has-error');
    await expect.poll(() => page.getByTestId('total-params').textContent()).toBe('61,718');
  });

  it('groups, ungroups and deletes from the context menu, and undo takes it back', async () => {
    const { page } = session;
    const before = await nodeIds(page);
    await node(page, 'conv1').click();
    await node(page, 'sigmoid1').click({ modifiers: ['Control'] });
    await menuOn(page, node(page, 'sigmoid1'), 'Group into block…');
    await page.getByLabel('block name').fill('pair');
    await page.getByRole('button', { name: 'Group into block', exact: true }).click();
    await expect.poll(() => nodeIds(page)).toContain('pair1');
    expect(await page.getByTestId('total-params').textContent()).toBe('61,718');
    await menuOn(page, node(page, 'pair1'), 'Ungroup block');
    await expect.poll(async () => (await nodeIds(page)).sort()).toEqual([...before].sort());
    expect(await inputsOf(page, 'conv1')).toEqual(['input']);
    expect(await page.getByTestId('palette-block:pair').count()).toBe(0);
    await menuOn(page, node(page, 'dropout1'), 'Delete');
    await expect.poll(() => nodeIds(page)).not.toContain('dropout1');
    await leaveFields(page);
    await page.keyboard.press('Control+z');
    await expect.poll(() => nodeIds(page)).toContain('dropout1');
  });

  it('edits a block of one’s own in place: every use changes, shapes are live, undo works', async () => {
    const { page } = session;
    await openPreset(page, 'lenet', '61,706');
    await node(page, 'conv2').click();
    await node(page, 'sigmoid2').click({ modifiers: ['Control'] });
    await leaveFields(page);
    await page.keyboard.press('Control+g');
    await page.getByLabel('block name').fill('stage');
    await page.keyboard.press('Enter');
    await expect.poll(() => nodeIds(page)).toContain('stage1');
    // A second use, dropped onto the first: connected after it.
    await node(page, 'stage1').click();
    const second = await dropLayer(page, 'block:stage', { onto: node(page, 'stage1') });
    await expect.poll(() => nodeShape(page, second).textContent()).toBe('1×16×6×6');

    await menuOn(page, node(page, 'stage1'), 'Open block');
    await expect.poll(() => page.getByTestId('block-uses').textContent()).toContain('used 2 times');
    await node(page, 'conv2').click();
    await setField(page, 'out_channels', '8');
    await expect.poll(() => nodeShape(page, 'conv2').textContent()).toBe('1×8×10×10');
    const bn = await dropLayer(page, 'BatchNorm2d', {
      point: await edgeMidpoint(page, 'conv2', 'sigmoid2'),
    });
    await expect.poll(() => inputsOf(page, 'sigmoid2')).toEqual([bn]);
    await expect.poll(() => nodeShape(page, bn).textContent()).toBe('1×8×10×10');
    // Deleting and connecting inside the block, as on the main canvas.
    await menuOn(page, node(page, bn), 'Delete');
    await expect.poll(() => nodeShape(page, 'sigmoid2').textContent()).toBe('not connected');
    await connect(page, 'conv2', 'sigmoid2');
    await expect.poll(() => nodeShape(page, 'sigmoid2').textContent()).toBe('1×8×10×10');
    const bn2 = await dropLayer(page, 'BatchNorm2d', {
      point: await edgeMidpoint(page, 'conv2', 'sigmoid2'),
    });

    await page
      .getByRole('navigation', { name: 'Editing inside' })
      .getByRole('button', { name: 'Project' })
      .click();
    await expect.poll(() => nodeShape(page, 'stage1').textContent()).toBe('1×8×10×10');
    await expect.poll(() => nodeShape(page, second).textContent()).toBe('1×8×6×6');
    // Undo goes back through the edits inside: the last one took the BatchNorm back.
    await leaveFields(page);
    await page.keyboard.press('Control+z');
    await node(page, 'stage1').dblclick();
    await expect.poll(() => nodeIds(page)).not.toContain(bn2);
    expect(await inputsOf(page, 'sigmoid2')).toEqual(['conv2']);
    await page
      .getByRole('navigation', { name: 'Editing inside' })
      .getByRole('button', { name: 'Project' })
      .click();
    await leaveFields(page);
    for (let i = 0; i < 4; i++) await page.keyboard.press('Control+z');
    await expect.poll(() => nodeShape(page, second).textContent()).toBe('1×16×6×6');
    // A third use, from the layer's menu.
    const uses = async () =>
      (await page.locator('[data-node-id]').allTextContents()).filter((t) => t.startsWith('stage'))
        .length;
    expect(await uses()).toBe(2);
    await menuOn(page, node(page, 'stage1'), 'Duplicate');
    await expect.poll(uses).toBe(3);
  });

  it('resizes and collapses the summary; a row brings its layer into view', async () => {
    const { page } = session;
    await openPreset(page, 'lenet', '61,706');
    await expectWholeAndReadable(page);
    const summary = page.getByRole('region', { name: 'Layer summary' });
    const before = (await summary.boundingBox())!;
    const grip = (await page.getByTestId('summary-resize').boundingBox())!;
    await page.mouse.move(grip.x + 200, grip.y + 2);
    await page.mouse.down();
    await page.mouse.move(grip.x + 200, grip.y - 150, { steps: 8 });
    await page.mouse.up();
    await expect
      .poll(async () => (await summary.boundingBox())!.height)
      .toBeGreaterThan(before.height + 140);

    // Zoomed all the way in (2:1), LeNet's last layer is out of view.
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Zoom in' }).click();
        return zoom(page);
      })
      .toBeCloseTo(2, 1);
    const canvas = page.getByTestId('canvas');
    await expect
      .poll(async () =>
        inside((await node(page, 'fc3').boundingBox())!, (await canvas.boundingBox())!),
      )
      .toBe(false);
    await page.getByTestId('summary-fc3').click();
    // In view, and not under the map.
    const map = (await page.locator('.minimap').boundingBox())!;
    await expect
      .poll(async () => {
        const card = (await node(page, 'fc3').boundingBox())!;
        return inside(card, (await canvas.boundingBox())!) && !overlap(card, map);
      })
      .toBe(true);
    // A row whose layer is in view but under the map brings it out too.
    await page.getByRole('button', { name: 'Fit' }).click();
    await page.waitForTimeout(400);
    const under = async () => overlap((await node(page, 'fc2').boundingBox())!, map);
    const pane = (await canvas.boundingBox())!;
    const card = (await node(page, 'fc2').boundingBox())!;
    await page.mouse.move(pane.x + 20, pane.y + 20);
    await page.mouse.down();
    await page.mouse.move(
      pane.x + 20 + map.x + map.width / 2 - (card.x + card.width / 2),
      pane.y + 20 + map.y + map.height / 2 - (card.y + card.height / 2),
      { steps: 10 },
    );
    await page.mouse.up();
    await expect.poll(under).toBe(true);
    await page.getByTestId('summary-fc2').click();
    await expect.poll(under).toBe(false);
    expect(await page.getByTestId('inspector').locator('h2').textContent()).toBe('Linear');

    await page.getByTestId('summary-toggle').click();
    await expect.poll(() => page.getByTestId('summary-conv1').count()).toBe(0);
    expect(await page.getByTestId('total-params').textContent()).toBe('61,706');
    await expect.poll(async () => (await summary.boundingBox())!.height).toBeLessThan(80);
    await page.getByTestId('summary-toggle').click();
    await expect.poll(() => page.getByTestId('summary-conv1').count()).toBe(1);
  });

  it('moves the view to where the map is clicked', async () => {
    const { page } = session;
    const viewport = page.getByTestId('canvas').locator('.react-flow__viewport');
    const transform = () => viewport.evaluate((el) => (el as HTMLElement).style.transform);
    const before = await transform();
    const map = (await page.locator('.minimap').boundingBox())!;
    await page.mouse.click(map.x + map.width * 0.2, map.y + map.height * 0.8);
    await expect.poll(transform).not.toBe(before);
  });

  it('takes a connection dropped near a port; a layer dropped onto a connection goes there, and one dropped with a layer selected follows it', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    const conv = await dropLayer(page, 'Conv2d', { fx: 0.3, fy: 0.7 });
    await expect.poll(() => nodeShape(page, conv).textContent()).toBe('not connected');
    // 9 px off the ports' centres: still on them.
    await connect(page, 'input', conv, 9);
    await expect.poll(() => nodeShape(page, conv).textContent()).toBe('1×6×26×26');
    const relu = await dropLayer(page, 'ReLU', { point: await edgeMidpoint(page, 'input', conv) });
    await expect.poll(() => inputsOf(page, conv)).toEqual([relu]);
    expect(await inputsOf(page, relu)).toEqual(['input']);
    // Dropped anywhere while a layer is selected: connected after it.
    await node(page, conv).click();
    const pool = await dropLayer(page, 'MaxPool2d', { fx: 0.85, fy: 0.2 });
    await expect.poll(() => inputsOf(page, pool)).toEqual([conv]);
    await expect.poll(() => nodeShape(page, pool).textContent()).toBe('1×6×13×13');
  });

  it('sends a problem inside a Residual to the block’s own use_1x1conv, which fixes it', async () => {
    const { page } = session;
    await openPreset(page, 'lenet', '61,706');
    // After conv1's 6 channels, a Residual of 64 cannot add its input to its convolutions.
    await menuOn(page, node(page, 'conv1'), 'Insert layer after…');
    await pick(page, 'Residual');
    await expect
      .poll(() => node(page, 'residual1').getByTestId('node-error').textContent())
      .toMatch(/^the convolutions give 1×64×28×28 but the skip connection .* 1×6×28×28/);
    // The error card keeps its size: it does not grow over the card below.
    expect(overlaps(await cardBoxes(page.getByTestId('canvas')))).toEqual([]);
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    const problems = page.locator('.issues li');
    await expect
      .poll(() => problems.allTextContents())
      .toEqual([expect.stringMatching(/^residual1 .*turn on use_1x1conv/)]);
    await problems.getByRole('button', { name: 'residual1' }).click();
    expect(await page.getByTestId('inspector').locator('h2').textContent()).toBe('Residual');
    const field = page.getByTestId('field-use_1x1conv');
    await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true);
    await field.check();
    await expect.poll(() => nodeShape(page, 'residual1').textContent()).toBe('1×64×28×28');
    expect(await page.getByTestId('node-error').count()).toBe(0);
    // A catalog block ungroups into its layers, the network unchanged.
    const params = await page.getByTestId('total-params').textContent();
    await menuOn(page, node(page, 'residual1'), 'Ungroup block');
    await expect.poll(() => nodeIds(page)).not.toContain('residual1');
    expect(await page.getByTestId('total-params').textContent()).toBe(params);
    expect(await page.getByTestId('node-error').count()).toBe(0);
    expect(await nodeIds(page)).toEqual(expect.arrayContaining(['add', 'relu2']));
  });

  it('says before training that a 7-output network does not fit the data, and where to fix it', async () => {
    const { page } = session;
    await openPreset(page, 'lenet', '61,706');
    await node(page, 'fc3').click();
    await setField(page, 'out_features', '7');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const form = page.getByRole('region', { name: 'Training settings' });
    await form.locator('select[name=dataset]').selectOption('sample');
    const train = page.getByRole('button', { name: '▶ Train' });
    await expect.poll(() => train.isDisabled()).toBe(true);
    // Before any run: what a run would do, not "Batch 0 / 1".
    await expect
      .poll(() => page.getByTestId('run-facts').textContent())
      .toMatch(/^No run yet\. ▶ Train runs \d+ epochs of \d+ batches of \d+ \(/);
    expect(await train.getAttribute('title')).toMatch(/^Cannot train: the network's output/);
    const notice = page.getByTestId('output-mismatch');
    await expect
      .poll(() => notice.textContent())
      .toMatch(/the network ends in 1×7 but .+ has 10 classes/);
    await notice.getByRole('button', { name: 'Show it in the editor' }).click();
    const field = page.getByTestId('field-out_features');
    await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.getByTestId('inspector').locator('h2').textContent()).toBe('Linear');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('export-output-note').textContent())
      .toMatch(/ends in 1×7 but .+ has 10 classes/);
    await page.keyboard.press('Escape');
  });

  it('trains with a step schedule and augmented training images, set in the Train form', async () => {
    const { page } = session;
    await page.keyboard.press('Escape');
    await openPreset(page, 'lenet', '61,706');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const form = page.getByRole('region', { name: 'Training settings' });
    await fillRunSettings(page, { epochs: 2, batchSize: 32, limitTrain: 64, limitVal: 32 });
    // A schedule's settings appear with it.
    expect(await form.locator('input[name=stepSize]').count()).toBe(0);
    await form.locator('select[name=schedule]').selectOption('step');
    await form.locator('input[name=stepSize]').fill('1');
    await form.locator('input[name=gamma]').fill('0.5');
    expect(await form.locator('input[name=etaMin]').count()).toBe(0);
    await form.locator('input[name=cropPadding]').fill('4');
    await form.locator('input[name=flip]').check();
    await page.getByRole('button', { name: '▶ Train' }).click();
    await expect
      .poll(() => page.getByTestId('run-augmentation').textContent(), { timeout: 60_000 })
      .toBe('training images cropped (padding 4) and flipped at random');
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 120_000 })
      .toBe('Finished');
    // The run records both: the augmentation when it starts, each epoch's learning rate.
    const runs = path.join(session.studio.folder, 'runs');
    const [run] = await readdir(runs);
    const events = (await readFile(path.join(runs, run, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events[0].augmentation).toEqual({ cropPadding: 4, flip: true });
    expect(events.filter((e) => e.event === 'epoch').map((e) => e.lr)).toEqual([0.1, 0.05]);
    await page.getByRole('button', { name: 'Design', exact: true }).click();
  });

  it('raised no errors in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
