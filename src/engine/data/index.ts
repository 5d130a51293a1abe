/**
 * Datasets for training (Node only). IDX datasets (Fashion-MNIST, MNIST) are
 * looked for where the user points (--data-dir), then in the cache folder,
 * then in /usr/share/datasets (Debian's dataset-fashion-mnist), and
 * downloaded into the cache as a last resort. 'sample' is a small real
 * Fashion-MNIST subset bundled with the studio; 'folder' reads labelled
 * images. Images are float32 in [0, 1] (the course's ToTensor), NHWC.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DatasetInfo } from '../../api/training-protocol';
import { checkTrainOptions, type DatasetName } from '../../core/training/options';
import { writeFileAtomic } from '../../node/file-writes';
import { shippedFileCandidates } from '../../node/shipped-files';
import { loadImageFolder } from './folder';
import { IdxError, parseIdx } from './idx';
import { seededRandom } from './random';

export interface Split {
  /** N × H × W × C, values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  shape: [number, number, number];
}

export interface Dataset {
  info: DatasetInfo;
  train: Split;
  val: Split;
  /** What loading went on without (damaged images skipped, empty class folders), each said once. */
  warnings?: string[];
}

export type DataProgress =
  | { stage: 'download'; file: string; url: string; loaded: number; total?: number }
  | { stage: 'parse'; file: string };

export interface LoadDatasetOptions {
  dataset: DatasetName;
  /** Where to look first (for 'folder': the folder itself). */
  dataDir?: string;
  /** Keep the first N training images. */
  limitTrain?: number;
  /** Keep the first N validation (test) images. */
  limitVal?: number;
  onProgress?: (progress: DataProgress) => void;
  /** Default: $CONVNET_STUDIO_CACHE/datasets or ~/.cache/convnet-studio/datasets. */
  cacheDir?: string;
  /** System folders holding <name>/ (default /usr/share/datasets). */
  systemDirs?: string[];
  /** Where to download from instead of the dataset's public address (a folder URL with the four files). */
  baseUrl?: string;
  /** When the dataset is nowhere on this computer: download it (the default), or throw DatasetNotDownloaded. */
  download?: boolean;
  /** A folder dataset's image that cannot be read: skipped with a warning (the default), or refused. */
  damagedImages?: 'skip' | 'refuse';
}

/** The dataset is not on this computer, and loading was asked not to download it. */
export class DatasetNotDownloaded extends Error {
  constructor(
    message: string,
    /** The folder URL it would be downloaded from. */
    readonly url: string,
    /** Where the download would go. */
    readonly cacheDir: string,
  ) {
    super(message);
    this.name = 'DatasetNotDownloaded';
  }
}

interface IdxDataset {
  label: string;
  classes: string[];
  /** The public folder with the four .gz files. */
  url: string;
  aptPackage?: string;
}

export const FASHION_MNIST_CLASSES = [
  't-shirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle boot',
];

const IDX_DATASETS: Record<'fashion-mnist' | 'mnist', IdxDataset> = {
  'fashion-mnist': {
    label: 'Fashion-MNIST',
    classes: FASHION_MNIST_CLASSES,
    url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    aptPackage: 'dataset-fashion-mnist',
  },
  mnist: {
    label: 'MNIST',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    // PyTorch's mirror (torchvision downloads from it); yann.lecun.com refuses scripts.
    url: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  },
};

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  valImages: 't10k-images-idx3-ubyte',
  valLabels: 't10k-labels-idx1-ubyte',
} as const;
type FileKey = keyof typeof FILES;

export function defaultCacheDir(): string {
  const root =
    process.env.CONVNET_STUDIO_CACHE || path.join(os.homedir(), '.cache', 'convnet-studio');
  return path.join(root, 'datasets');
}

const SYSTEM_DIRS = ['/usr/share/datasets'];

/** The bundled sample: resources/sample/fashion-mnist in a checkout, or beside a packaged app. */
const sampleDirs = () => shippedFileCandidates('resources/sample/fashion-mnist');

/** The path of an IDX file in a folder, compressed or not, if there. */
function fileIn(dir: string, key: FileKey): string | undefined {
  return [`${FILES[key]}.gz`, FILES[key]].map((f) => path.join(dir, f)).find((f) => existsSync(f));
}

function hasAll(dir: string): boolean {
  return (Object.keys(FILES) as FileKey[]).every((k) => fileIn(dir, k) != null);
}

