/**
 * IDX files (the MNIST family's format), gzip-compressed or not: a magic
 * number naming the element type and rank, the dimensions, then the data.
 * https://yann.lecun.com/exdb/mnist/ ("FILE FORMATS").
 */
import { promisify } from 'node:util';
import { constants, gunzip, gunzipSync } from 'node:zlib';
import { formatBytes } from '../../core/summary';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

export class IdxError extends Error {}

/**
 * Real image data compresses a few times at most (Fashion-MNIST: 1.8); a
 * header promising a hundred times the compressed size is a damaged or
 * hostile file, refused before it is inflated into memory.
 */
const MAX_COMPRESSION_RATIO = 100;

/** The bytes an IDX header of this rank promises (header included), read from the start of the data. */
function promisedBytes(head: Uint8Array, rank: number): number | undefined {
  if (head.length < 4 + 4 * rank) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (view.getUint32(0) !== ((UNSIGNED_BYTE << 8) | rank)) return undefined;
  let count = 1;
  for (let i = 0; i < rank; i++) count *= view.getUint32(4 + 4 * i);
  return 4 + 4 * rank + count;
}

const inflateAsync = promisify(gunzip);

/**
 * Inflates a gzip file, but never past what its header promises nor past
 * MAX_COMPRESSION_RATIO times its size: a header promising gigabytes in a
 * small file (a gzip bomb) is refused before the memory is taken. The work
 * is done on libuv's thread pool: Fashion-MNIST's files take a second to
 * inflate, which a host listing the datasets must not spend on its event loop.
 */
async function inflate(file: Uint8Array, rank: number, where: string): Promise<Uint8Array> {
  const head = gunzipSync(file.subarray(0, 1024), { finishFlush: constants.Z_SYNC_FLUSH });
  const promised = promisedBytes(head, rank);
  if (promised === undefined) return inflateAsync(file);
  const ceiling = MAX_COMPRESSION_RATIO * file.length;
  try {
    return await inflateAsync(file, { maxOutputLength: Math.min(promised, ceiling) + SLACK });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw error;
    throw new IdxError(
      promised > ceiling
        ? `${where} claims ${formatBytes(promised)} of data in a ${formatBytes(file.length)} file, more than ${MAX_COMPRESSION_RATIO} times its size, which no image data compresses to; the file is damaged or not an IDX dataset`
        : `${where} holds more data than its header promises (${formatBytes(promised)}); the file is damaged`,
    );
  }
}

/** Bytes past the promised size that an inflate may see before it stops. */
const SLACK = 65_536;

/** Parses an IDX file of unsigned bytes with the expected rank (3 for images, 1 for labels). */
export async function parseIdx(file: Uint8Array, rank: number, where: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = file[0] === 0x1f && file[1] === 0x8b ? await inflate(file, rank, where) : file;
  } catch (error) {
    if (error instanceof IdxError) throw error;
    throw new IdxError(`${where} is not a readable gzip file (${(error as Error).message})`);
  }
  if (bytes.length < 4 + 4 * rank) {
    throw new IdxError(`${where} is truncated: ${bytes.length} bytes, too short for an IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const expected = (UNSIGNED_BYTE << 8) | rank;
  if (magic !== expected) {
    throw new IdxError(
      `${where} is not an IDX file of rank ${rank} (magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expected.toString(16).padStart(8, '0')})`,
    );
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const header = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < header + size) {
    throw new IdxError(
      `${where} is truncated: its header promises ${dims.join('×')} values but it holds ${bytes.length - header}`,
    );
  }
  return { dims, data: bytes.subarray(header, header + size) };
}

/** An IDX file of unsigned bytes (gzip-compressed): the inverse of parseIdx. */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, (UNSIGNED_BYTE << 8) | dims.length);
  dims.forEach((d, i) => {
    header.setUint32(4 + 4 * i, d);
  });
  const out = new Uint8Array(header.byteLength + data.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(data, header.byteLength);
  return out;
}
