/** What sliding-window layers (convolution, pooling) share: the inspector's size formula. */
import { ceilPoolLength, type Padding4, type Pair, type Shape } from '../shape';

/**
 * One line per spatial axis showing PyTorch's output-size formula with the
 * numbers filled in, e.g. "H_out = ⌊(28 + 4 − 1·4 − 1) / 1⌋ + 1 = 28".
 */
export function explainWindow(
  input: Shape,
  kernel: Pair,
  stride: Pair,
  pad: Padding4,
  dilation: Pair = [1, 1],
  ceilMode = false,
): string[] {
  if (input?.length !== 4) return [];
  const dilated = dilation[0] > 1 || dilation[1] > 1;
  const axis = (name: string, size: number, k: number, s: number, d: number, padSum: number) => {
    if (ceilMode) {
      const rounded = Math.ceil((size + padSum - k) / s) + 1;
      const out = ceilPoolLength(size, k, s, padSum / 2);
      const dropped = out < rounded ? ' − 1 (that last window would start past the input)' : '';
      return `${name}_out = ⌈(${name} + pad − k) / stride⌉ + 1 = ⌈(${size} + ${padSum} − ${k}) / ${s}⌉ + 1${dropped} = ${out}`;
    }
    const out = Math.floor((size + padSum - d * (k - 1) - 1) / s) + 1;
    return dilated
      ? `${name}_out = ⌊(${name} + pad − dilation·(k−1) − 1) / stride⌋ + 1 = ⌊(${size} + ${padSum} − ${d}·${k - 1} − 1) / ${s}⌋ + 1 = ${out}`
      : `${name}_out = ⌊(${name} + pad − k) / stride⌋ + 1 = ⌊(${size} + ${padSum} − ${k}) / ${s}⌋ + 1 = ${out}`;
  };
  return [
    axis('H', input[2], kernel[0], stride[0], dilation[0], pad.top + pad.bottom),
    axis('W', input[3], kernel[1], stride[1], dilation[1], pad.left + pad.right),
  ];
}
