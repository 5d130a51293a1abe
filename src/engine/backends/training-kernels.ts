/**
 * Training kernels for the tfjs wasm and cpu backends (4.22). wasm lacks
 * Conv2DBackpropFilter and both depthwise backprop kernels, and its
 * Conv2DBackpropInput, AvgPoolGrad, MaxPoolGrad and transposed BatchMatMul
 * are scalar loops 3-30 times slower than its XNNPACK convolution and matrix
 * product; its Sum, Mean, Slice, Reverse and Identity copy far more than they
 * need to. The Conv2DBackpropFilter of cpu and webgpu is 1.1-35 times slower
 * than the same gradient written as a convolution. Most kernels here are
 * composites (composite-gradients.ts) of the backend's fast kernels; a few are
 * JavaScript loops over wasm's memory (heap-kernels.ts). docs/backends.md has
 * the measurements.
 */

import type {
  AvgPoolGradAttrs,
  BatchMatMulAttrs,
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import {
  avgPoolInputGradient,
  conv2dByMatMul,
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  poolWindowsUnpadded,
} from './composite-gradients';
import { identity, leadingAxesReduction, maxPoolGrad, reverse, slice } from './heap-kernels';

const BACKEND = 'wasm';
const MIN_COMPOSITE_INPUT_CHANNELS = 4;
/** Convolutions over maps this small, with this many input channels, run as a matrix product. */
const MAX_MATMUL_CONV_POSITIONS = 9;
const MIN_MATMUL_CONV_CHANNELS = 256;

/**
 * A Tensor sharing a kernel input's data. The backend counts the view as one
 * more reference, so disposing it leaves the input alive.
 */
function view(info: TensorInfo): tf.Tensor {
  tf.engine().backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Runs `compute` on views of the kernel's inputs; its result becomes the kernel output. */
function composite(
  inputs: TensorInfo[],
  compute: (...tensors: tf.Tensor4D[]) => tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => compute(...inputs.map((info) => view(info) as tf.Tensor4D)));
}

function requireNHWC(attrs: NamedAttrMap, kernel: string): void {
  const format = attrs.dataFormat as string | undefined;
  if (format != null && format !== 'NHWC') {
    throw new Error(
      `${kernel} on the wasm backend supports the NHWC data format only, not ${format}.`,
    );
  }
}

const filterGradient: KernelFunc = ({ inputs, attrs }) => {
  requireNHWC(attrs!, tf.Conv2DBackpropFilter);
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  return composite([inputs.x!, inputs.dy!], (x, dy) =>
    conv2dFilterGradient(x, dy, a.filterShape, a),
  );
};

/** Kernels the wasm backend does not have. */
const missing: KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropFilter, backendName: BACKEND, kernelFunc: filterGradient },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
      return composite([inputs.x!, inputs.dy!], (x, dy) =>
        depthwiseFilterGradient(x, dy, a.filterShape, a),
      );
    },
  },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
      return composite([inputs.dy!, inputs.filter!], (dy, filter) =>
        depthwiseInputGradient(a.inputShape, dy, filter, a),
      );
    },
  },
];

