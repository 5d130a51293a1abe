/**
 * A dataset that is nowhere on this computer, in real Chromium through the web
 * host: the Train panel offers it for download (listing it downloads nothing),
 * and starting a run downloads it with a progress bar before training starts.
 * The "download" is served slowly from this process, from the bundled sample.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, describeWith } from '../test/support/requirements';
import { type DashboardSession, fillRunSettings, openDashboard } from './dashboard-session';
import { repoRoot } from './support/studio';

const SAMPLE = path.join(repoRoot, 'resources/sample/fashion-mnist');
const IMAGES = path.resolve(import.meta.dirname, '../docs/images');

describeWith([chromium], 'downloading a dataset from the Train panel', () => {
  let server: Server;
  let baseUrl = '';
  let session: DashboardSession;
  const cache = mkdtempSync(path.join(os.tmpdir(), 'studio-e2e-cache-'));
  const requests: string[] = [];

  beforeAll(async () => {
    // 8 KiB every 40 ms: slow enough to watch the bar move.
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const file = path.join(SAMPLE, path.basename(req.url ?? ''));
      if (!existsSync(file)) return void res.writeHead(404).end();
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length });
      let offset = 0;
      const timer = setInterval(() => {
        res.write(bytes.subarray(offset, offset + 8192));
        offset += 8192;
        if (offset >= bytes.length) {
          clearInterval(timer);
          res.end();
        }
      }, 40);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist/`;
  });
  afterAll(async () => {
    await session?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(cache, { recursive: true, force: true });
  });

  it('offers MNIST for download, then downloads it with progress and trains on it', async () => {
    expect(
      existsSync('/usr/share/datasets/mnist'),
      'MNIST must not be installed for this test',
    ).toBe(false);
    session = await openDashboard('lenet', {
      CONVNET_STUDIO_CACHE: cache,
      CONVNET_STUDIO_DATASET_URL: baseUrl,
    });
    const { page } = session;
    const form = page.getByRole('region', { name: 'Training settings' });
    await form.locator('select[name=dataset]').selectOption('mnist');
    await expect
      .poll(() => page.getByTestId('dataset-source').textContent())
      .toBe(
        `Not on this computer yet: training downloads it first from ${baseUrl} into ${path.join(cache, 'datasets', 'mnist')}.`,
      );
    expect(requests).toEqual([]);

    await fillRunSettings(page, {
      dataset: 'mnist',
      epochs: 1,
      batchSize: 64,
      limitTrain: 256,
      limitVal: 128,
    });
    await page.getByRole('button', { name: '▶ Train' }).click();
    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 })
      .toBe('Downloading the dataset…');
    const bar = page.getByRole('progressbar', { name: 'Download' });
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 })
      .toBeGreaterThan(20);
    expect(await page.getByTestId('download-progress').textContent()).toMatch(
      new RegExp(
        `^train-images-idx3-ubyte\\.gz: [\\d.]+ (B|KiB|MiB) of \\d+\\.\\d (KiB|MiB) from ${baseUrl}`,
      ),
    );
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-download.png') });

    await expect
      .poll(() => page.getByTestId('run-status').textContent(), { timeout: 120_000 })
      .toBe('Finished');
    expect(requests.map((r) => path.basename(r)).sort()).toEqual([
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
    ]);
    expect(existsSync(path.join(cache, 'datasets', 'mnist', 'train-images-idx3-ubyte.gz'))).toBe(
      true,
    );
    expect(session.pageErrors).toEqual([]);
  });
});
