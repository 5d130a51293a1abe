/**
 * Pooling with PyTorch semantics: MaxPool2d pads with −∞, AvgPool2d counts the
 * zero padding in its average (count_include_pad=True), the stride defaults to
 * the kernel size, ceil_mode keeps a last partial window, and
 * AdaptiveAvgPool2d uses PyTorch's start/end index rule.
 */
import {
  ceilPoolLength,
  ceilPoolWindows,
  expectFeatureMap,
  type Padding4,
  type Pair,
  type Shape,
  ShapeError,
  symmetricPadding,
  windowOutput,
} from '../shape';
import { padSpatial } from './conv';
import { bool, optionalPair, type ParamsOf, pair } from './fields';
import { defineLayer, type Tensor, type TF } from './types';
import { explainWindow } from './window';

type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;

const poolFields = {
  kernel_size: pair({ default: 2, help: 'Window height and width.' }),
  stride: optionalPair({
    help: 'Step between windows; leave empty to use the kernel size (PyTorch’s default).',
  }),
  padding: pair({
    default: 0,
    min: 0,
    help: 'Padding on each side, at most half the kernel size (as PyTorch requires).',
  }),
  ceil_mode: bool({
    default: false,
    help: 'Round the output size up (PyTorch’s ceil_mode): a last window that runs past the input is kept when it starts inside the input or its leading padding.',
  }),
};

/** MaxPool2d's and AvgPool2d's parameters; a null stride equals the kernel size, as in PyTorch. */
export type PoolParams = ParamsOf<typeof poolFields>;

function strideOf(p: PoolParams): Pair {
  return p.stride ?? p.kernel_size;
}

function inferPool(layer: string, input: Shape, p: PoolParams) {
  const [n, c, h, w] = expectFeatureMap(input, layer);
  const [ph, pw] = p.padding;
  const [kh, kw] = p.kernel_size;
  if (2 * ph > kh || 2 * pw > kw) {
    throw new ShapeError(
      `${layer}: padding ${ph}×${pw} is more than half the kernel ${kh}×${kw}; PyTorch allows at most ${Math.floor(kh / 2)}×${Math.floor(kw / 2)} here, so lower the padding or enlarge the kernel`,
      'padding',
    );
  }
  const stride = strideOf(p);
  // The floor size also checks that the kernel fits; ceil_mode can only add a window to it.
  const floor = windowOutput(layer, [h, w], p.kernel_size, stride, symmetricPadding(p.padding));
  const [oh, ow] = p.ceil_mode
    ? [ceilPoolLength(h, kh, stride[0], ph), ceilPoolLength(w, kw, stride[1], pw)]
    : floor;
  return {
    output: [n, c, oh, ow],
    // Comparisons and additions, not multiply-accumulates.
    macs: 0,
    receptive: { kernel: p.kernel_size, stride },
  };
}

function makePool<T extends 'MaxPool2d' | 'AvgPool2d'>(layer: T) {
  const kind = layer === 'MaxPool2d' ? 'max' : 'avg';
  return defineLayer({
    type: layer,
    label: layer,
    idStem: 'pool',
    category: 'pooling',
    description:
      kind === 'max'
        ? 'Keeps the largest value of each window (padding never wins: it is −∞).'
        : 'Averages each window; padded zeros count in the average, as PyTorch’s default.',
    inputs: { min: 1, max: 1 },
    fields: poolFields,
    infer: ([input], p) => inferPool(layer, input, p),
    forward({ tf }, [x], p) {
      // Pad explicitly, then pool 'valid': −∞ for max (padding never wins), 0 for
      // average (the padded zeros count, PyTorch's count_include_pad=True).
      const [, h, w] = x.shape as number[];
      const windows = poolWindows([h, w], p);
      const padded = padSpatial(
        tf,
        x,
        windows.padding,
        kind === 'max' ? Number.NEGATIVE_INFINITY : 0,
      ) as Tensor4D;
      if (kind === 'max') return tf.maxPool(padded, p.kernel_size, strideOf(p), 'valid');
      const pooled = tf.avgPool(padded, p.kernel_size, strideOf(p), 'valid');
      // A window running past the padded input (ceil_mode) averages only what it covers.
      const { rescale } = windows;
      return rescale ? tf.mul(pooled, tf.tensor4d(rescale.factors, rescale.shape)) : pooled;
    },
    explain: ([input], p) =>
      explainWindow(
        input,
        p.kernel_size,
        strideOf(p),
        symmetricPadding(p.padding),
        [1, 1],
        p.ceil_mode,
      ),
  });
}

