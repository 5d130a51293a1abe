/**
 * Weight layouts. The studio's weights are PyTorch's (names, shapes, element
 * order): checkpoints, evaluation and every exporter see them so. A layer's
 * tfjs ops may want another layout (a convolution's filter as
 * [kh, kw, in, out], not [out, in, kh, kw]): its WeightSpec says how to get it
 * from PyTorch's, and a model compiled for training keeps the weight that way,
 * so no step rearranges it. Pure: plain arrays, no tfjs.
 */
import type { KernelLayout } from '../layers/types';
import type { NamedTensor } from '../weights/safetensors';

/** The shape of a weight of PyTorch shape `shape` in `layout`. */
export function kernelShape(shape: number[], layout: KernelLayout): number[] {
  const source = layout.reshape ?? shape;
  return layout.perm.map((axis) => source[axis]);
}

function strides(shape: number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) out[d] = out[d + 1] * shape[d + 1];
  return out;
}

/** `data` of shape `shape` with its axes permuted by `perm` (out axis d is in axis perm[d]). */
export function transposeData(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const outShape = perm.map((axis) => shape[axis]);
  const inStrides = strides(shape);
  // The input stride of each output axis, innermost last.
  const step = perm.map((axis) => inStrides[axis]);
  const rank = outShape.length;
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[from];
    // Advance the output index like an odometer, moving `from` along.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      from += step[d];
      if (index[d] < outShape[d]) break;
      from -= step[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** A weight in PyTorch's layout, rearranged into `layout`. */
export function toKernelLayout(t: NamedTensor, layout: KernelLayout): NamedTensor {
  const source = layout.reshape ?? t.shape;
  return {
    shape: kernelShape(t.shape, layout),
    data: transposeData(t.data, source, layout.perm),
  };
}

/** A weight in `layout`, back in PyTorch's layout of shape `pytorchShape`. */
export function toPyTorchLayout(
  t: NamedTensor,
  pytorchShape: number[],
  layout: KernelLayout,
): NamedTensor {
  const inverse = new Array<number>(layout.perm.length);
  layout.perm.forEach((axis, d) => {
    inverse[axis] = d;
  });
  return { shape: [...pytorchShape], data: transposeData(t.data, t.shape, inverse) };
}
