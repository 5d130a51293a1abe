/**
 * PyTorch in the Train panel, in real Chromium through the web host: listed
 * with its torch version and device, chosen, a short run on the bundled
 * sample trains in PyTorch and says so, and its curves and weights are there
 * to evaluate. The screenshot goes to docs/images/train-pytorch.png.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { chromium, describeWith, pytorch } from '../test/support/requirements';
import { type DashboardSession, fillRunSettings, openDashboard } from './dashboard-session';

const IMAGES = path.resolve(import.meta.dirname, '../docs/images');

describeWith([chromium, pytorch], 'PyTorch as a backend in the browser', () => {
  let session: DashboardSession;

  it('lists PyTorch with its version and device, and trains with it', async () => {
    session = await openDashboard('lenet');
    const { page } = session;
    await page.setViewportSize({ width: 1440, height: 1100 });
    const entry = page.getByTestId('backend-pytorch');
    await expect
      .poll(() => entry.textContent(), { timeout: 60_000 })
      .toMatch(/^PyTorch \((CPU|CUDA)\) — .*torch \d+\.\d+\S* in \S+ \(Python 3/);
    await fillRunSettings(page, { epochs: 2, batchSize: 64, limitTrain: 512, limitVal: 128 });
    const form = page.getByRole('region', { name: 'Training settings' });
    await form.locator('select[name=backend]').selectOption('pytorch');
    await page.getByRole('button', { name: '▶ Train' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 90_000 })
      .toBe('Finished');
    await expect(page.getByTestId('run-backend').textContent()).resolves.toMatch(
      /^on pytorch · (CPU|CUDA)/,
    );
    await expect(page.getByTestId('backend-note').textContent()).resolves.toMatch(
      /^PyTorch: torch \d/,
    );
    await page.screenshot({ path: path.join(IMAGES, 'train-pytorch.png') });
    expect(session.pageErrors).toEqual([]);
    await session.close();
  });
});
