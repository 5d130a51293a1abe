/**
 * A studio in real Chromium for the dashboard's end-to-end test and frame
 * benchmark: the web host runs in this process (the UI built by Vite, the
 * real backend, training in its worker) with a fresh project folder, and the
 * page opens the LeNet preset in the Train area, ready to train on the
 * bundled sample dataset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createStudioBackend } from '../src/backend';
import { ensureRendererBuilt, webRendererDir } from '../src/server/renderer-build';
import { startWebHost, type WebHost } from '../src/server/web-host';

export const CHROMIUM = '/usr/bin/chromium';

export interface DashboardSession {
  page: Page;
  browser: Browser;
  host: WebHost;
  projectFolder: string;
  close(): Promise<void>;
}

export interface RunSettings {
  epochs: number;
  batchSize: number;
  limitTrain: number;
  limitVal: number;
  lr?: number;
}

export async function openDashboard(preset = 'lenet'): Promise<DashboardSession> {
  await ensureRendererBuilt(() => undefined);
  const projectFolder = mkdtempSync(path.join(tmpdir(), 'dashboard-e2e-'));
  const host = await startWebHost({
    port: 0,
    host: '127.0.0.1',
    staticDir: webRendererDir,
    createApi: (push) =>
      createStudioBackend({
        host: 'web',
        version: 'e2e',
        projectFolder,
        stateFolder: path.join(projectFolder, '.state'),
        startup: { kind: 'preset', name: preset },
        push,
      }),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(host.url);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.getByRole('region', { name: 'Training settings' }).waitFor();
  return {
    page,
    browser,
    host,
    projectFolder,
    async close() {
      await browser.close();
      await host.close();
      rmSync(projectFolder, { recursive: true, force: true });
    },
  };
}

/** Chooses the sample dataset and the given settings in the Train panel. */
export async function fillRunSettings(page: Page, settings: RunSettings): Promise<void> {
  const form = page.getByRole('region', { name: 'Training settings' });
  await form.locator('select[name=dataset]').selectOption('sample');
  await form.locator('select[name=backend]').selectOption('auto');
  const fields: [string, number | undefined][] = [
    ['epochs', settings.epochs],
    ['batchSize', settings.batchSize],
    ['limitTrain', settings.limitTrain],
    ['limitVal', settings.limitVal],
    ['lr', settings.lr],
  ];
  for (const [name, value] of fields) {
    if (value !== undefined) await form.locator(`input[name=${name}]`).fill(String(value));
  }
}

/** How many x positions the curves chart holds (it grows with every batch drawn). */
export async function chartPoints(page: Page): Promise<number> {
  return Number((await page.getByTestId('curves-chart').getAttribute('data-points')) ?? 0);
}
