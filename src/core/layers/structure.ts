/** Flatten (PyTorch's C,H,W order), ZeroPad2d, Dropout and Dropout2d. */
import { expectFeatureMap, numel, type Shape, ShapeError } from '../shape';
import { padSpatial } from './conv';
import { float, intList } from './fields';
import { defineLayer, type Tensor } from './types';

export const Flatten = defineLayer({
  type: 'Flatten',
  label: 'Flatten',
  category: 'structure',
  description: 'Turns N×C×H×W into N×(C·H·W), in PyTorch’s channel-first order, for Linear layers.',
  inputs: { min: 1, max: 1 },
  fields: {},
  infer([input]) {
    const [n, ...rest] = input;
    return { output: [n, numel(rest)] as Shape, macs: 0 };
  },
  forward({ tf }, [x]) {
    if (x.rank !== 4) return tf.reshape(x, [x.shape[0], -1]);
    const [n, h, w, c] = x.shape;
    // PyTorch flattens C,H,W; tfjs holds H,W,C. When H·W or C is 1 the orders coincide.
    const channelsFirst = h * w === 1 || c === 1 ? x : tf.transpose(x, [0, 3, 1, 2]);
    return tf.reshape(channelsFirst, [n, c * h * w]);
  },
  explain([input]) {
    if (!input || input.length < 2) return [];
    const [, ...rest] = input;
    return [`${rest.join('·')} = ${numel(rest)} features (C, H, W order, as PyTorch)`];
  },
});

export const ZeroPad2d = defineLayer({
  type: 'ZeroPad2d',
  label: 'ZeroPad2d',
  category: 'structure',
  description:
    'Adds rows and columns of zeros around each map, each side its own number (MobileNet pads only after).',
  inputs: { min: 1, max: 1 },
  idStem: 'pad',
  fields: {
    padding: intList({
      default: [1, 1, 1, 1],
      min: 0,
      help: 'Zeros on each side: left, right, top, bottom (as nn.ZeroPad2d).',
    }),
  },
  infer([input], p) {
    const [n, c, h, w] = expectFeatureMap(input, 'ZeroPad2d');
    const [left, right, top, bottom] = sides(p.padding);
    return { output: [n, c, h + top + bottom, w + left + right], macs: 0 };
  },
  forward({ tf }, [x], p) {
    const [left, right, top, bottom] = sides(p.padding);
    return padSpatial(tf, x, { top, bottom, left, right });
  },
});

/** ZeroPad2d's padding as [left, right, top, bottom]. */
export function sides(padding: number[]): [number, number, number, number] {
  if (padding.length !== 4) {
    throw new ShapeError(
      `padding needs four numbers (left, right, top, bottom) but has ${padding.length}`,
      'padding',
    );
  }
  return padding as [number, number, number, number];
}

/** PyTorch's Dropout (each value) and Dropout2d (whole channels); both seed their masks from the run. */
function defineDropout<T extends 'Dropout' | 'Dropout2d'>(
  type: T,
  description: string,
  what: string,
  /** The mask's shape for an NHWC (or N×F) input; undefined: one draw per value. */
  noiseShape: (x: Tensor) => number[] | undefined,
) {
  return defineLayer({
    type,
    label: type,
    category: 'structure',
    description,
    inputs: { min: 1, max: 1 },
    fields: {
      p: float({ default: 0.5, min: 0, max: 1, help: `Probability of zeroing each ${what}.` }),
    },
    infer([input]) {
      if (type === 'Dropout2d') expectFeatureMap(input, type);
      return { output: input, macs: 0 };
    },
    seedsPerPass: (p) => (p.p > 0 && p.p < 1 ? 1 : 0),
    forward(ctx, [x], p) {
      const { tf } = ctx;
      if (!ctx.training || p.p === 0) return x;
      if (p.p === 1) return tf.zerosLike(x);
      return tf.dropout(x, p.p, noiseShape(x), ctx.nextSeed());
    },
  });
}

export const Dropout = defineDropout(
  'Dropout',
  'While training, zeroes each value with probability p and scales the rest by 1/(1−p); does nothing at inference.',
  'value',
  () => undefined,
);

export const Dropout2d = defineDropout(
  'Dropout2d',
  'While training, zeroes whole channels (each N×C map) with probability p and scales the rest by 1/(1−p); does nothing at inference.',
  'channel',
  // One draw per image and channel: [N, 1, 1, C] in NHWC.
  (x) => [x.shape[0] as number, 1, 1, x.shape[3] as number],
);
