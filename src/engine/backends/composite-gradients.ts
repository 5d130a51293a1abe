/**
 * Convolution and pooling gradients written with ordinary tfjs ops, so they
 * run on any backend at the speed of its forward kernels. The wasm backend
 * lacks Conv2DBackpropFilter and both depthwise backprop kernels, and its
 * Conv2DBackpropInput and AvgPoolGrad are plain loops many times
 * slower than its XNNPACK convolution (training-kernels.ts registers
 * these functions in their place). Every function takes any stride,
 * dilation and padding. Layout is NHWC; filters are [kh, kw, in, out].
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';

export type Pair = [number, number];
export type ConvPad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

export interface ConvGeometry {
  strides: number | Pair;
  pad: ConvPad;
  dilations?: number | Pair;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const pair = (v: number | Pair | undefined): Pair =>
  v == null ? [1, 1] : typeof v === 'number' ? [v, v] : v;

function geometry(
  xShape: number[],
  filterShape: [number, number, number, number],
  g: ConvGeometry,
  depthwise: boolean,
): backend_util.Conv2DInfo {
  if (g.pad === 'same' || g.pad === 'valid' || typeof g.pad === 'number' || Array.isArray(g.pad)) {
    return backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape,
      pair(g.strides),
      pair(g.dilations),
      g.pad,
      g.dimRoundingMode,
      depthwise,
    );
  }
  throw new Error(`Unknown convolution padding ${JSON.stringify(g.pad)}`);
}

/** Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. */
function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const padded = tf.pad(x, [
    [0, 0],
    [Math.max(top, 0), Math.max(bottom, 0)],
    [Math.max(left, 0), Math.max(right, 0)],
    [0, 0],
  ]);
  const [n, h, w, c] = padded.shape;
  const cropTop = Math.max(-top, 0);
  const cropLeft = Math.max(-left, 0);
  return tf.slice(
    padded,
    [0, cropTop, cropLeft, 0],
    [n, h - cropTop - Math.max(-bottom, 0), w - cropLeft - Math.max(-right, 0), c],
  );
}

/**
 * The input padded and cropped to exactly the rows and columns the
 * convolution reads: a strided convolution may leave trailing ones unused.
 */
function readWindow(x: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
  const [top, bottom, left, right] = windowMargins(info);
  return padOrCrop(x, top, bottom, left, right);
}

/** Padding (positive) or cropping (negative) on each side that gives the read window. */
function windowMargins(info: backend_util.Conv2DInfo): [number, number, number, number] {
  const { top, left } = info.padInfo;
  const needH = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
  return [top, needH - top - info.inHeight, left, needW - left - info.inWidth];
}

/**
 * Inserts (s - 1) zeros between neighbouring rows and columns of an NHWC
 * tensor. Rank 4 throughout: tfjs-webgpu cannot pad rank-6 tensors.
 */
export function dilateSpatial(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let out = x;
  if (sh > 1) {
    const rows = tf.pad(tf.reshape(out, [n, h, 1, w * c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
    ]);
    out = tf.slice(tf.reshape(rows, [n, h * sh, w, c]) as tf.Tensor4D, 0, [
      n,
      (h - 1) * sh + 1,
      w,
      c,
    ]);
  }
  if (sw > 1) {
    const height = out.shape[1];
    const cols = tf.pad(tf.reshape(out, [n * height, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    out = tf.slice(tf.reshape(cols, [n, height, w * sw, c]) as tf.Tensor4D, 0, [
      n,
      height,
      (w - 1) * sw + 1,
      c,
    ]);
  }
  return out;
}

/**
 * Every kernel tap's view of the input, [kh * kw, ...slice] with each slice
 * [n, outH, outW, c] (im2col, one strided slice per tap).
 */
function tapSlices(window: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D[] {
  const [n, , , c] = window.shape;
  const taps: tf.Tensor4D[] = [];
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const top = i * info.dilationHeight;
      const left = j * info.dilationWidth;
      // wasm's stridedSlice is a slow generic loop; a unit stride needs only slice.
      if (info.strideHeight === 1 && info.strideWidth === 1) {
        taps.push(tf.slice(window, [0, top, left, 0], [n, info.outHeight, info.outWidth, c]));
        continue;
      }
      taps.push(
        tf.stridedSlice(
          window,
          [0, top, left, 0],
          [
            n,
            top + (info.outHeight - 1) * info.strideHeight + 1,
            left + (info.outWidth - 1) * info.strideWidth + 1,
            c,
          ],
          [1, info.strideHeight, info.strideWidth, 1],
        ) as tf.Tensor4D,
      );
    }
  }
  return taps;
}

/**
 * dL/dfilter of conv2d(x, filter) given dy, for any stride, dilation and
 * padding. As a convolution over the taps: the input transposed to
 * [cin, h, w, n] convolved with dy transposed to [outH, outW, n, cout] as
 * the filter, with the forward stride as the dilation and the forward
 * dilation as the stride. tfjs convolves with stride and dilation both > 1
 * nowhere, so that case spreads dy with zeros instead.
 */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  g: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = geometry(x.shape, filterShape, g, false);
    const window = readWindow(x, info);
    const inputByChannel = tf.transpose(window, [3, 1, 2, 0]);
    const dilated = info.dilationHeight > 1 || info.dilationWidth > 1;
    const strided = info.strideHeight > 1 || info.strideWidth > 1;
    const dyFilter = tf.transpose(
      dilated && strided ? dilateSpatial(dy, info.strideHeight, info.strideWidth) : dy,
      [1, 2, 0, 3],
    ) as tf.Tensor4D;
    const grad = tf.conv2d(
      inputByChannel as tf.Tensor4D,
      dyFilter,
      [info.dilationHeight, info.dilationWidth],
      'valid',
      'NHWC',
      dilated && strided ? 1 : [info.strideHeight, info.strideWidth],
    );
    return tf.transpose(grad, [1, 2, 0, 3]);
  });
}

