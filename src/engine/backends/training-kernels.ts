/**
 * Training kernels for the tfjs wasm and cpu backends (4.22). wasm lacks
 * Conv2DBackpropFilter and both depthwise backprop kernels, and its
 * Conv2DBackpropInput, AvgPoolGrad, MaxPoolGrad and transposed BatchMatMul
 * are scalar loops 3-30 times slower than its XNNPACK convolution and matrix
 * product; its Sum, Mean, Slice, Reverse and Identity copy far more than they
 * need to. The Conv2DBackpropFilter of cpu and webgpu is 1.1-35 times slower
 * than the same gradient written as a convolution. On wasm, convolutions and
 * their gradients run on the studio's own wasm SIMD kernels (simd-kernels.ts)
 * where those compute the geometry, else on composites (composite-gradients.ts)
 * of the backend's fast kernels; a few kernels are JavaScript loops over wasm's
 * memory (heap-kernels.ts). docs/backends.md has the measurements.
 */

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
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
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  poolWindowsUnpadded,
} from './composite-gradients';
import { identity, leadingAxesReduction, maxPoolGrad, reverse, slice } from './heap-kernels';
import { convKernelsSupport, SimdKernels } from './simd-kernels';

const BACKEND = 'wasm';
const MIN_COMPOSITE_INPUT_CHANNELS = 4;

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

/** The geometry of a convolution of x (NHWC) with a filter of this shape. */
function convInfo(
  xShape: number[],
  filterShape: number[],
  a: Pick<Conv2DAttrs, 'strides' | 'pad' | 'dimRoundingMode'> & {
    dilations?: Conv2DAttrs['dilations'];
  },
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
  );
}

/** The studio's wasm convolution kernels for this backend and geometry, if they compute it. */
function convKernelsFor(backend: unknown, info: tf.backend_util.Conv2DInfo): SimdKernels | null {
  const kernels = SimdKernels.of(backend as BackendWasm);
  return kernels && convKernelsSupport(info) ? kernels : null;
}

const filterGradient: KernelFunc = ({ inputs, attrs, backend }) => {
  requireNHWC(attrs!, tf.Conv2DBackpropFilter);
  const a = attrs as unknown as Conv2DBackpropFilterAttrs;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const info = convInfo(x.shape, a.filterShape, a);
  const kernels = convKernelsFor(backend, info);
  if (kernels) return kernels.filterGradient(x, dy, info);
  return composite([x, dy], (x4, dy4) => conv2dFilterGradient(x4, dy4, a.filterShape, a));
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

const sizeOf = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

/**
 * The tensor and the vector of a binary op whose one float32 operand is a
 * vector over the other's last axis (a bias, a batch-norm scale), or null.
 */
function vectorOperand(
  a: TensorInfo,
  b: TensorInfo,
): { tensor: TensorInfo; vector: TensorInfo } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [tensor, vector] = sizeOf(a) >= sizeOf(b) ? [a, b] : [b, a];
  const channels = tensor.shape.at(-1);
  const fits =
    vector.shape.length > 0 &&
    vector.shape.length <= tensor.shape.length &&
    vector.shape.at(-1) === channels &&
    sizeOf(vector) === channels &&
    sizeOf(tensor) > sizeOf(vector);
  return fits ? { tensor, vector } : null;
}

/**
 * Add, Sub or Multiply of a tensor and a vector over its last axis on the
 * studio's wasm kernels: tfjs's broadcasting is 3-12 times slower there (a
 * bias of 6 channels over 128×28×28×6: 2.4 ms against 0.2 for two tensors of
 * one shape).
 */
const channelBroadcast =
  (op: 'add' | 'sub' | 'mul') =>
  (original: KernelFunc): KernelFunc =>
  (args) => {
    const a = args.inputs.a as TensorInfo;
    const plan = vectorOperand(a, args.inputs.b as TensorInfo);
    const kernels = SimdKernels.of(args.backend as BackendWasm);
    if (!plan || !kernels) return original(args);
    return kernels.channelOp(plan.tensor, plan.vector, op, plan.vector === a);
  };

