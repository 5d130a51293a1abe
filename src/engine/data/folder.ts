/**
 * A folder of labelled images: one subfolder per class (its name is the
 * class name), PNG or JPEG files inside. With `train/` and `val/` (or
 * `test/`) subfolders, those are the splits; otherwise every fifth image of
 * each class (in name order) is held out for validation. Images become
 * grayscale when every image is gray, RGB otherwise, and are resized
 * (bilinear) to the most common size.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  rgba: Uint8Array;
  file: string;
}

export interface FolderSplit {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

export interface FolderDataset {
  classes: string[];
  /** What was skipped or is missing, each said once (damaged images, empty class folders). */
  warnings: string[];
  shape: [number, number, number];
  /** Images found per split, before limits. */
  totals: { train: number; val: number };
  train: FolderSplit;
  val: FolderSplit;
}

const IMAGE = /\.(png|jpe?g)$/i;
const VAL_EVERY = 5;

/** An image that cannot be read; the message names it. */
class DamagedImage extends Error {}

function decode(file: string): DecodedImage {
  const bytes = readFileSync(file);
  try {
    if (/\.png$/i.test(file)) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data, file };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: img.width, height: img.height, rgba: img.data, file };
  } catch (error) {
    const reason = bytes.length === 0 ? 'the file is empty' : (error as Error).message;
    throw new DamagedImage(`${file} cannot be read as an image (${reason})`);
  }
}

function isGray(img: DecodedImage): boolean {
  const { rgba } = img;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

/** Bilinear resampling (half-pixel centres, as PyTorch's align_corners=False) into `out` at `offset`. */
function resample(
  img: DecodedImage,
  [h, w, c]: [number, number, number],
  out: Float32Array,
  offset: number,
): void {
  const sy = img.height / h;
  const sx = img.width / w;
  const at = (y: number, x: number, ch: number) => img.rgba[(y * img.width + x) * 4 + ch];
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const dy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const dx = fx - x0;
      for (let ch = 0; ch < c; ch++) {
        const v =
          (at(y0, x0, ch) * (1 - dx) + at(y0, x1, ch) * dx) * (1 - dy) +
          (at(y1, x0, ch) * (1 - dx) + at(y1, x1, ch) * dx) * dy;
        out[offset + (y * w + x) * c + ch] = v / 255;
      }
    }
  }
}

function listClasses(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(path.join(dir, name)).isDirectory())
    .sort();
}

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => IMAGE.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

interface Labelled {
  file: string;
  label: number;
}

function findSplits(root: string): { classes: string[]; train: Labelled[]; val: Labelled[] } {
  const valDir = ['val', 'test'].map((d) => path.join(root, d)).find((d) => existsSync(d));
  const trainDir = path.join(root, 'train');
  if (valDir && existsSync(trainDir)) {
    const classes = listClasses(trainDir);
    const labelled = (dir: string) =>
      classes.flatMap((name, label) => {
        const classDir = path.join(dir, name);
        return existsSync(classDir) ? listImages(classDir).map((file) => ({ file, label })) : [];
      });
    return { classes, train: labelled(trainDir), val: labelled(valDir) };
  }
  const classes = listClasses(root);
  const train: Labelled[] = [];
  const val: Labelled[] = [];
  classes.forEach((name, label) => {
    listImages(path.join(root, name)).forEach((file, i) => {
      (i % VAL_EVERY === VAL_EVERY - 1 ? val : train).push({ file, label });
    });
  });
  return { classes, train, val };
}

function mostCommonSize(images: DecodedImage[]): [number, number] {
  const counts = new Map<string, { size: [number, number]; n: number }>();
  for (const img of images) {
    const key = `${img.height}x${img.width}`;
    const entry = counts.get(key) ?? { size: [img.height, img.width], n: 0 };
    entry.n++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0].size;
}

/**
 * Loads a class-per-subfolder image folder; limits keep the first N of each
 * split. A damaged image is skipped with a warning naming it, or, with
 * `damaged: 'refuse'`, stops the load naming it; class folders without images
 * are reported.
 */
export function loadImageFolder(
  root: string,
  limits: { train?: number; val?: number } = {},
  damaged: 'skip' | 'refuse' = 'skip',
): FolderDataset {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(
      `Image folder ${root} does not exist. Give --data-dir a folder with one subfolder of PNG or JPEG images per class.`,
    );
  }
  const found = findSplits(root);
  if (found.classes.length < 2) {
    throw new Error(
      `Image folder ${root} has ${found.classes.length} class subfolder${found.classes.length === 1 ? '' : 's'}; it needs one subfolder of PNG or JPEG images per class (at least two).`,
    );
  }
  const warnings: string[] = [];
  const withImages = new Set([...found.train, ...found.val].map((l) => l.label));
  for (const [label, name] of found.classes.entries()) {
    if (!withImages.has(label)) {
      warnings.push(
        `the class folder '${name}' has no PNG or JPEG images: the network still has an output for it, but nothing to learn it from`,
      );
    }
  }
  /** The images of a split that can be read, the others skipped (or refused) by name. */
  const readable = (items: Labelled[]) =>
    items.flatMap((item) => {
      try {
        return [{ ...item, image: decode(item.file) }];
      } catch (error) {
        if (!(error instanceof DamagedImage)) throw error;
        if (damaged === 'refuse') {
          throw new Error(
            `${error.message}; replace or remove it (or let training skip damaged images)`,
          );
        }
        warnings.push(`skipped ${error.message}`);
        return [];
      }
    });
  const train = readable(found.train.slice(0, limits.train ?? found.train.length));
  const val = readable(found.val.slice(0, limits.val ?? found.val.length));
  if (train.length === 0 || val.length === 0) {
    throw new Error(
      `Image folder ${root} has ${found.train.length} training and ${found.val.length} validation images; each split needs at least one (with no train/ and val/ subfolders, every ${VAL_EVERY}th image of a class is held out).`,
    );
  }
  const decodedTrain = train.map((l) => l.image);
  const decodedVal = val.map((l) => l.image);
  const all = [...decodedTrain, ...decodedVal];
  const channels = all.every(isGray) ? 1 : 3;
  const [h, w] = mostCommonSize(all);
  const shape: [number, number, number] = [h, w, channels];
  const pack = (items: Labelled[], decoded: DecodedImage[]): FolderSplit => {
    const size = h * w * channels;
    const images = new Float32Array(items.length * size);
    decoded.forEach((img, i) => {
      resample(img, shape, images, i * size);
    });
    return { images, labels: Int32Array.from(items, (l) => l.label), count: items.length };
  };
  return {
    classes: found.classes,
    warnings,
    shape,
    totals: { train: found.train.length, val: found.val.length },
    train: pack(train, decodedTrain),
    val: pack(val, decodedVal),
  };
}