function howToGet(spec: IdxDataset, cacheDir: string): string {
  const apt = spec.aptPackage
    ? `install it with: sudo apt-get install ${spec.aptPackage}; or `
    : '';
  return `To get ${spec.label}, ${apt}put ${Object.values(FILES)
    .map((f) => `${f}.gz`)
    .join(
      ', ',
    )} in a folder and pass it with --data-dir, or connect to the internet to download it from ${spec.url} (into ${cacheDir}). To try the studio offline now, use --dataset sample.`;
}

async function download(
  url: string,
  target: string,
  onProgress?: LoadDatasetOptions['onProgress'],
): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || response.body == null) {
    throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  }
  const total = Number(response.headers.get('content-length')) || undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const file = path.basename(target);
  onProgress?.({ stage: 'download', file, url, loaded, total });
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    loaded += chunk.length;
    onProgress?.({ stage: 'download', file, url, loaded, total });
  }
  if (total != null && loaded !== total) {
    throw new Error(`${url} ended after ${loaded} of ${total} bytes`);
  }
  // Written whole, then renamed: an interrupted download never looks complete.
  writeFileAtomic(target, Buffer.concat(chunks));
}

async function downloadAll(
  dir: string,
  baseUrl: string,
  onProgress: LoadDatasetOptions['onProgress'],
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  for (const key of Object.keys(FILES) as FileKey[]) {
    if (fileIn(dir, key)) continue;
    const name = `${FILES[key]}.gz`;
    await download(new URL(name, base).href, path.join(dir, name), onProgress);
  }
}

async function readIdxPair(
  dir: string,
  images: FileKey,
  labels: FileKey,
  spec: IdxDataset,
  limit: number | undefined,
  onProgress: LoadDatasetOptions['onProgress'],
): Promise<Omit<Split, 'shape'> & { shape: [number, number, number]; total: number }> {
  const imageFile = fileIn(dir, images)!;
  const labelFile = fileIn(dir, labels)!;
  onProgress?.({ stage: 'parse', file: imageFile });
  const img = await parseIdx(await readFile(imageFile), 3, imageFile);
  onProgress?.({ stage: 'parse', file: labelFile });
  const lab = await parseIdx(await readFile(labelFile), 1, labelFile);
  const [n, h, w] = img.dims;
  if (lab.dims[0] !== n) {
    throw new IdxError(
      `${imageFile} holds ${n} images but ${labelFile} holds ${lab.dims[0]} labels`,
    );
  }
  const count = Math.min(n, limit ?? n);
  const pixels = img.data.subarray(0, count * h * w);
  const imagesOut = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) imagesOut[i] = pixels[i] / 255;
  const labelsOut = Int32Array.from(lab.data.subarray(0, count));
  const bad = labelsOut.findIndex((l) => l >= spec.classes.length);
  if (bad >= 0) {
    throw new IdxError(
      `${labelFile} has label ${labelsOut[bad]} at index ${bad}; ${spec.label} has ${spec.classes.length} classes`,
    );
  }
  return { images: imagesOut, labels: labelsOut, count, shape: [h, w, 1], total: n };
}

async function loadIdxFrom(
  dir: string,
  name: string,
  spec: IdxDataset,
  options: LoadDatasetOptions,
  source: string,
): Promise<Dataset> {
  const train = await readIdxPair(
    dir,
    'trainImages',
    'trainLabels',
    spec,
    options.limitTrain,
    options.onProgress,
  );
  const val = await readIdxPair(
    dir,
    'valImages',
    'valLabels',
    spec,
    options.limitVal,
    options.onProgress,
  );
  const strip = ({ total: _total, ...split }: typeof train): Split => split;
  return {
    info: {
      name,
      source,
      trainSize: train.total,
      valSize: val.total,
      classes: spec.classes,
      inputShape: train.shape,
    },
    train: strip(train),
    val: strip(val),
  };
}

