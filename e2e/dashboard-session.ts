/**
 * The studio in real Chromium for the dashboard's end-to-end test and frame
 * benchmark: the web host (`convnet-studio serve`, training in its worker)
 * with a fresh project folder, the LeNet preset open in the Train area.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium, type Studio, startStudio } from './support/studio';

export interface DashboardSession {
  page: Page;
  browser: Browser;
  studio: Studio;
  pageErrors: string[];
  close(): Promise<void>;
}

export interface RunSettings {
  /** Default: the bundled sample. */
  dataset?: string;
  epochs: number;
  batchSize: number;
  limitTrain: number;
  limitVal: number;
  lr?: number;
  optimizer?: 'sgd' | 'adam';
  /** CPU threads for wasm (default: left empty, the idle cores). */
  threads?: number;
}

export async function openDashboard(
  preset = 'lenet',
  env?: Record<string, string>,
): Promise<DashboardSession> {
  const [studio, browser] = await Promise.all([
    startStudio({ project: preset, env }),
    launchChromium(),
  ]);
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(studio.url);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.getByRole('region', { name: 'Training settings' }).waitFor();
  return {
    page,
    browser,
    studio,
    pageErrors,
    async close() {
      await browser.close();
      await studio.stop();
    },
  };
}

/** Chooses the dataset (the sample unless named) and the given settings in the Train panel. */
export async function fillRunSettings(page: Page, settings: RunSettings): Promise<void> {
  const form = page.getByRole('region', { name: 'Training settings' });
  await form.locator('select[name=dataset]').selectOption(settings.dataset ?? 'sample');
  await form.locator('select[name=backend]').selectOption('auto');
  if (settings.optimizer)
    await form.locator('select[name=optimizer]').selectOption(settings.optimizer);
  const fields: [string, number | undefined][] = [
    ['epochs', settings.epochs],
    ['batchSize', settings.batchSize],
    ['limitTrain', settings.limitTrain],
    ['limitVal', settings.limitVal],
    ['lr', settings.lr],
    ['threads', settings.threads],
  ];
  for (const [name, value] of fields) {
    if (value !== undefined) await form.locator(`input[name=${name}]`).fill(String(value));
  }
}

/** How many x positions the curves chart holds (it grows with every batch drawn). */
export async function chartPoints(page: Page): Promise<number> {
  return Number((await page.getByTestId('curves-chart').getAttribute('data-points')) ?? 0);
}
