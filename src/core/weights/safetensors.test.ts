import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from './safetensors';

describe('safetensors', () => {
  it('round-trips names, shapes, values and metadata with an aligned header', () => {
    const tensors: TensorMap = new Map([
      [
        'conv1.weight',
        { shape: [2, 1, 2, 2], data: Float32Array.from([1, -2, 3.5, 4, 5, 6, 7, -8]) },
      ],
      ['conv1.bias', { shape: [2], data: Float32Array.from([0.25, -0.5]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { format: 'pt' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors.keys()]).toEqual(['conv1.weight', 'conv1.bias']);
    expect(Array.from(back.tensors.get('conv1.weight')!.data)).toEqual([
      1, -2, 3.5, 4, 5, 6, 7, -8,
    ]);
  });

  it('says a truncated file is truncated', () => {
    const bytes = encodeSafetensors(new Map([['w', { shape: [4], data: new Float32Array(4) }]]));
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
  });
});