/**
 * dL/dx of a convolution, for any stride, dilation and padding: dy spread
 * by the stride, padded for a full correlation, convolved with the flipped
 * filter at the forward dilation. `convolve` is conv2d for ordinary filters
 * and depthwise for depthwise ones.
 */
function inputGradient(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  flippedFilter: tf.Tensor4D,
  info: backend_util.Conv2DInfo,
  convolve: (input: tf.Tensor4D, filter: tf.Tensor4D, dilation: Pair) => tf.Tensor4D,
): tf.Tensor4D {
  const spread = dilateSpatial(dy, info.strideHeight, info.strideWidth);
  const reachH = info.effectiveFilterHeight - 1;
  const reachW = info.effectiveFilterWidth - 1;
  const { top, left } = info.padInfo;
  const padded = padOrCrop(
    spread,
    reachH - top,
    xShape[1] + top - spread.shape[1],
    reachW - left,
    xShape[2] + left - spread.shape[2],
  );
  return convolve(padded, flippedFilter, [info.dilationHeight, info.dilationWidth]);
}

/** dL/dx of conv2d with any stride, dilation and padding. */
export function conv2dInputGradient(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  g: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = geometry(xShape, filter.shape, g, false);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return inputGradient(xShape, dy, flipped, info, (input, f, dilation) =>
      tf.conv2d(input, f, 1, 'valid', 'NHWC', dilation),
    );
  });
}

/** dL/dfilter of depthwiseConv2d (filter [kh, kw, c, multiplier]). */
export function depthwiseFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  g: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = geometry(x.shape, filterShape, g, true);
    const [kh, kw, channels, multiplier] = filterShape;
    const positions = info.batchSize * info.outHeight * info.outWidth;
    // [c, taps, positions] x [c, positions, multiplier]: one product per channel.
    const columns = tf.transpose(
      tf.reshape(tf.stack(tapSlices(readWindow(x, info), info)), [kh * kw, positions, channels]),
      [2, 0, 1],
    );
    const dyByChannel = tf.transpose(tf.reshape(dy, [positions, channels, multiplier]), [1, 0, 2]);
    const grad = tf.matMul(columns as tf.Tensor3D, dyByChannel as tf.Tensor3D);
    return tf.reshape(tf.transpose(grad, [1, 0, 2]), [kh, kw, channels, multiplier]);
  });
}

/** dL/dx of depthwiseConv2d with any stride, dilation and padding. */
export function depthwiseInputGradient(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  g: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = geometry(xShape, filter.shape, g, true);
    const [kh, kw, channels, multiplier] = filter.shape;
    // Each of the c * multiplier output channels flows back to its own input
    // channel: a depthwise convolution over them, then a sum per input channel.
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, channels * multiplier, 1]);
    const perOutput = inputGradient(
      xShape,
      dy,
      flipped as tf.Tensor4D,
      info,
      (input, f, dilation) => tf.depthwiseConv2d(input, f, 1, 'valid', 'NHWC', dilation),
    );
    const [n, h, w] = perOutput.shape;
    return tf.sum(tf.reshape(perOutput, [n, h, w, channels, multiplier]), 4);
  });
}

export interface PoolGeometry {
  filterSize: number | Pair;
  strides: number | Pair;
  pad: ConvPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolGeometry(xShape: number[], g: PoolGeometry): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    g.filterSize,
    g.strides,
    1,
    g.pad,
    g.dimRoundingMode,
  );
}

/**
 * Whether every pooling window lies inside the input. tfjs divides a padded
 * average-pool window by its in-bounds count; the studio pads explicitly
 * first, as PyTorch counts the padding, so its windows are all unpadded.
 */
export function poolWindowsUnpadded(xShape: number[], g: PoolGeometry): boolean {
  const { top, bottom, left, right } = poolGeometry(xShape, g).padInfo;
  return top === 0 && bottom === 0 && left === 0 && right === 0;
}

/** dL/dx of an average pool whose windows are unpadded (see poolWindowsUnpadded). */
export function avgPoolInputGradient(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  g: PoolGeometry,
): tf.Tensor4D {
  const info = poolGeometry(xShape, g);
  if (!poolWindowsUnpadded(xShape, g)) {
    throw new Error('avgPoolInputGradient needs unpadded windows; pad the input explicitly first.');
  }
  return tf.tidy(() => {
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    const [n, oh, ow, c] = dy.shape;
    const share = tf.div(dy, kh * kw);
    if (sh === kh && sw === kw) {
      // Windows tile the input: each input element gets its window's share.
      const spread = tf.reshape(
        tf.mul(tf.reshape(share, [n, oh, 1, ow, 1, c]), tf.ones([1, 1, kh, 1, kw, 1])),
        [n, oh * kh, ow * kw, c],
      ) as tf.Tensor4D;
      return padOrCrop(spread, 0, xShape[1] - oh * kh, 0, xShape[2] - ow * kw);
    }
    const ones = tf.ones([kh, kw, c, 1]) as tf.Tensor4D;
    return depthwiseInputGradient(xShape, share as tf.Tensor4D, ones, {
      strides: [sh, sw],
      pad: 'valid',
    });
  });
}
