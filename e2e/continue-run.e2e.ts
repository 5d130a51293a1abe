/**
 * A run the studio's crash interrupted continues from the runs list: the web
 * host is killed (-9) after the run's first epoch, started again on the same
 * project folder, and the run, shown as interrupted, continues from its
 * checkpoint to its last epoch.
 */
import { afterAll, expect, it } from 'vitest';
import { chromium, describeWith } from '../test/support/requirements';
import { fillRunSettings } from './dashboard-session';
import { launchChromium, type Studio, startStudio } from './support/studio';

describeWith([chromium], 'a run interrupted by a crash', () => {
  const studios: Studio[] = [];
  afterAll(async () => {
    for (const studio of studios) await studio.stop();
  });

  it('continues from its checkpoint with the Continue button', async () => {
    const browser = await launchChromium();
    try {
      const first = await startStudio({ project: 'lenet' });
      studios.push(first);
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      await page.goto(first.url);
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await fillRunSettings(page, { epochs: 3, batchSize: 32, limitTrain: 256, limitVal: 64 });
      await page.getByRole('button', { name: '▶ Train' }).click();
      // The first epoch is done and checkpointed: the host dies.
      await expect
        .poll(() => page.getByTestId('run-facts').textContent(), { timeout: 120_000 })
        .toMatch(/Epoch [23] /);
      await first.kill();

      const second = await startStudio({ project: 'lenet', folder: first.folder });
      studios.push(second);
      await page.goto(second.url);
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      const runs = page.getByRole('region', { name: 'Past runs' });
      await expect
        .poll(() => runs.locator('tbody tr').first().textContent())
        .toMatch(/interrupted/);
      await runs.getByRole('button', { name: /^Continue run / }).click();
      await expect
        .poll(() => page.getByTestId('run-status').textContent(), { timeout: 120_000 })
        .toBe('Finished');
      await expect
        .poll(() => runs.locator('tbody tr').first().textContent())
        .toMatch(/done.*3 \/ 3/);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
