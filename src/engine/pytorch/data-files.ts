/**
 * The images the studio resolved, handed to PyTorch as files (Node only):
 * each split's images as raw little-endian float32 N×C×H×W at the size the
 * network is fed (resized here by the studio's own pipeline, gatherBatch),
 * its labels as int64. The PyTorch engine memory-maps them (torch.from_file),
 * so processes on one machine share one copy and nothing is decoded,
 * resized or scaled again in Python: both engines see the same pixels.
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

export interface DataFiles {
  train: SplitFiles;
  val: SplitFiles;
  /** Bytes written in all. */
  bytes: number;
}

/** Images resized and written per chunk, so a large resized split is never whole in memory. */
const CHUNK_IMAGES = 512;

/** Bytes the data files of a dataset fed at [height, width] take. */
export function dataFileBytes(data: Dataset, [height, width]: [number, number]): number {
  const channels = data.train.shape[2];
  const images = data.train.count + data.val.count;
  return images * (channels * height * width * 4 + 8);
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

/** Writes both splits into `dir` as fed to the network (resized to `size`); `signal` abandons it. */
export async function writeDataFiles(
  tf: TF,
  data: Dataset,
  size: [number, number],
  dir: string,
  signal?: AbortSignal,
): Promise<DataFiles> {
  const train = await writeSplit(tf, data.train, size, dir, 'train', signal);
  const val = await writeSplit(tf, data.val, size, dir, 'val', signal);
  return { train, val, bytes: dataFileBytes(data, size) };
}
