import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith, FASHION_MNIST_DIR, fashionMnist } from '../../../test/support/requirements';
import { encodeIdx } from './idx';
import {
  batchIndices,
  type DataProgress,
  type Dataset,
  defaultCacheDir,
  FASHION_MNIST_CLASSES,
  loadDataset,
} from './index';

const SAMPLE_DIR = path.resolve(__dirname, '../../../resources/sample/fashion-mnist');
const FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
];

const scratch = mkdtempSync(path.join(os.tmpdir(), 'convnet-data-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => {
  const dir = path.join(scratch, `d${dirCount++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** A folder with the sample's four files, optionally one of them replaced. */
function copyOfSample(replace: Record<string, Uint8Array> = {}, gzip = true): string {
  const dir = freshDir();
  for (const f of FILES) {
    const bytes = replace[f] ?? readFileSync(path.join(SAMPLE_DIR, f));
    if (gzip) writeFileSync(path.join(dir, f), bytes);
    else writeFileSync(path.join(dir, f.replace(/\.gz$/, '')), gunzipSync(bytes));
  }
  return dir;
}

/** Typed arrays compared by their bytes (vitest's deep equality is slow on millions of elements). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** Options that look only where a test says (no real cache, no /usr/share). */
const isolated = () => ({ cacheDir: freshDir(), systemDirs: [] as string[] });

describe('the bundled sample', () => {
  let sample: Dataset;
  beforeAll(async () => {
    sample = await loadDataset({ dataset: 'sample' });
  });

  it('loads offline: 2,000 training and 500 test images of Fashion-MNIST', () => {
    expect(sample.info).toEqual({
      name: 'sample',
      source: 'the Fashion-MNIST sample bundled with the studio',
      trainSize: 2000,
      valSize: 500,
      classes: FASHION_MNIST_CLASSES,
      inputShape: [28, 28, 1],
    });
    expect(sample.train.images.length).toBe(2000 * 28 * 28);
    expect(sample.train.shape).toEqual([28, 28, 1]);
    expect(sample.val.count).toBe(500);
  });

  it('has pixels in [0, 1] and every class', () => {
    let min = 1;
    let max = 0;
    for (const v of sample.train.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([0, 1]);
    expect(new Set(sample.train.labels).size).toBe(10);
    expect(sample.train.labels).toBeInstanceOf(Int32Array);
  });

  it('is small enough to ship', () => {
    const bytes = FILES.reduce((sum, f) => sum + readFileSync(path.join(SAMPLE_DIR, f)).length, 0);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
  });
});

describeWith([fashionMnist], 'the real Fashion-MNIST', () => {
  let full: Dataset;
  beforeAll(async () => {
    full = await loadDataset({ dataset: 'fashion-mnist', cacheDir: freshDir() });
  });

  it(`is found in ${FASHION_MNIST_DIR} with 60,000 + 10,000 images of 28×28`, () => {
    expect(full.info).toMatchObject({
      name: 'fashion-mnist',
      source: FASHION_MNIST_DIR,
      trainSize: 60000,
      valSize: 10000,
      inputShape: [28, 28, 1],
      classes: FASHION_MNIST_CLASSES,
    });
    expect(full.train.count).toBe(60000);
    expect(full.val.images.length).toBe(10000 * 784);
  });

  it('has 6,000 training images per class, the first an ankle boot', () => {
    const perClass = new Array(10).fill(0);
    for (const l of full.train.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(6000));
    expect(FASHION_MNIST_CLASSES[full.train.labels[0]]).toBe('ankle boot');
  });

  it('the bundled sample is its first images, unchanged', async () => {
    const sample = await loadDataset({ dataset: 'sample' });
    expect(sameBytes(sample.train.images, full.train.images.subarray(0, 2000 * 784))).toBe(true);
    expect(sameBytes(sample.train.labels, full.train.labels.subarray(0, 2000))).toBe(true);
    expect(sameBytes(sample.val.images, full.val.images.subarray(0, 500 * 784))).toBe(true);
  });

  it('limitTrain and limitVal keep the first N', async () => {
    const limited = await loadDataset({
      dataset: 'fashion-mnist',
      cacheDir: freshDir(),
      limitTrain: 300,
      limitVal: 20,
    });
    expect([limited.train.count, limited.val.count]).toEqual([300, 20]);
    expect(limited.info.trainSize).toBe(60000);
    expect(sameBytes(limited.train.labels, full.train.labels.subarray(0, 300))).toBe(true);
    expect(sameBytes(limited.val.images, full.val.images.subarray(0, 20 * 784))).toBe(true);
  });
});

describe('where the files are looked for', () => {
  it('--data-dir first, gzip-compressed or not', async () => {
    for (const gzip of [true, false]) {
      const dir = copyOfSample({}, gzip);
      const data = await loadDataset({ dataset: 'fashion-mnist', dataDir: dir, ...isolated() });
      expect(data.info.source).toBe(dir);
      expect([data.train.count, data.val.count]).toEqual([2000, 500]);
    }
  });

  it('a <name>/ folder inside --data-dir', async () => {
    const parent = freshDir();
    const dir = copyOfSample();
    const inside = path.join(parent, 'fashion-mnist');
    mkdirSync(inside);
    for (const f of FILES) writeFileSync(path.join(inside, f), readFileSync(path.join(dir, f)));
    const data = await loadDataset({ dataset: 'fashion-mnist', dataDir: parent, ...isolated() });
    expect(data.info.source).toBe(inside);
  });

  it('then the cache folder ($CONVNET_STUDIO_CACHE), then the system folder', async () => {
    const previous = process.env.CONVNET_STUDIO_CACHE;
    const root = freshDir();
    process.env.CONVNET_STUDIO_CACHE = root;
    try {
      expect(defaultCacheDir()).toBe(path.join(root, 'datasets'));
      const system = freshDir();
      const sysCopy = copyOfSample();
      mkdirSync(path.join(system, 'mnist'));
      for (const f of FILES) {
        writeFileSync(path.join(system, 'mnist', f), readFileSync(path.join(sysCopy, f)));
      }
      const fromSystem = await loadDataset({ dataset: 'mnist', systemDirs: [system] });
      expect(fromSystem.info.source).toBe(path.join(system, 'mnist'));
      expect(fromSystem.info.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

      const cached = path.join(root, 'datasets', 'mnist');
      mkdirSync(cached, { recursive: true });
      for (const f of FILES)
        writeFileSync(path.join(cached, f), readFileSync(path.join(sysCopy, f)));
      const fromCache = await loadDataset({ dataset: 'mnist', systemDirs: [system] });
      expect(fromCache.info.source).toBe(cached);
    } finally {
      if (previous == null) delete process.env.CONVNET_STUDIO_CACHE;
      else process.env.CONVNET_STUDIO_CACHE = previous;
    }
  });
});

describe('downloading', () => {
  let server: Server;
  let baseUrl: string;
  const served = fashionMnist.available ? FASHION_MNIST_DIR : SAMPLE_DIR;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const name = path.basename(req.url ?? '');
      if (req.url?.startsWith('/broken/')) {
        const bytes = gzipSync(Buffer.from('not an idx file at all'));
        res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
        return;
      }
      if (req.url?.startsWith('/missing/') || !FILES.includes(name)) {
        res.writeHead(404).end();
        return;
      }
      const bytes = readFileSync(path.join(served, name));
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the four files into the cache with progress, then uses the cache', async () => {
    const options = isolated();
    const progress: DataProgress[] = [];
    const data = await loadDataset({
      dataset: 'fashion-mnist',
      ...options,
      baseUrl,
      limitTrain: 1000,
      onProgress: (p) => progress.push(p),
    });
    const cached = path.join(options.cacheDir, 'fashion-mnist');
    expect(data.info.source).toBe(`${cached} (downloaded from ${baseUrl})`);
    expect(data.train.count).toBe(1000);
    for (const f of FILES) {
      expect(
        sameBytes(readFileSync(path.join(cached, f)), readFileSync(path.join(served, f))),
      ).toBe(true);
      const events = progress.filter((p) => p.stage === 'download' && p.file === f);
      const last = events.at(-1) as Extract<DataProgress, { stage: 'download' }>;
      expect(last.loaded).toBe(last.total);
      expect(last.url).toBe(`${baseUrl}${f}`);
      expect(events[0].stage === 'download' && events[0].loaded).toBe(0);
    }
    requests.length = 0;
    const again = await loadDataset({
      dataset: 'fashion-mnist',
      ...options,
      baseUrl,
      limitTrain: 1,
    });
    expect(again.info.source).toBe(cached);
    expect(requests).toEqual([]);
  });

  it('offline: a clear error saying where it looked and how to get the data', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const options = isolated();
    const error = await loadDataset({
      dataset: 'fashion-mnist',
      dataDir: '/nowhere',
      ...options,
      baseUrl: `http://127.0.0.1:${port}/`,
    }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('Fashion-MNIST is not on this computer and downloading it from');
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain(
      `Looked in: /nowhere, /nowhere/fashion-mnist, ${options.cacheDir}/fashion-mnist.`,
    );
    expect(message).toContain('sudo apt-get install dataset-fashion-mnist');
    expect(message).toContain('--data-dir');
  });

  it('a file the server does not have is named', async () => {
    const error = await loadDataset({
      dataset: 'mnist',
      ...isolated(),
      baseUrl: baseUrl.replace('/files/', '/missing/'),
    }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /MNIST is not on this computer and downloading it from .*\/missing\/ failed \(.*train-images-idx3-ubyte\.gz answered 404 Not Found\)/,
    );
  });

  it('a damaged download is reported and not kept in the cache', async () => {
    const options = isolated();
    const error = await loadDataset({
      dataset: 'fashion-mnist',
      ...options,
      baseUrl: baseUrl.replace('/files/', '/broken/'),
    }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/is damaged: .* is not an IDX file of rank 3/);
    expect(() => readFileSync(path.join(options.cacheDir, 'fashion-mnist', FILES[0]))).toThrow();
  });
});

