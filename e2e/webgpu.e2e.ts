/**
 * Training on WebGPU from the Train panel, in real Chromium through the web
 * host, whose training worker runs Dawn on SwiftShader: the compiled step by
 * default, the op-by-op path when the Backend section's "WebGPU step" asks
 * for it, and the Train area saying which one ran.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { chromium, describeWith, swiftshader } from '../test/support/requirements';
import { swiftshaderEnv } from '../test/support/swiftshader';
import { type DashboardSession, fillRunSettings, openDashboard } from './dashboard-session';

describeWith([chromium, swiftshader], 'training on WebGPU from the Train panel', () => {
  it('runs the compiled step, or op by op when chosen, and says which ran', async () => {
    const session: DashboardSession = await openDashboard('lenet', swiftshaderEnv);
    try {
      const { page } = session;
      const form = page.getByRole('region', { name: 'Training settings' });
      /** Trains one short epoch with this WebGPU step, until the Train area says it finished and what ran. */
      const train = async (step: 'compiled' | 'op-by-op', ran: RegExp) => {
        await fillRunSettings(page, { epochs: 1, batchSize: 32, limitTrain: 32, limitVal: 32 });
        await form.locator('select[name=backend]').selectOption('webgpu');
        await form.locator('select[name=webgpuStep]').selectOption(step);
        await page.getByRole('button', { name: '▶ Train' }).click();
        // Status and backend together: the previous run also ended 'Finished'.
        const state = async () =>
          `${await page.getByTestId('run-status').textContent()} | ${await page.getByTestId('run-backend').textContent()}`;
        await expect
          .poll(state, { timeout: 180_000 })
          .toMatch(new RegExp(`^Finished \\| ${ran.source}`, 'i'));
      };
      expect(await form.locator('select[name=webgpuStep]').inputValue()).toBe('compiled');
      await train('compiled', /on webgpu · Dawn\/Vulkan .*swiftshader.* · compiled step$/);
      // Asked for by name, the software adapter runs and the note says what it is.
      expect(await page.getByTestId('backend-note').textContent()).toMatch(/renders on the CPU/);
      await page.screenshot({ path: path.join(tmpdir(), 'train-webgpu.png'), fullPage: true });
      await train('op-by-op', /on webgpu · .* · op by op$/);
      expect(session.pageErrors).toEqual([]);
    } finally {
      await session.close();
    }
  }, 400_000);
});