/** Faster versions of slow wasm kernels; `original` is the backend's own, for the cases they leave to it. */
const faster: { kernelName: string; make: (original: KernelFunc) => KernelFunc }[] = [
  {
    kernelName: tf.Conv2DBackpropInput,
    make: (original) => (args) => {
      requireNHWC(args.attrs!, tf.Conv2DBackpropInput);
      const a = args.attrs as unknown as Conv2DBackpropInputAttrs;
      const filter = args.inputs.filter as TensorInfo;
      const info = convInfo(a.inputShape, filter.shape, a);
      const kernels = convKernelsFor(args.backend, info);
      if (kernels) return kernels.inputGradient(args.inputs.dy as TensorInfo, filter, info);
      // Without them: towards an input of few channels the composite's convolution has as
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
      if (a.dataFormat === 'NCHW') return original(args);
      const info = convInfo(x.shape, filter.shape, a);
      const kernels = convKernelsFor(args.backend, info);
      // XNNPACK is faster for 1×1 filters (a plain matrix product).
      const pointwise = info.filterHeight === 1 && info.filterWidth === 1;
      if (!kernels || pointwise) return original(args);
      return kernels.forward(x, filter, info);
    },
  },
  {
    kernelName: tf.AvgPoolGrad,
    make: (original) => (args) => {
      const a = args.attrs as unknown as AvgPoolGradAttrs;
      const inputShape = args.inputs.input!.shape as [number, number, number, number];
      // Padded windows divide by their in-bounds count: left to the backend's kernel.
      if (!poolWindowsUnpadded(inputShape, a)) return original(args);
      const kernels = SimdKernels.of(args.backend as BackendWasm);
      if (kernels) {
        const info = tf.backend_util.computePool2DInfo(
          inputShape,
          a.filterSize,
          a.strides,
          1,
          a.pad,
        );
        return kernels.avgPoolGrad(args.inputs.dy as TensorInfo, inputShape, info);
      }
      return composite([args.inputs.dy!], (dy) => avgPoolInputGradient(inputShape, dy, a));
    },
  },
  {
    kernelName: tf.MaxPoolGrad,
    make: (original) => (args) =>
      (args.inputs.input as TensorInfo).dtype === 'float32' ? maxPoolGrad(args) : original(args),
  },
  { kernelName: tf.Sum, make: (original) => leadingAxesReduction(original, false) },
  { kernelName: tf.Add, make: channelBroadcast('add') },
  { kernelName: tf.Sub, make: channelBroadcast('sub') },
  { kernelName: tf.Multiply, make: channelBroadcast('mul') },
  { kernelName: tf.Slice, make: slice },
  { kernelName: tf.Reverse, make: reverse },
  {
    kernelName: tf.Identity,
    make: (original) => (args) =>
      (args.inputs.x as TensorInfo).dtype === 'string' ? original(args) : identity(args),
  },
  { kernelName: tf.Mean, make: (original) => leadingAxesReduction(original, true) },
  {
    // The studio's kernels multiply one pair of float32 matrices, either one
    // transposed in place. Otherwise: XNNPACK multiplies untransposed operands
    // only, and tfjs's fallback loop for transposed ones (every dense layer's
    // gradient) is 10-25 times slower, so they are transposed first.
    kernelName: tf.BatchMatMul,
    make: (original) => (args) => {
      const a = args.attrs as unknown as BatchMatMulAttrs;
      const left = args.inputs.a as TensorInfo;
      const right = args.inputs.b as TensorInfo;
      const kernels = SimdKernels.of(args.backend as BackendWasm);
      // One matrix each: rank 2, or a batch of 1.
      const single = [left, right].every((t) => t.shape.length === 2 || t.shape[0] === 1);
      const float = left.dtype === 'float32' && right.dtype === 'float32';
      if (kernels && single && float && !(a.transposeA && a.transposeB)) {
        return kernels.matMul(left, right, a.transposeA, a.transposeB);
      }
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