describe('damaged files', () => {
  const images = (n: number) => encodeIdx([n, 28, 28], new Uint8Array(n * 784));
  const labels = (values: number[]) => encodeIdx([values.length], Uint8Array.from(values));
  const cases: [string, Record<string, Uint8Array>, RegExp][] = [
    [
      'bad magic number',
      { 'train-images-idx3-ubyte.gz': gzipSync(labels(new Array(20).fill(1))) },
      /train-images-idx3-ubyte\.gz is not an IDX file of rank 3 \(magic number 0x00000801, expected 0x00000803\)/,
    ],
    [
      'truncated',
      { 't10k-images-idx3-ubyte.gz': gzipSync(images(500).subarray(0, 10_000)) },
      /t10k-images-idx3-ubyte\.gz is truncated: its header promises 500×28×28 values but it holds 9984/,
    ],
    [
      'image and label counts differ',
      { 'train-labels-idx1-ubyte.gz': gzipSync(labels([1, 2, 3])) },
      /holds 2000 images but .*train-labels-idx1-ubyte\.gz holds 3 labels/,
    ],
    [
      'a label beyond the classes',
      {
        't10k-images-idx3-ubyte.gz': gzipSync(images(2)),
        't10k-labels-idx1-ubyte.gz': gzipSync(labels([3, 12])),
      },
      /has label 12 at index 1; Fashion-MNIST has 10 classes/,
    ],
    [
      // 3 million images of zeros promised in a file of a few KiB: a gzip bomb, refused uninflated.
      'a header promising far more than the file can hold',
      {
        'train-images-idx3-ubyte.gz': gzipSync(
          Buffer.concat([encodeIdx([3_000_000, 28, 28], new Uint8Array(0)), Buffer.alloc(4 << 20)]),
        ),
      },
      /train-images-idx3-ubyte\.gz claims 2\.2 GiB of data in a [\d.]+ KiB file, more than 100 times its size, which no image data compresses to; the file is damaged or not an IDX dataset/,
    ],
    [
      'not gzip inside',
      { 'train-images-idx3-ubyte.gz': Uint8Array.from([0x1f, 0x8b, 1, 2, 3]) },
      /is not a readable gzip file/,
    ],
  ];
  for (const [name, replace, expected] of cases) {
    it(`${name}: names the file and the problem, and how to get the data`, async () => {
      const dir = copyOfSample(replace);
      const error = await loadDataset({
        dataset: 'fashion-mnist',
        dataDir: dir,
        ...isolated(),
      }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toMatch(expected);
      expect(message).toContain(`Fashion-MNIST in ${dir} is damaged`);
      expect(message).toContain('sudo apt-get install dataset-fashion-mnist');
    });
  }
});

describe('bad requests', () => {
  it('an unknown dataset lists the known ones', async () => {
    await expect(loadDataset({ dataset: 'cifar' as never })).rejects.toThrow(
      "dataset must be one of fashion-mnist, mnist, sample, folder, got 'cifar'",
    );
  });

  it('limits must be whole numbers >= 1', async () => {
    await expect(loadDataset({ dataset: 'sample', limitTrain: 0 })).rejects.toThrow(
      'training images must be a whole number ≥ 1, got 0',
    );
  });

  it("'folder' needs --data-dir", async () => {
    await expect(loadDataset({ dataset: 'folder' })).rejects.toThrow(/needs --data-dir/);
  });
});

describe('an image folder', () => {
  function png(width: number, height: number, pixel: (x: number, y: number) => number[]) {
    const image = new PNG({ width, height });
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const [r, g, b] = pixel(x, y);
        image.data.set([r, g, b, 255], (y * width + x) * 4);
      }
    }
    return PNG.sync.write(image);
  }
  function jpg(width: number, height: number, value: number) {
    const data = Buffer.alloc(width * height * 4, value);
    return jpeg.encode({ data, width, height }, 100).data;
  }
  function folder(files: Record<string, Uint8Array>): string {
    const root = freshDir();
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      writeFileSync(path.join(root, name), bytes);
    }
    return root;
  }

  it('gray PNG and JPEG images: one channel, classes from subfolders, every fifth held out', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 5; i++) {
      files[`cats/${i}.png`] = png(4, 4, () => [200, 200, 200]);
      files[`dogs/${i}.jpg`] = jpg(4, 4, 50);
    }
    const root = folder(files);
    const data = await loadDataset({ dataset: 'folder', dataDir: root });
    expect(data.info).toMatchObject({
      name: 'folder',
      source: root,
      classes: ['cats', 'dogs'],
      inputShape: [4, 4, 1],
      trainSize: 8,
      valSize: 2,
    });
    expect(Array.from(data.val.labels)).toEqual([0, 1]);
    expect(data.train.images[0]).toBeCloseTo(200 / 255, 5);
    expect(data.val.images[16]).toBeCloseTo(50 / 255, 1);
  });

  it('colour images: RGB, resized to the most common size; train/ and val/ splits', async () => {
    const red = () => [255, 0, 0];
    const root = folder({
      'train/a/1.png': png(6, 4, red),
      'train/a/2.png': png(6, 4, red),
      'train/b/1.png': png(12, 8, (x) => (x < 6 ? [0, 0, 0] : [0, 0, 255])),
      'val/a/1.png': png(6, 4, red),
      'val/b/1.png': png(6, 4, () => [0, 255, 0]),
    });
    const data = await loadDataset({ dataset: 'folder', dataDir: root });
    expect(data.info.inputShape).toEqual([4, 6, 3]);
    expect([data.train.count, data.val.count]).toEqual([3, 2]);
    expect(Array.from(data.train.images.subarray(0, 3))).toEqual([1, 0, 0]);
    // The 12×8 image halved: its left half black, its right half blue.
    const third = data.train.images.subarray(2 * 72, 3 * 72);
    expect(Array.from(third.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(third.subarray(15, 18))).toEqual([0, 0, 1]);
    expect(Array.from(data.val.labels)).toEqual([0, 1]);
  });

  it('skips a damaged image with a warning naming it, or refuses it by name when asked', async () => {
    const files: Record<string, Uint8Array> = { 'cats/0-empty.png': new Uint8Array(0) };
    for (let i = 1; i <= 5; i++) {
      files[`cats/${i}.png`] = png(4, 4, () => [200, 200, 200]);
      files[`dogs/${i}.png`] = png(4, 4, () => [50, 50, 50]);
    }
    files['dogs/6-cut.png'] = png(4, 4, () => [50, 50, 50]).subarray(0, 30);
    files['birds/notes.txt'] = new TextEncoder().encode('no pictures yet');
    const root = folder(files);
    const data = await loadDataset({ dataset: 'folder', dataDir: root });
    expect(data.info.classes).toEqual(['birds', 'cats', 'dogs']);
    expect(data.train.count + data.val.count).toBe(10);
    expect(data.warnings).toEqual([
      "the class folder 'birds' has no PNG or JPEG images: the network still has an output for it, but nothing to learn it from",
      `skipped ${path.join(root, 'cats/0-empty.png')} cannot be read as an image (the file is empty)`,
      expect.stringMatching(
        new RegExp(
          `^skipped ${path.join(root, 'dogs/6-cut.png')} cannot be read as an image \\(.+\\)$`,
        ),
      ),
    ]);
    await expect(
      loadDataset({ dataset: 'folder', dataDir: root, damagedImages: 'refuse' }),
    ).rejects.toThrow(
      `${path.join(root, 'cats/0-empty.png')} cannot be read as an image (the file is empty); replace or remove it (or let training skip damaged images)`,
    );
  });

  it('a folder without class subfolders is refused with what it needs', async () => {
    const root = folder({ 'only/1.png': png(2, 2, () => [0, 0, 0]) });
    await expect(loadDataset({ dataset: 'folder', dataDir: root })).rejects.toThrow(
      /has 1 class subfolder; it needs one subfolder of PNG or JPEG images per class/,
    );
    await expect(
      loadDataset({ dataset: 'folder', dataDir: path.join(root, 'missing') }),
    ).rejects.toThrow(/does not exist/);
  });
});

describe('batchIndices', () => {
  it('covers every sample once per epoch, in batches, the last one smaller', () => {
    const batches = batchIndices(10, 4, { shuffle: true, seed: 1, epoch: 0 });
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('repeats for the same seed and epoch, differs between epochs and seeds', () => {
    const order = (seed: number, epoch: number) =>
      batchIndices(1000, 1000, { shuffle: true, seed, epoch })[0].join();
    expect(order(7, 3)).toBe(order(7, 3));
    expect(order(7, 3)).not.toBe(order(7, 4));
    expect(order(7, 3)).not.toBe(order(8, 3));
    expect(order(7, 0)).not.toBe(Array.from({ length: 1000 }, (_, i) => i).join());
  });

  it('keeps order without shuffling', () => {
    const batches = batchIndices(5, 2, { shuffle: false, seed: 3, epoch: 9 });
    expect(batches.map((b) => Array.from(b))).toEqual([[0, 1], [2, 3], [4]]);
  });
});
