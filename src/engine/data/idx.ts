/**
 * IDX files (the MNIST family's format), gzip-compressed or not: a magic
 * number naming the element type and rank, the dimensions, then the data.
 * https://yann.lecun.com/exdb/mnist/ ("FILE FORMATS").
 */
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

export class IdxError extends Error {}

/** Parses an IDX file of unsigned bytes with the expected rank (3 for images, 1 for labels). */
export function parseIdx(file: Uint8Array, rank: number, where: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = file[0] === 0x1f && file[1] === 0x8b ? gunzipSync(file) : file;
  } catch (error) {
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
