import { describe, expect, it } from 'vitest';
import { Conv2d } from '../../core/layers/conv';
import { formatField, parseField } from './field-text';

const f = Conv2d.fields;

describe('inspector field text', () => {
  it('reads pairs, padding and numbers as PyTorch accepts them', () => {
    expect(parseField(f.kernel_size, '5')).toEqual({ ok: true, value: 5 });
    expect(parseField(f.kernel_size, '3, 5')).toEqual({ ok: true, value: [3, 5] });
    expect(parseField(f.padding, 'same')).toEqual({ ok: true, value: 'same' });
    expect(parseField(f.padding, '2,1')).toEqual({ ok: true, value: [2, 1] });
    expect(parseField(f.out_channels, '64')).toEqual({ ok: true, value: 64 });
  });

  it('rejects bad values with the field’s own message', () => {
    expect(parseField(f.out_channels, '6.5')).toEqual({
      ok: false,
      error: 'must be a whole number',
    });
    expect(parseField(f.out_channels, 'abc')).toEqual({
      ok: false,
      error: "'abc' is not a number",
    });
    expect(parseField(f.kernel_size, '0')).toMatchObject({ ok: false });
    expect(parseField(f.padding, 'middle')).toMatchObject({
      ok: false,
      error: expect.stringContaining("'same'"),
    });
  });

  it('shows square pairs as one number', () => {
    expect(formatField(f.kernel_size, [5, 5])).toBe('5');
    expect(formatField(f.kernel_size, [3, 5])).toBe('3, 5');
  });
});