/**
 * How a pooling layer reads an H×W input: the padding on each side (ceil_mode
 * adds a last window's overhang at the bottom and right) and, where such a
 * window covers fewer than kh·kw padded positions, the factor kh·kw / covered
 * per output position ([1, oh, ow, 1]) that turns AvgPool's plain mean into
 * PyTorch's. The exporters build the same computation from it.
 */
export function poolWindows(
  [h, w]: Pair,
  p: PoolParams,
): { padding: Padding4; rescale?: { factors: Float32Array; shape: [1, number, number, 1] } } {
  const padding = symmetricPadding(p.padding);
  if (!p.ceil_mode) return { padding };
  const [kh, kw] = p.kernel_size;
  const [sh, sw] = strideOf(p);
  const rows = ceilPoolWindows(h, kh, sh, p.padding[0]);
  const cols = ceilPoolWindows(w, kw, sw, p.padding[1]);
  padding.bottom += rows.overhang;
  padding.right += cols.overhang;
  if (rows.overhang === 0 && cols.overhang === 0) return { padding };
  const factors = Float32Array.from(
    rows.lengths.flatMap((lh) => cols.lengths.map((lw) => (kh * kw) / (lh * lw))),
  );
  return { padding, rescale: { factors, shape: [1, rows.lengths.length, cols.lengths.length, 1] } };
}

export const MaxPool2d = makePool('MaxPool2d');
export const AvgPool2d = makePool('AvgPool2d');

/** PyTorch's adaptive window along one axis: [floor(i·in/out), ceil((i+1)·in/out)). */
export function adaptiveWindows(input: number, output: number): [number, number][] {
  return Array.from({ length: output }, (_, i) => [
    Math.floor((i * input) / output),
    Math.ceil(((i + 1) * input) / output),
  ]);
}

/** The [out, in] matrix that averages each adaptive window along one axis. */
function averagingMatrix(tf: TF, input: number, output: number): Tensor {
  const m = new Float32Array(output * input);
  adaptiveWindows(input, output).forEach(([start, end], i) => {
    for (let j = start; j < end; j++) m[i * input + j] = 1 / (end - start);
  });
  return tf.tensor2d(m, [output, input]);
}

export const AdaptiveAvgPool2d = defineLayer({
  type: 'AdaptiveAvgPool2d',
  idStem: 'gap',
  label: 'AdaptiveAvgPool2d',
  category: 'pooling',
  description:
    'Averages into a fixed output size whatever the input size (1×1: global average pooling).',
  inputs: { min: 1, max: 1 },
  fields: {
    output_size: pair({ default: 1, help: 'Output height and width (1: global average).' }),
  },
  infer([input], p) {
    const [n, c, h, w] = expectFeatureMap(input, 'AdaptiveAvgPool2d');
    const [oh, ow] = p.output_size;
    const global = oh === 1 && ow === 1;
    return {
      output: [n, c, oh, ow],
      macs: 0,
      receptive: global
        ? 'global'
        : {
            kernel: [Math.ceil(h / oh), Math.ceil(w / ow)],
            stride: [Math.max(1, Math.floor(h / oh)), Math.max(1, Math.floor(w / ow))],
          },
    };
  },
  forward({ tf }, [x], p) {
    const [n, h, w, c] = x.shape;
    const [oh, ow] = p.output_size;
    if (oh === 1 && ow === 1) return tf.mean(x, [1, 2], true);
    if (h % oh === 0 && w % ow === 0) {
      // Evenly divisible: the windows are a plain average pooling grid.
      const k: Pair = [h / oh, w / ow];
      return tf.avgPool(x as Tensor4D, k, k, 'valid');
    }
    // General case: windows overlap or differ in size. Averaging is separable,
    // so two matrix products (over H, then W) apply PyTorch's windows exactly.
    return tf.tidy(() => {
      const overH = tf.matMul(
        tf.expandDims(averagingMatrix(tf, h, oh), 0),
        tf.reshape(x, [n, h, w * c]),
      ); // [n, oh, w·c]
      const overW = tf.matMul(
        tf.expandDims(averagingMatrix(tf, w, ow), 0),
        tf.reshape(overH, [n * oh, w, c]),
      ); // [n·oh, ow, c]
      return tf.reshape(overW, [n, oh, ow, c]);
    });
  },
  explain([input], p) {
    if (input?.length !== 4) return [];
    const axis = (name: string, size: number, out: number) =>
      `${name}: ${out} windows over ${size}, window i spans [⌊i·${size}/${out}⌋, ⌈(i+1)·${size}/${out}⌉)`;
    return [axis('H', input[2], p.output_size[0]), axis('W', input[3], p.output_size[1])];
  },
});
