/** Conv2d with PyTorch semantics: per-axis kernel/stride/dilation, explicit or same/valid padding, groups. */
import {
  expectFeatureMap,
  type Padding4,
  type Pair,
  ShapeError,
  samePadding,
  symmetricPadding,
  windowOutput,
} from '../shape';
import { bool, int, type ParamsOf, padding, pair } from './fields';
import { defineLayer, type KernelLayout, type Tensor, type TF } from './types';
import { explainWindow } from './window';

export function resolveConvPadding(
  p: Pick<Conv2dParams, 'padding' | 'kernel_size' | 'stride' | 'dilation'>,
): Padding4 {
  if (p.padding === 'valid') return symmetricPadding([0, 0]);
  if (p.padding === 'same') {
    if (p.stride[0] !== 1 || p.stride[1] !== 1) {
      throw new ShapeError(
        `padding 'same' needs stride 1 (PyTorch does not support it for strided convolutions); stride is ${p.stride.join('×')}. Give the padding as numbers instead`,
        'padding',
      );
    }
    return samePadding(p.kernel_size, p.dilation);
  }
  return symmetricPadding(p.padding);
}

/** Pads NHWC activations on H and W with a constant. */
export function padSpatial(tf: TF, x: Tensor, pad: Padding4, value = 0): Tensor {
  if (pad.top === 0 && pad.bottom === 0 && pad.left === 0 && pad.right === 0) return x;
  return tf.pad(
    x,
    [
      [0, 0],
      [pad.top, pad.bottom],
      [pad.left, pad.right],
      [0, 0],
    ],
    value,
  );
}

/**
 * How tfjs takes a Conv2d weight: [kh, kw, in/groups, out] for conv2d;
 * [kh, kw, in, multiplier] for a depthwise convolution (groups = in
 * channels), where PyTorch's output channel c·multiplier + j reads input
 * channel c, as tfjs orders them.
 */
export function convKernelLayout(weightShape: Shape4, groups: number): KernelLayout {
  const [outChannels, inPerGroup, kh, kw] = weightShape;
  return inPerGroup === 1 && groups > 1
    ? { reshape: [groups, outChannels / groups, kh, kw], perm: [2, 3, 0, 1] }
    : { perm: [2, 3, 1, 0] };
}

/**
 * A 2-D convolution (plus bias) on NHWC input with a filter in tfjs's layout
 * (convKernelLayout). Padding is passed to the convolution itself (no padded
 * copy of the input) and, for inference, the bias is fused into it where tfjs
 * can (dilation 1): fewer kernels per step.
 */
export function conv2dNHWC(
  tf: TF,
  x: Tensor,
  filter: Tensor4D,
  {
    stride,
    dilation,
    groups,
    pad,
    bias,
    training = false,
  }: {
    stride: Pair;
    dilation: Pair;
    groups: number;
    pad: Padding4;
    bias?: Tensor;
    training?: boolean;
  },
): Tensor {
  const explicit: ExplicitPadding = [
    [0, 0],
    [pad.top, pad.bottom],
    [pad.left, pad.right],
    [0, 0],
  ];
  const dilated = dilation[0] > 1 || dilation[1] > 1;
  // tfjs refuses stride > 1 together with dilation > 1: convolve densely, then subsample.
  const bothStrideAndDilation = dilated && (stride[0] > 1 || stride[1] > 1);
  const strides: Pair = bothStrideAndDilation ? [1, 1] : stride;
  const depthwise = groups > 1 && x.shape[3] === groups;
  // The fused op adds the bias in the same kernel. Dilated (tfjs cannot differentiate
  // the fused op then) and grouped convolutions add it afterwards, and so does
  // training: tfjs differentiates the fused op as one custom gradient that always
  // computes the input's gradient too, even the image's (ResNet-18's stem: 0.3 s
  // of a 7 s step on wasm), where separate ops get only the gradients needed.
  const fusedBias = groups === 1 && !dilated && !training ? bias : undefined;
  const convolve = (input: Tensor, f: Tensor4D): Tensor => {
    const x4 = input as Tensor4D;
    if (depthwise) return tf.depthwiseConv2d(x4, f, strides, explicit, 'NHWC', dilation);
    if (fusedBias) {
      return tf.fused.conv2d({
        x: x4,
        filter: f,
        strides,
        pad: explicit,
        dilations: dilation,
        bias: fusedBias,
      });
    }
    return tf.conv2d(x4, f, strides, explicit, 'NHWC', dilation);
  };
  let y: Tensor;
  if (groups === 1 || depthwise) {
    y = convolve(x, filter);
  } else {
    const inputs = tf.split(x, groups, 3);
    const filters = tf.split(filter, groups, 3);
    y = tf.concat(
      inputs.map((input, g) => convolve(input, filters[g] as Tensor4D)),
      3,
    );
  }
  if (bothStrideAndDilation) y = subsample(tf, y, stride);
  return bias && !fusedBias ? tf.add(y, bias) : y;
}
/**
 * Every stride-th row and column of NHWC y, from the first. Written with
 * pad, reshape and slice, which tfjs can differentiate (it has no gradient
 * for stridedSlice), so strided dilated convolutions train.
 */
