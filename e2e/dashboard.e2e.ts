/**
 * The training dashboard and the evaluation views in real Chromium through the
 * web host: a short LeNet run on the bundled sample data, the curves growing,
 * pause and resume, stop, then the confusion matrix and the feature maps.
 * Screenshots of each view go to docs/images/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { expect, it } from 'vitest';
import { decodeSafetensors } from '../src/core/weights/safetensors';
import { chromium, describeWith } from '../test/support/requirements';
import {
  chartPoints,
  type DashboardSession,
  fillRunSettings,
  openDashboard,
} from './dashboard-session';

const IMAGES = path.resolve(import.meta.dirname, '../docs/images');

describeWith([chromium], 'training dashboard in the browser', () => {
  let session: DashboardSession;

  it('trains LeNet with live curves, pauses, resumes and stops', async () => {
    session = await openDashboard('lenet');
    const { page } = session;
    // Tall enough for the whole Train area (curves, layer statistics) in the screenshot.
    await page.setViewportSize({ width: 1440, height: 1640 });
    mkdirSync(IMAGES, { recursive: true });

    // The course's LeNet settings come with the preset.
    const form = page.getByRole('region', { name: 'Training settings' });
    await expect.poll(() => form.locator('input[name=lr]').inputValue()).toBe('0.1');
    await expect.poll(() => form.locator('input[name=batchSize]').inputValue()).toBe('128');
    await expect.poll(() => page.getByTestId('dataset-source').textContent()).toMatch(/from /);
    await expect
      .poll(() => page.getByRole('list', { name: 'Backends on this machine' }).textContent())
      .toMatch(/CPU/);

    // Adam gets the sigmoid LeNet off its plateau within a few epochs on 1,024 images,
    // where the course's SGD needs many more: the curves then show learning.
    await fillRunSettings(page, {
      epochs: 40,
      batchSize: 32,
      limitTrain: 1024,
      limitVal: 256,
      optimizer: 'adam',
      lr: 0.005,
    });
    await page.getByRole('button', { name: '▶ Train' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 })
      .toBe('Training');
    await expect.poll(() => page.getByTestId('run-backend').textContent()).toMatch(/on \w+/);

    await expect.poll(() => chartPoints(page), { timeout: 60_000 }).toBeGreaterThan(5);
    const early = await chartPoints(page);
    await expect.poll(() => chartPoints(page), { timeout: 60_000 }).toBeGreaterThan(early + 5);
    await expect
      .poll(
        () => page.getByRole('region', { name: 'Layer statistics' }).locator('tbody tr').count(),
        {
          timeout: 60_000,
        },
      )
      .toBeGreaterThan(5);

    await page.getByRole('button', { name: '❚❚ Pause' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 })
      .toBe('Paused');
    // The chart draws on the next animation frame after the status changes.
    await page.waitForTimeout(500);
    const paused = await chartPoints(page);
    await page.waitForTimeout(1500);
    expect(await chartPoints(page)).toBe(paused);

    await page.getByRole('button', { name: '▶ Resume' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 })
      .toBe('Training');
    await expect.poll(() => chartPoints(page), { timeout: 60_000 }).toBeGreaterThan(paused + 3);
    // Six epochs done, so the per-epoch curves show the loss falling.
    await expect
      .poll(() => page.getByTestId('run-facts').textContent(), { timeout: 180_000 })
      .toMatch(/Epoch (7|8|9|\d\d) /);
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-train.png'), fullPage: true });

    await page.getByRole('button', { name: '■ Stop' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 })
      .toBe('Stopped');
  });

  it('shows the confusion matrix, misclassified images and feature maps of the run', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await expect.poll(() => page.locator('select[name=weights]').inputValue()).not.toBe('initial');
    await page.locator('input[name=evaluate-limit]').fill('256');
    await page.getByRole('button', { name: 'Classify test images' }).click();
    const matrix = page.getByTestId('confusion-matrix');
    await matrix.waitFor({ timeout: 60_000 });
    expect(await matrix.locator('tbody tr').count()).toBe(10);
    const counts = await matrix.locator('td').allTextContents();
    expect(counts).toHaveLength(100);
    expect(counts.reduce((a, c) => a + Number(c || 0), 0)).toBe(256);
    expect(await page.getByTestId('per-class-accuracy').locator('li').count()).toBe(10);
    // The trained weights are the ones evaluated: far better than chance (10%).
    const headline = (await page.getByTestId('evaluation-accuracy').textContent()) ?? '';
    expect(Number(/Accuracy ([\d.]+)%/.exec(headline)?.[1])).toBeGreaterThan(30);

    await page.getByTestId('misclassified').locator('button').first().click();
    const maps = page.getByTestId('feature-maps');
    await maps.waitFor({ timeout: 60_000 });
    expect(await maps.locator('.layer-maps').count()).toBeGreaterThan(8);
    expect(await maps.locator('canvas').count()).toBeGreaterThan(20);
    expect(await page.getByTestId('kernels').locator('canvas').count()).toBe(6);
    expect(await page.getByTestId('top-predictions').locator('li').count()).toBe(5);
    await page.setViewportSize({ width: 1440, height: 1290 });
    await page.locator('.evaluate-view').evaluate((e) => e.scrollTo(0, 0));
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-evaluate.png') });
    // Tall enough for every layer's maps and the kernels below them.
    await page.setViewportSize({ width: 1440, height: 2400 });
    await page.locator('.evaluate-view').evaluate((e) => e.scrollTo(0, e.scrollHeight));
    const inspect = (await page.getByRole('region', { name: 'Inspect an image' }).boundingBox())!;
    const kernels = (await page
      .getByRole('region', { name: 'First-layer kernels' })
      .boundingBox())!;
    await page.screenshot({
      path: path.join(IMAGES, 'dashboard-feature-maps.png'),
      clip: {
        x: 0,
        y: inspect.y - 8,
        width: 1440,
        height: kernels.y + kernels.height - inspect.y + 16,
      },
    });

    await page.getByRole('button', { name: 'Random noise' }).click();
    await expect
      .poll(() => page.locator('.inspect .probe .hint').textContent())
      .toBe('Uniform noise');

    // A picture of the user's own: a dark bag-like shape on a light background.
    await page.locator('input[name=probe-file]').setInputFiles({
      name: 'bag.png',
      mimeType: 'image/png',
      buffer: bagPicture(),
    });
    await expect
      .poll(() => page.locator('.inspect .probe .hint').textContent())
      .toBe('Your picture, as the network sees it');
    expect(await page.getByTestId('top-predictions').locator('li').count()).toBe(5);
    // Inverted (light on black, as Fashion-MNIST): the centre is bright, the corner dark.
    // The canvas is drawn in an effect after the text above renders: poll until it shows.
    const pixels = () =>
      page.locator('.inspect .probe canvas').evaluate((canvas: HTMLCanvasElement) => {
        const context = canvas.getContext('2d')!;
        return [
          context.getImageData(14, 14, 1, 1).data[0],
          context.getImageData(1, 1, 1, 1).data[0],
        ];
      });
    await expect.poll(async () => (await pixels())[0]).toBeGreaterThan(200);
    expect((await pixels())[1]).toBeLessThan(50);
  });

  it('trains with the CPU threads asked for, and overlays a past run on the curves to compare', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const settings = { epochs: 1, batchSize: 64, limitTrain: 256, limitVal: 128, threads: 2 };
    await fillRunSettings(page, settings);
    await page.getByRole('button', { name: '▶ Train' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 })
      .toBe('Finished');
    expect(await page.getByTestId('run-backend').textContent()).toMatch(
      /on wasm · wasm SIMD, 2 threads/,
    );
    const legend = page.getByTestId('curves-chart').locator('.u-legend .u-series');
    const before = await legend.count();
    const runs = page.getByRole('region', { name: 'Past runs' });
    await expect.poll(() => runs.locator('tbody tr').count()).toBe(2);
    // Ticked once the run's metrics have been loaded from its folder.
    await runs.getByRole('checkbox').first().click();
    await expect.poll(() => runs.getByRole('checkbox').first().isChecked()).toBe(true);
    // The earlier run adds its batch loss, train loss, val loss and val accuracy.
    await expect.poll(() => legend.count()).toBe(before + 4);
    // A run's trained weights download to this computer (the web host's link, with its token).
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      runs
        .getByRole('link', { name: /Download the weights of run/ })
        .first()
        .click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/-weights\.safetensors$/);
    const weights = decodeSafetensors(new Uint8Array(readFileSync((await download.path())!)));
    expect(weights.tensors.has('conv1.weight')).toBe(true);
    expect(session.pageErrors).toEqual([]);
    await session.close();
  });
});

/** A 60×80 PNG: white, with a dark grey rectangle and handle in the middle. */
function bagPicture(): Buffer {
  const png = new PNG({ width: 60, height: 80 });
  for (let y = 0; y < 80; y++) {
    for (let x = 0; x < 60; x++) {
      const body = x >= 10 && x < 50 && y >= 30 && y < 70;
      const handle = y >= 15 && y < 30 && (x === 20 || x === 39 || (y === 15 && x > 20 && x < 39));
      const v = body || handle ? 40 : 250;
      png.data.set([v, v, v, 255], (y * 60 + x) * 4);
    }
  }
  return PNG.sync.write(png);
}
