/**
 * The TF.js export in a real browser: Chromium loads the tfjs bundles from
 * node_modules and the exported files from a local HTTP server with plain
 * <script> tags, as the export's README says, and gives the studio's outputs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type Browser, chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getPreset } from '../../src/core/presets/index';
import { writeBundle } from '../../src/exporters/node-io';
import { exportTfjs } from '../../src/exporters/tfjs/export';
import { chromium, describeWith } from '../support/requirements';
import { layerZoo, relativeError, studioCase } from './fixtures';

const bundles: Record<string, string> = {
  '/tf-core.min.js': 'node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js',
  '/tf-backend-cpu.min.js': 'node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js',
  '/tf-layers.min.js': 'node_modules/@tensorflow/tfjs-layers/dist/tf-layers.min.js',
};
const page = `<!doctype html><meta charset="utf-8">
<script src="/tf-core.min.js"></script>
<script src="/tf-backend-cpu.min.js"></script>
<script src="/tf-layers.min.js"></script>
<script src="/export/convnet-studio-layers.js"></script>`;
const types: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json' };

let exportsDir = '';
let server: Server;
let browser: Browser;
let origin = '';

describeWith([chromium], 'TF.js export in Chromium', () => {
  beforeAll(async () => {
    exportsDir = mkdtempSync(join(tmpdir(), 'tfjs-browser-'));
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let file: string | undefined = bundles[url.pathname];
      if (url.pathname.startsWith('/export/'))
        file = join(exportsDir, normalize(url.pathname.slice(8)));
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(page);
        return;
      }
      try {
        const body = readFileSync(file ?? '');
        res
          .writeHead(200, { 'content-type': types[extname(file!)] ?? 'application/octet-stream' })
          .end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    origin = `http://127.0.0.1:${address.port}`;
    browser = await playwright.launch({ executablePath: '/usr/bin/chromium' });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    rmSync(exportsDir, { recursive: true, force: true });
  });

  for (const [name, project] of [
    ['layer zoo (every custom layer)', layerZoo()],
    ['lenet', getPreset('lenet')!.build()],
  ] as const) {
    it(`${name}: tf.loadLayersModel in the page gives the studio's outputs`, async () => {
      const c = await studioCase(name, project, 2);
      rmSync(exportsDir, { recursive: true, force: true });
      writeBundle(exportTfjs(c.input), exportsDir);
      const tab = await browser.newPage();
      try {
        await tab.goto(origin);
        const result = await tab.evaluate(
          async ({ x, shape }) => {
            const tf = (
              globalThis as unknown as {
                tf: typeof import('@tensorflow/tfjs-core') &
                  typeof import('@tensorflow/tfjs-layers');
              }
            ).tf;
            await tf.setBackend('cpu');
            const model = await tf.loadLayersModel('/export/model.json');
            const [n, ch, h, w] = shape;
            const input = tf.transpose(tf.tensor(x, [n, ch, h, w]), [0, 2, 3, 1]);
            const y = model.predict(input) as import('@tensorflow/tfjs-core').Tensor;
            return {
              data: Array.from(await y.data()),
              layers: model.layers.map((l) => l.getClassName()),
            };
          },
          { x: Array.from(c.x), shape: c.xShape },
        );
        expect(relativeError(result.data, c.expected)).toBeLessThan(1e-4);
        if (name.startsWith('layer zoo'))
          expect(result.layers).toEqual(
            expect.arrayContaining([
              'TorchConv2D',
              'TorchMaxPool2D',
              'TorchAvgPool2D',
              'TorchGELU',
            ]),
          );
      } finally {
        await tab.close();
      }
    });
  }
});
