/**
 * Builds the bundled offline sample, resources/sample/fashion-mnist: the
 * first 2,000 training and 500 test images of the real Fashion-MNIST, as IDX
 * files (gzip). Usage: npx tsx scripts/make-sample-dataset.ts [SOURCE_DIR]
 * (default /usr/share/datasets/fashion-mnist, from apt's dataset-fashion-mnist).
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from '../src/engine/data/idx';

const source = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const target = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../resources/sample/fashion-mnist',
);
const subsets = [
  ['train', 2000],
  ['t10k', 500],
] as const;

mkdirSync(target, { recursive: true });
for (const [split, count] of subsets) {
  for (const [kind, rank] of [
    ['images-idx3-ubyte', 3],
    ['labels-idx1-ubyte', 1],
  ] as const) {
    const name = `${split}-${kind}.gz`;
    const { dims, data } = await parseIdx(readFileSync(path.join(source, name)), rank, name);
    const per = dims.slice(1).reduce((a, b) => a * b, 1);
    const out = path.join(target, name);
    writeFileSync(
      out,
      gzipSync(encodeIdx([count, ...dims.slice(1)], data.subarray(0, count * per)), { level: 9 }),
    );
    console.log(`${out}: ${count} of ${dims[0]}, ${statSync(out).size} bytes`);
  }
}
