/** Merges of several inputs: element-wise Add (residual connections) and Concat along channels. */
import { formatShape, type Shape, ShapeError, shapesEqual } from '../shape';
import { defineLayer } from './types';

export const Add = defineLayer({
  type: 'Add',
  label: 'Add',
  category: 'structure',
  description:
    'Sums its inputs element-wise (a residual connection); all must have the same shape.',
  inputs: { min: 2, max: Infinity },
  fields: {},
  infer(inputs) {
    const first = inputs[0];
    if (!inputs.every((s) => shapesEqual(s, first))) {
      throw new ShapeError(
        `Add needs inputs of equal shape but got ${inputs.map(formatShape).join(', ')}; match them with a 1×1 Conv2d (channels) or a strided layer (size) on one path`,
      );
    }
    return { output: first, macs: 0 };
  },
  forward: ({ tf }, inputs) => tf.addN(inputs),
});

export const Concat = defineLayer({
  type: 'Concat',
  label: 'Concat',
  category: 'structure',
  description:
    'Stacks its inputs along the channels (dim=1, as torch.cat); batch, height and width must match.',
  inputs: { min: 2, max: Infinity },
  fields: {},
  infer(inputs) {
    const first = inputs[0];
    const rank = first.length;
    const sameOutside = (s: Shape) =>
      s.length === rank && s.every((d, i) => i === 1 || d === first[i]);
    if (rank < 2 || !inputs.every(sameOutside)) {
      throw new ShapeError(
        `Concat joins along the channels, so every other dimension must match, but got ${inputs.map(formatShape).join(', ')}; give the paths the same height and width (padding, stride)`,
      );
    }
    const output = [...first];
    output[1] = inputs.reduce((sum, s) => sum + s[1], 0);
    return { output, macs: 0 };
  },
  // dim=1 of N×C×H×W (or N×F) is the last axis of tfjs's NHWC.
  forward: ({ tf }, inputs) => tf.concat(inputs, -1),
});