async function loadIdxDataset(
  name: 'fashion-mnist' | 'mnist',
  options: LoadDatasetOptions,
): Promise<Dataset> {
  const spec = IDX_DATASETS[name];
  const cacheDir = path.join(options.cacheDir ?? defaultCacheDir(), name);
  const candidates = [
    ...(options.dataDir ? [options.dataDir, path.join(options.dataDir, name)] : []),
    cacheDir,
    ...(options.systemDirs ?? SYSTEM_DIRS).map((d) => path.join(d, name)),
  ];
  const lookedIn = `Looked in: ${candidates.join(', ')}.`;
  const withHelp = (error: unknown, where: string) => {
    if (error instanceof IdxError) {
      return new Error(
        `${spec.label} in ${where} is damaged: ${error.message}. ${lookedIn} ${howToGet(spec, cacheDir)}`,
      );
    }
    return error;
  };
  const found = candidates.find(hasAll);
  if (found) {
    try {
      return await loadIdxFrom(found, name, spec, options, found);
    } catch (error) {
      throw withHelp(error, found);
    }
  }
  const baseUrl = options.baseUrl ?? process.env.CONVNET_STUDIO_DATASET_URL ?? spec.url;
  if (options.download === false) {
    throw new DatasetNotDownloaded(
      `${spec.label} is not on this computer yet; training downloads it from ${baseUrl} into ${cacheDir}. ${lookedIn}`,
      baseUrl,
      cacheDir,
    );
  }
  try {
    await downloadAll(cacheDir, baseUrl, options.onProgress);
  } catch (error) {
    const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new Error(
      `${spec.label} is not on this computer and downloading it from ${baseUrl} failed (${cause}). ${lookedIn} ${howToGet(spec, cacheDir)}`,
    );
  }
  try {
    return await loadIdxFrom(
      cacheDir,
      name,
      spec,
      options,
      `${cacheDir} (downloaded from ${baseUrl})`,
    );
  } catch (error) {
    // A damaged download must not stay in the cache looking complete.
    rmSync(cacheDir, { recursive: true, force: true });
    throw withHelp(error, `the download from ${baseUrl}`);
  }
}

async function loadSample(options: LoadDatasetOptions): Promise<Dataset> {
  const dir = sampleDirs().find(hasAll);
  if (!dir) {
    throw new Error(
      `The bundled sample dataset is missing (looked in ${sampleDirs().join(', ')}). Rebuild it with: npx tsx scripts/make-sample-dataset.ts`,
    );
  }
  // Where the sample lies says nothing to a user (and would put this machine's paths in screenshots).
  const dataset = await loadIdxFrom(
    dir,
    'sample',
    IDX_DATASETS['fashion-mnist'],
    options,
    'the Fashion-MNIST sample bundled with the studio',
  );
  return { ...dataset, info: { ...dataset.info, name: 'sample' } };
}

function loadFolder(options: LoadDatasetOptions): Dataset {
  if (!options.dataDir) {
    throw new Error(
      "The 'folder' dataset needs --data-dir: a folder with one subfolder of PNG or JPEG images per class.",
    );
  }
  const root = path.resolve(options.dataDir);
  options.onProgress?.({ stage: 'parse', file: root });
  const data = loadImageFolder(
    root,
    { train: options.limitTrain, val: options.limitVal },
    options.damagedImages,
  );
  return {
    warnings: data.warnings,
    info: {
      name: 'folder',
      source: root,
      trainSize: data.totals.train,
      valSize: data.totals.val,
      classes: data.classes,
      inputShape: data.shape,
    },
    train: { ...data.train, shape: data.shape },
    val: { ...data.val, shape: data.shape },
  };
}

/**
 * Loads a dataset's training and validation splits. `info.trainSize` and
 * `info.valSize` are the dataset's sizes; each split's `count` is what was
 * loaded (after limitTrain / limitVal).
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<Dataset> {
  const { dataset, limitTrain, limitVal } = options;
  checkTrainOptions({ dataset, limitTrain, limitVal }, { partial: true });
  switch (options.dataset) {
    case 'fashion-mnist':
    case 'mnist':
      return loadIdxDataset(options.dataset, options);
    case 'sample':
      return loadSample(options);
    case 'folder':
      return loadFolder(options);
  }
}

/** mulberry32: a small, fast, seedable generator. */

/**
 * The sample indices of each batch of one epoch. Shuffled orders depend only
 * on (seed, epoch): the same run repeats exactly, and every epoch differs.
 * The last batch is smaller when count is not a multiple of batchSize (as
 * PyTorch's DataLoader with drop_last=False).
 */
export function batchIndices(
  count: number,
  batchSize: number,
  { shuffle, seed, epoch }: { shuffle: boolean; seed: number; epoch: number },
): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batch size must be a whole number >= 1, got ${batchSize}`);
  }
  const order = Int32Array.from({ length: count }, (_, i) => i);
  if (shuffle) {
    const next = seededRandom(Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b));
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    batches.push(order.subarray(start, Math.min(start + batchSize, count)));
  }
  return batches;
}
