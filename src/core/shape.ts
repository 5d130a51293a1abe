/**
 * Shapes follow PyTorch: [N, C, H, W] for feature maps, [N, F] for vectors.
 * All shape arithmetic lives here so every layer computes sizes the same way.
 */
export type Shape = number[];

export type Pair = [number, number];

/** Padding per side, as PyTorch applies it: top, bottom, left, right. */
export interface Padding4 {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Thrown by a layer's shape rule; the caller attaches the node id. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ShapeError';
  }
}

/**
 * Output length along one axis (PyTorch's formula for Conv2d and pooling):
 *   out = floor((in + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1
 */
export function convOutputLength(
  input: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation = 1,
): number {
  return Math.floor((input + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * Pooling's output length along one axis with PyTorch's ceil_mode: the size
 * is rounded up, but a last window must start inside the input or its
 * leading padding (else it is dropped):
 *   out = ceil((in + 2·pad − kernel) / stride) + 1, minus 1 if (out − 1)·stride ≥ in + pad
 */
export function ceilPoolLength(input: number, kernel: number, stride: number, pad: number): number {
  const out = Math.ceil((input + 2 * pad - kernel) / stride) + 1;
  return (out - 1) * stride >= input + pad ? out - 1 : out;
}

/**
 * ceil_mode's pooling windows along one axis: how far the last one runs past
 * the padded input (the extra zeros or −∞ to append), and every window's
 * length within input + padding (its divisor when padded zeros count,
 * PyTorch's count_include_pad).
 */
export function ceilPoolWindows(
  input: number,
  kernel: number,
  stride: number,
  pad: number,
): { overhang: number; lengths: number[] } {
  const count = ceilPoolLength(input, kernel, stride, pad);
  const overhang = Math.max(0, (count - 1) * stride + kernel - (input + 2 * pad));
  const lengths = Array.from(
    { length: count },
    (_, i) => Math.min(i * stride + kernel, input + 2 * pad) - i * stride,
  );
  return { overhang, lengths };
}

export function formatShape(shape: Shape): string {
  return shape.join('×');
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Requires a 4-D N×C×H×W input; `layer` names the layer kind for the message. */
export function expectFeatureMap(shape: Shape, layer: string): [number, number, number, number] {
  if (shape.length !== 4) {
    throw new ShapeError(
      `${layer} needs a 4-D input N×C×H×W but got ${formatShape(shape)}; add a layer that keeps the image layout, or remove the Flatten before it`,
    );
  }
  return shape as [number, number, number, number];
}

/** Requires a 2-D N×F input. */
export function expectVector(shape: Shape, layer: string): [number, number] {
  if (shape.length !== 2) {
    throw new ShapeError(
      `${layer} needs a 2-D input N×F but got ${formatShape(shape)}; put a Flatten (or global pooling + Flatten) before it`,
    );
  }
  return shape as [number, number];
}

/**
 * Spatial output size for a window op, with a clear error when the window does
 * not fit (PyTorch raises for the same cases).
 */
export function windowOutput(
  layer: string,
  [h, w]: Pair,
  kernel: Pair,
  stride: Pair,
  pad: Padding4,
  dilation: Pair = [1, 1],
): Pair {
  const effH = dilation[0] * (kernel[0] - 1) + 1;
  const effW = dilation[1] * (kernel[1] - 1) + 1;
  const paddedH = h + pad.top + pad.bottom;
  const paddedW = w + pad.left + pad.right;
  if (effH > paddedH || effW > paddedW) {
    throw new ShapeError(
      `${layer}: kernel ${effH}×${effW}${dilation[0] > 1 || dilation[1] > 1 ? ' (dilated)' : ''} is larger than its padded input ${paddedH}×${paddedW} (input ${h}×${w} plus padding); use a smaller kernel, more padding, or a larger input`,
      'kernel_size',
    );
  }
  return [
    convOutputLength(h, kernel[0], stride[0], pad.top, pad.bottom, dilation[0]),
    convOutputLength(w, kernel[1], stride[1], pad.left, pad.right, dilation[1]),
  ];
}

/** Symmetric per-axis padding [ph, pw] as four sides. */
export function symmetricPadding([ph, pw]: Pair): Padding4 {
  return { top: ph, bottom: ph, left: pw, right: pw };
}

/**
 * 'same' padding as PyTorch computes it for stride 1: total = dilation*(k-1),
 * the extra pixel of an even kernel goes after (bottom/right).
 */
export function samePadding(kernel: Pair, dilation: Pair): Padding4 {
  const totalH = dilation[0] * (kernel[0] - 1);
  const totalW = dilation[1] * (kernel[1] - 1);
  return {
    top: Math.floor(totalH / 2),
    bottom: totalH - Math.floor(totalH / 2),
    left: Math.floor(totalW / 2),
    right: totalW - Math.floor(totalW / 2),
  };
}
