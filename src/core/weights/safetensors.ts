/**
 * The safetensors format (used for run weights, checkpoints and the PyTorch
 * export): an 8-byte little-endian header length, a JSON header mapping each
 * name to {dtype, shape, data_offsets}, then the raw little-endian data.
 */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export type TensorMap = Map<string, NamedTensor>;

export function encodeSafetensors(
  tensors: TensorMap,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (isLittleEndian()) out.set(bytes, at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i], true);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): {
  tensors: TensorMap;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8)
    throw new Error('not a safetensors file: shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length)
    throw new Error('not a safetensors file: header length exceeds the file (truncated?)');
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
  ) as Record<string, unknown>;
  const start = 8 + headerLength;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    const read = READERS[dtype];
    if (!read) {
      throw new Error(
        `tensor '${name}' has dtype ${dtype}; the studio reads ${Object.keys(READERS).join(', ')}`,
      );
    }
    const [from, to] = data_offsets;
    if (start + to > bytes.length)
      throw new Error(`tensor '${name}' runs past the end of the file (truncated?)`);
    // Whether the values fill the shape is the reader's to check (it says what the file is for).
    const count = Math.floor((to - from) / read.bytes);
    // Other float widths (and integer counters) are read as float32, the studio's one dtype.
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = read.get(view, start + from + i * read.bytes);
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

/** bfloat16 and float16 bits → number. */
export function fromHalf(bits: number, bfloat: boolean): number {
  if (bfloat) return new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** How each safetensors dtype the studio reads is read (little-endian, as the format fixes). */
const READERS: Record<string, { bytes: number; get(view: DataView, at: number): number }> = {
  F32: { bytes: 4, get: (v, at) => v.getFloat32(at, true) },
  F64: { bytes: 8, get: (v, at) => v.getFloat64(at, true) },
  F16: { bytes: 2, get: (v, at) => fromHalf(v.getUint16(at, true), false) },
  BF16: { bytes: 2, get: (v, at) => fromHalf(v.getUint16(at, true), true) },
  I64: { bytes: 8, get: (v, at) => Number(v.getBigInt64(at, true)) },
  I32: { bytes: 4, get: (v, at) => v.getInt32(at, true) },
};

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}
