import { describe, expect, it } from 'vitest';
import {
  buildLeNetFromEmptyCanvas,
  dropProjectFile,
  groupIntoOwnBlock,
  keyboardEditing,
  newerFileIsRefused,
  openResNet18Preset,
  recoverAfterCrash,
  saveReloadAndReopen,
  shapeErrorAndUndo,
} from './flows';
import { nodeIds, nodeShape, studioPageForFile } from './support/studio';

const session = studioPageForFile('lenet');

describe('the studio in a browser (web host)', () => {
  it('opens with the preset given to the host', async () => {
    await expect.poll(() => session.page.getByTestId('doc-title').textContent()).toContain('LeNet');
    expect(await nodeIds(session.page)).toContain('input');
  });

  it('builds LeNet from an empty canvas by dragging and connecting, with the notes’ shapes', async () => {
    await buildLeNetFromEmptyCanvas(session.page);
  });

  it('shows a shape error on the node, and undo takes it back', async () => {
    const ids = await nodeIds(session.page);
    await shapeErrorAndUndo(session.page, ids[1], ids[2]);
  });

  it('saves, reloads and reopens the same graph', async () => {
    await saveReloadAndReopen(session.page, 'my-lenet.json');
  });

  it('refuses a file from a newer version with a clear message', async () => {
    await newerFileIsRefused(session.page, session.studio.folder);
  });

  it('opens the ResNet-18 preset as a laid-out graph and shows a block’s inside', async () => {
    await openResNet18Preset(session.page);
  });

  it('groups layers into a block of the user’s own', async () => {
    await groupIntoOwnBlock(session.page);
  });

  it('copies, pastes, deletes and undoes from the keyboard', async () => {
    await keyboardEditing(session.page);
  });

  it('opens a project file dropped onto the window, and explains a broken one', async () => {
    const project = {
      format: 'convnet-studio',
      version: 1,
      name: 'Dropped net',
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 3, height: 32, width: 32 } },
        { id: 'conv', type: 'Conv2d', params: { out_channels: 8, kernel_size: 3 } },
      ],
      edges: [{ source: 'input', target: 'conv' }],
    };
    await dropProjectFile(session.page, JSON.stringify(project), 'dropped.json');
    await expect
      .poll(() => session.page.getByTestId('doc-title').textContent())
      .toContain('Dropped net');
    await expect.poll(() => nodeShape(session.page, 'conv').textContent()).toBe('1×8×30×30');
    await dropProjectFile(
      session.page,
      '{"format": "convnet-studio", "version": 1, "nodes": [',
      'broken.json',
    );
    await expect
      .poll(() => session.page.getByTestId('notice').textContent())
      .toMatch(/broken.json is not valid JSON/);
    expect(await session.page.getByTestId('doc-title').textContent()).toContain('Dropped net');
    await session.page.getByTestId('notice').getByRole('button', { name: 'Dismiss' }).click();
  });

  it('offers unsaved work back after the page is lost', async () => {
    session.page = await recoverAfterCrash(session.page, async () => {
      const next = await session.browser.newPage({ viewport: { width: 1500, height: 950 } });
      next.on('pageerror', (err) => session.pageErrors.push(err.message));
      next.on('dialog', (dialog) => void dialog.accept());
      await next.goto(session.studio.url);
      return next;
    });
  });

  it('says so when the host goes away', async () => {
    await session.studio.stop();
    await expect
      .poll(() => session.page.getByTestId('notice').textContent())
      .toContain('Lost the connection to the studio host');
  });

  it('raised no errors in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