/** Faster versions of slow wasm kernels; `original` is the backend's own, for the cases they leave to it. */
const faster: { kernelName: string; make: (original: KernelFunc) => KernelFunc }[] = [
  {
    kernelName: tf.Conv2DBackpropInput,
    make: (original) => (args) => {
      requireNHWC(args.attrs!, tf.Conv2DBackpropInput);
      const a = args.attrs as unknown as Conv2DBackpropInputAttrs;
      // Towards an input of few channels the composite's convolution has as
      // few output channels, XNNPACK's weak case (ResNet's 7×7/2 stem on
      // gray images: 2.2 s against wasm's own 0.3 s).
      if (a.inputShape[3] < MIN_COMPOSITE_INPUT_CHANNELS) return original(args);
      return composite([args.inputs.dy!, args.inputs.filter!], (dy, filter) =>
        conv2dInputGradient(a.inputShape, dy, filter, a),
      );
    },
  },
  {
    kernelName: tf.Conv2D,
    make: (original) => (args) => {
      const a = args.attrs as unknown as Conv2DAttrs;
      const x = args.inputs.x as TensorInfo;
      const filter = args.inputs.filter as TensorInfo;
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        a.strides,
        a.dilations,
        a.pad,
        a.dimRoundingMode,
      );
      // Measured: faster for 3×3 outputs of 256-512 channels, not for 4×4 or larger maps.
      const unit = info.strideHeight * info.strideWidth * info.dilationHeight * info.dilationWidth;
      if (
        a.dataFormat === 'NCHW' ||
        unit !== 1 ||
        info.outHeight * info.outWidth > MAX_MATMUL_CONV_POSITIONS ||
        info.inChannels < MIN_MATMUL_CONV_CHANNELS
      ) {
        return original(args);
      }
      return composite([x, filter], (x4, f) => conv2dByMatMul(x4, f, a.pad));
    },
  },
  {
    kernelName: tf.AvgPoolGrad,
    make: (original) => (args) => {
      const a = args.attrs as unknown as AvgPoolGradAttrs;
      const inputShape = args.inputs.input!.shape as [number, number, number, number];
      // Padded windows divide by their in-bounds count: left to the backend's kernel.
      if (!poolWindowsUnpadded(inputShape, a)) return original(args);
      return composite([args.inputs.dy!], (dy) => avgPoolInputGradient(inputShape, dy, a));
    },
  },
  {
    kernelName: tf.MaxPoolGrad,
    make: (original) => (args) =>
      (args.inputs.input as TensorInfo).dtype === 'float32' ? maxPoolGrad(args) : original(args),
  },
  { kernelName: tf.Sum, make: (original) => leadingAxesReduction(original, false) },
  { kernelName: tf.Slice, make: slice },
  { kernelName: tf.Reverse, make: reverse },
  {
    kernelName: tf.Identity,
    make: (original) => (args) =>
      (args.inputs.x as TensorInfo).dtype === 'string' ? original(args) : identity(args),
  },
  { kernelName: tf.Mean, make: (original) => leadingAxesReduction(original, true) },
  {
    // XNNPACK multiplies untransposed operands only; tfjs's fallback loop for
    // transposed ones (every dense layer's gradient) is 10-25 times slower.
    kernelName: tf.BatchMatMul,
    make: (original) => (args) => {
      const a = args.attrs as unknown as BatchMatMulAttrs;
      if (!a.transposeA && !a.transposeB) return original(args);
      return tf.tidy(() => {
        const operand = (info: TensorInfo, transpose: boolean) => {
          const t = view(info);
          if (!transpose) return t;
          const axes = t.shape.map((_, i) => i);
          axes.splice(-2, 2, t.rank - 1, t.rank - 2);
          return tf.transpose(t, axes);
        };
        const aT = operand(args.inputs.a!, a.transposeA);
        const bT = operand(args.inputs.b!, a.transposeB);
        return tf
          .engine()
          .runKernel(
            tf.BatchMatMul,
            { a: aT, b: bT },
            { ...args.attrs, transposeA: false, transposeB: false },
          ) as tf.Tensor;
      });
    },
  },
];

const registered = new Set<string>();

/** The backends' own kernels that were replaced, by "backend/kernel" (for benchmarks). */
export const replacedKernels = new Map<string, KernelFunc>();

function replace(
  kernelName: string,
  backendName: string,
  make: (original: KernelFunc) => KernelFunc,
) {
  const original = tf.getKernel(kernelName, backendName);
  if (original == null) return;
  replacedKernels.set(`${backendName}/${kernelName}`, original.kernelFunc);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) });
}

/** Registers the missing training kernels for 'wasm' and replaces its slow ones (once). */
export function registerWasmTrainingKernels(): void {
  if (registered.has(BACKEND)) return;
  registered.add(BACKEND);
  for (const config of missing) {
    if (tf.getKernel(config.kernelName, BACKEND) == null) tf.registerKernel(config);
  }
  for (const { kernelName, make } of faster) replace(kernelName, BACKEND, make);
}

/**
 * Replaces a backend's own filter gradient with the composite (once): 20-35
 * times faster on cpu, 1.1-7.6 times on webgpu (docs/backends.md).
 */
export function registerFastFilterGradient(backendName: 'cpu' | 'webgpu'): void {
  if (registered.has(backendName)) return;
  registered.add(backendName);
  replace(tf.Conv2DBackpropFilter, backendName, () => filterGradient);
}