function subsample(tf: TF, y: Tensor, [sh, sw]: Pair): Tensor {
  const [n, h, w, c] = y.shape as Shape4;
  const oh = Math.ceil(h / sh);
  const ow = Math.ceil(w / sw);
  const padded = tf.pad(y, [
    [0, 0],
    [0, oh * sh - h],
    [0, ow * sw - w],
    [0, 0],
  ]);
  const grouped = tf.reshape(padded, [n, oh, sh, ow, sw, c]);
  return tf.reshape(tf.slice(grouped, [0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c]), [n, oh, ow, c]);
}
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
type Shape4 = [number, number, number, number];
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

const conv2dFields = {
  out_channels: int({ default: 6, min: 1, help: 'Number of output channels (kernels).' }),
  kernel_size: pair({ default: 3, help: 'Kernel height and width.' }),
  stride: pair({ default: 1, help: 'Step between windows along height and width.' }),
  padding: padding({
    default: 0,
    help: "Zeros added on each side: a number, [height, width], 'same' (stride 1) or 'valid'.",
  }),
  dilation: pair({ default: 1, help: 'Spacing between kernel taps.' }),
  groups: int({
    default: 1,
    min: 1,
    help: 'Split channels into this many independent groups (ResNeXt).',
  }),
  bias: bool({ default: true, help: 'Add a learned bias per output channel.' }),
};

export type Conv2dParams = ParamsOf<typeof conv2dFields>;

export const Conv2d = defineLayer({
  type: 'Conv2d',
  label: 'Conv2d',
  category: 'convolution',
  description:
    'Slides learned kernels over the image (cross-correlation); input channels are inferred.',
  inputs: { min: 1, max: 1 },
  fields: conv2dFields,
  idStem: 'conv',
  learnsKernels: true,
  infer([input], p) {
    const [n, c, h, w] = expectFeatureMap(input, 'Conv2d');
    if (c % p.groups !== 0 || p.out_channels % p.groups !== 0) {
      throw new ShapeError(
        `groups=${p.groups} must divide both the input channels (${c}) and out_channels (${p.out_channels})`,
        'groups',
      );
    }
    const pad = resolveConvPadding(p);
    const [oh, ow] = windowOutput('Conv2d', [h, w], p.kernel_size, p.stride, pad, p.dilation);
    const macs =
      n * p.out_channels * oh * ow * (c / p.groups) * p.kernel_size[0] * p.kernel_size[1];
    return {
      output: [n, p.out_channels, oh, ow],
      macs,
      receptive: { kernel: p.kernel_size, stride: p.stride, dilation: p.dilation },
    };
  },
  weights([input], p) {
    const inPerGroup = input[1] / p.groups;
    const [kh, kw] = p.kernel_size;
    const fanIn = inPerGroup * kh * kw;
    const fanOut = p.out_channels * kh * kw;
    return [
      {
        name: 'weight',
        shape: [p.out_channels, inPerGroup, kh, kw],
        trainable: true,
        init: { role: 'kernel', fanIn, fanOut },
        kernelLayout: convKernelLayout([p.out_channels, inPerGroup, kh, kw], p.groups),
      },
      ...(p.bias
        ? [
            {
              name: 'bias',
              shape: [p.out_channels],
              trainable: true,
              init: { role: 'bias' as const, fanIn, fanOut },
            },
          ]
        : []),
    ];
  },
  forward(ctx, [x], p) {
    return conv2dNHWC(ctx.tf, x, ctx.weight('weight') as Tensor4D, {
      stride: p.stride,
      dilation: p.dilation,
      groups: p.groups,
      pad: resolveConvPadding(p),
      bias: p.bias ? ctx.weight('bias') : undefined,
      training: ctx.training,
    });
  },
  explain: ([input], p) =>
    explainWindow(input, p.kernel_size, p.stride, resolveConvPadding(p), p.dilation),
});
