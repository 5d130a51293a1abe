/**
 * Both engines see the same pixels: the tensor files handed to PyTorch hold,
 * bit for bit, the batches the studio's own pipeline (gatherBatch: resize,
 * [0, 1] scaling) makes, and the PyTorch engine reads them back as such.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWith, PYTHON, pytorch } from '../../../test/support/requirements';
import { cpuTf } from '../../../test/support/tfjs-cpu';
import { findShippedFile } from '../../node/shipped-files';
import type { Dataset, Split } from '../data';
import { gatherBatch } from '../training/step';
import { dataFileBytes, writeDataFiles } from './data-files';
import { ENGINE_SCRIPT } from './run';

const dir = mkdtempSync(path.join(tmpdir(), 'cs-data-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A split of `count` RGB images of 5×6 with varied pixels (a folder dataset's layout). */
function rgbSplit(count: number, offset: number): Split {
  const images = Float32Array.from(
    { length: count * 5 * 6 * 3 },
    (_, i) => (((i + offset) * 37) % 256) / 255,
  );
  return {
    images,
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    count,
    shape: [5, 6, 3],
  };
}

const dataset: Dataset = {
  info: {
    name: 'folder',
    source: 'test',
    trainSize: 7,
    valSize: 3,
    classes: ['a', 'b', 'c'],
    inputShape: [5, 6, 3],
  },
  train: rgbSplit(7, 0),
  val: rgbSplit(3, 1000),
};

/** The studio's own batch of a whole split, NHWC. */
async function studioBatch(split: Split, size: [number, number]): Promise<Float32Array> {
  const tf = await cpuTf();
  const { x, y } = gatherBatch(
    tf,
    split,
    Int32Array.from({ length: split.count }, (_, i) => i),
    size,
  );
  const values = (await x.data()) as Float32Array;
  tf.dispose([x, y]);
  return values;
}

const read = (file: string) => new Float32Array(new Uint8Array(readFileSync(file)).buffer);

describe('the data handed to PyTorch', () => {
  it('is the studio pipeline’s resized batch, channels first, with int64 labels', async () => {
    const tf = await cpuTf();
    const size: [number, number] = [7, 9];
    const files = await writeDataFiles(tf, dataset, { train: size, val: size }, dir);
    expect(files.train.images.shape).toEqual([7, 3, 7, 9]);
    expect(files.bytes).toBe(dataFileBytes(dataset, { train: size, val: size }));
    const nhwc = await studioBatch(dataset.train, size);
    const nchw = read(files.train.images.path);
    expect(nchw.length).toBe(nhwc.length);
    // Pixel (n, y, x, c) of the studio's batch is element (n, c, y, x) of the file.
    for (const [n, y, x, c] of [
      [0, 0, 0, 0],
      [3, 4, 8, 2],
      [6, 6, 1, 1],
    ]) {
      expect(nchw[((n * 3 + c) * 7 + y) * 9 + x]).toBe(nhwc[((n * 7 + y) * 9 + x) * 3 + c]);
    }
    const labels = new BigInt64Array(new Uint8Array(readFileSync(files.val.labels.path)).buffer);
    expect([...labels]).toEqual([0n, 1n, 2n]);
  });

  it('is the loaded array itself when nothing is resized (one channel)', async () => {
    const tf = await cpuTf();
    const gray: Split = { ...rgbSplit(4, 5), shape: [10, 9, 1] };
    const files = await writeDataFiles(
      tf,
      { ...dataset, train: gray, val: gray },
      { train: [10, 9], val: [10, 9] },
      dir,
    );
    expect(read(files.train.images.path)).toEqual(gray.images);
  });
});

describeWith([pytorch], 'the data as the PyTorch engine reads it', () => {
  it('equals the studio’s batch exactly', async () => {
    const tf = await cpuTf();
    const size: [number, number] = [4, 11];
    const files = await writeDataFiles(tf, dataset, { train: size, val: size }, dir);
    const reference = path.join(dir, 'reference.f32');
    const nhwc = await studioBatch(dataset.val, size);
    writeFileSync(reference, new Uint8Array(nhwc.buffer));
    const program = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from engine import tensor_file
images = tensor_file({"path": sys.argv[2], "dtype": "float32", "shape": [3, 3, 4, 11]})
labels = tensor_file({"path": sys.argv[3], "dtype": "int64", "shape": [3]})
reference = torch.from_file(sys.argv[4], size=3 * 4 * 11 * 3, dtype=torch.float32).reshape(3, 4, 11, 3)
print(torch.equal(images.permute(0, 2, 3, 1), reference), labels.tolist())
`;
    const engine = path.dirname(findShippedFile(ENGINE_SCRIPT) as string);
    const out = execFileSync(PYTHON, [
      '-c',
      program,
      engine,
      files.val.images.path,
      files.val.labels.path,
      reference,
    ]).toString();
    expect(out.trim()).toBe('True [0, 1, 2]');
  });

  it('resized there after crops and flips, equals the studio’s resize of the same images', async () => {
    // A run that augments hands over its training images at the stored size (5×6) and the engine
    // resizes each batch; here to a size smaller in one axis and larger in the other.
    const tf = await cpuTf();
    const stored: [number, number] = [5, 6];
    const size: [number, number] = [4, 11];
    const files = await writeDataFiles(tf, dataset, { train: stored, val: size }, dir);
    expect(files.train.images.shape).toEqual([7, 3, 5, 6]);
    const reference = path.join(dir, 'resized.f32');
    writeFileSync(reference, new Uint8Array((await studioBatch(dataset.train, size)).buffer));
    const program = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from engine import resize_as_studio, tensor_file
images = tensor_file({"path": sys.argv[2], "dtype": "float32", "shape": [7, 3, 5, 6]})
reference = torch.from_file(sys.argv[3], size=7 * 4 * 11 * 3, dtype=torch.float32).reshape(7, 4, 11, 3)
resized = resize_as_studio(images, (4, 11)).permute(0, 2, 3, 1)
print(tuple(resized.shape), (resized - reference).abs().max().item())
`;
    const engine = path.dirname(findShippedFile(ENGINE_SCRIPT) as string);
    const out = execFileSync(PYTHON, ['-c', program, engine, files.train.images.path, reference])
      .toString()
      .trim();
    const [shape, largest] = out.split(') ');
    expect(`${shape})`).toBe('(7, 4, 11, 3)');
    expect(Number(largest)).toBeLessThan(1e-6);
  });
});
