/**
 * A studio started without a project, as `convnet-studio serve` alone: the
 * start page over a ready LeNet; then the file a user saves follows them
 * through reloads, names the window and the exports, and comes back as a
 * recent file on the next start.
 */
import { describe, expect, it } from 'vitest';
import { nodeIds, studioPageForFile } from './support/studio';

const session = studioPageForFile(undefined, { width: 1440, height: 900 });

describe('a new studio and the files a user saves', () => {
  it('opens on the start page, with LeNet ready behind it', async () => {
    const { page } = session;
    const start = page.getByRole('dialog', { name: 'Start' });
    await expect.poll(() => start.count()).toBe(1);
    expect(await page.getByTestId('doc-title').textContent()).toContain('LeNet-5');
    await expect.poll(() => start.getByTestId('preset-resnet18').count()).toBe(1);
    await start.getByRole('button', { name: 'Continue with LeNet-5' }).click();
    await expect.poll(() => start.count()).toBe(0);
    expect((await nodeIds(page)).length).toBe(13);
  });

  it('names the project and its exports after the file it is saved as', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toContain('Untitled');
    await page.getByRole('button', { name: 'Save as…' }).click();
    await page.getByTestId('save-name').fill('my-scratch');
    await page.getByRole('button', { name: 'Save', exact: true }).last().click();
    await expect
      .poll(() => page.getByTestId('doc-title').textContent())
      .toBe('my-scratch — my-scratch.json');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    await expect
      .poll(() => dialog.getByTestId('export-folder').inputValue())
      .toMatch(/^exports\/my-scratch-/);
    await page.keyboard.press('Escape');
  });

  it('opens the same file again after a reload, without the start page', async () => {
    const { page } = session;
    await page.reload();
    await expect
      .poll(() => page.getByTestId('doc-title').textContent())
      .toBe('my-scratch — my-scratch.json');
    expect(await page.getByRole('dialog', { name: 'Start' }).count()).toBe(0);
  });

  it('offers the file among the recent ones on the next start', async () => {
    const next = await session.browser.newPage({ viewport: { width: 1440, height: 900 } });
    await next.goto(session.studio.url);
    const start = next.getByRole('dialog', { name: 'Start' });
    await start.getByTestId('recent-my-scratch.json').click();
    await expect
      .poll(() => next.getByTestId('doc-title').textContent())
      .toBe('my-scratch — my-scratch.json');
    await next.close();
  });

  it('raised no errors in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
