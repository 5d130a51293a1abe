/**
 * The images the studio resolved, handed to PyTorch as files (Node only):
 * each split's images as raw little-endian float32 N×C×H×W at the size the
 * network is fed (resized here by the studio's own pipeline, gatherBatch),
 * its labels as int64. The PyTorch engine memory-maps them (torch.from_file),
 * so processes on one machine share one copy and nothing is decoded,
 * resized or scaled again in Python: both engines see the same pixels. A run
 * that augments hands over its training split at the stored size instead:
 * crops and flips come before the resize, so the engine resizes each batch
 * after them, as the studio's pipeline does.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { TF } from '../../core/layers/types';
import { explainWriteError } from '../../node/file-writes';
import type { Dataset, Split } from '../data';
import { gatherBatch } from '../training/step';

export interface TensorFile {
  path: string;
  dtype: 'float32' | 'int64';
  shape: number[];
}

export interface SplitFiles {
  images: TensorFile;
  labels: TensorFile;
}

/** The size [height, width] each split is written at. */
export interface SplitSizes {
  train: [number, number];
  val: [number, number];
}

export interface DataFiles {
  train: SplitFiles;
  val: SplitFiles;
  /** Bytes written in all. */
  bytes: number;
}

/** Images resized and written per chunk, so a large resized split is never whole in memory. */
const CHUNK_IMAGES = 512;

/** Bytes the data files of a dataset written at these sizes take. */
export function dataFileBytes(data: Dataset, sizes: SplitSizes): number {
  const channels = data.train.shape[2];
  const bytes = (count: number, [height, width]: [number, number]) =>
    count * (channels * height * width * 4 + 8);
  return bytes(data.train.count, sizes.train) + bytes(data.val.count, sizes.val);
}

function writeAll(file: string, write: (fd: number) => Promise<void>): Promise<void> {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (error) {
    throw explainWriteError(error, file);
  }
  return write(fd)
    .catch((error) => {
      throw (error as Error).name === 'AbortError' ? error : explainWriteError(error, file);
    })
    .finally(() => closeSync(fd));
}

function bytesOf(array: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

async function writeSplit(
  tf: TF,
  split: Split,
  size: [number, number],
  dir: string,
  name: string,
  signal?: AbortSignal,
): Promise<SplitFiles> {
  const [h, w, c] = split.shape;
  const [height, width] = size;
  const images: TensorFile = {
    path: path.join(dir, `${name}-images.f32`),
    dtype: 'float32',
    shape: [split.count, c, height, width],
  };
  await writeAll(images.path, async (fd) => {
    if (c === 1 && h === height && w === width) {
      // Already N×1×H×W float32 in [0, 1]: the loaded array is the file.
      writeSync(fd, bytesOf(split.images.subarray(0, split.count * h * w)));
      return;
    }
    for (let start = 0; start < split.count; start += CHUNK_IMAGES) {
      const rows = Int32Array.from(
        { length: Math.min(CHUNK_IMAGES, split.count - start) },
        (_, i) => start + i,
      );
      const { x, y } = gatherBatch(tf, split, rows, size);
      const nchw = tf.transpose(x, [0, 3, 1, 2]);
      const values = (await nchw.data()) as Float32Array;
      tf.dispose([x, y, nchw]);
      signal?.throwIfAborted();
      writeSync(fd, bytesOf(values));
    }
  });
  const labels: TensorFile = {
    path: path.join(dir, `${name}-labels.i64`),
    dtype: 'int64',
    shape: [split.count],
  };
  const wide = BigInt64Array.from(split.labels.subarray(0, split.count), (l) => BigInt(l));
  await writeAll(labels.path, async (fd) => {
    writeSync(fd, bytesOf(wide));
  });
  return { images, labels };
}

/** Writes both splits into `dir` at their sizes (resized by the studio's pipeline); `signal` abandons it. */
export async function writeDataFiles(
  tf: TF,
  data: Dataset,
  sizes: SplitSizes,
  dir: string,
  signal?: AbortSignal,
): Promise<DataFiles> {
  const train = await writeSplit(tf, data.train, sizes.train, dir, 'train', signal);
  const val = await writeSplit(tf, data.val, sizes.val, dir, 'val', signal);
  return { train, val, bytes: dataFileBytes(data, sizes) };
}
