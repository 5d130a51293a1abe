/**
 * Times a convolution and its gradients on a backend, on the layer shapes of
 * the course's LeNet-5 (28×28, batch 128) and ResNet-18 (96×96, batch 32):
 * the kernels as the studio registers them (on wasm its own SIMD kernels,
 * simd-kernels.ts), the backend's own kernels where the studio replaced them
 * ("own"; wasm has no filter gradient of its own), and the composites of
 * composite-gradients.ts; and checks that they agree. Usage:
 *   npx tsx scripts/bench-conv-gradients.ts [backend] [repeats] [--threads=T] [--cpu]
 * (backend: wasm, webgpu, cpu, tensorflow; default wasm). --cpu times with
 * this process's CPU time, which leaves out the time other programs held
 * the core on a busy machine (with one thread).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../src/core/training/options';
import { initBackend } from '../src/engine/backends';
import {
  conv2dFilterGradient,
  conv2dInputGradient,
} from '../src/engine/backends/composite-gradients';
import { replacedKernels } from '../src/engine/backends/training-kernels';
import { cpuClock, now, positional, threads } from './measure-flags';

type Shape4 = [number, number, number, number];
type Layer = [name: string, x: Shape4, filter: Shape4, stride: number, pad: number];
const LAYERS: Layer[] = [
  ['lenet conv1 5×5 1→6', [128, 28, 28, 1], [5, 5, 1, 6], 1, 2],
  ['lenet conv2 5×5 6→16', [128, 14, 14, 6], [5, 5, 6, 16], 1, 0],
  ['resnet stem 7×7/2 1→64', [32, 96, 96, 1], [7, 7, 1, 64], 2, 3],
  ['resnet 3×3 64→64 @24', [32, 24, 24, 64], [3, 3, 64, 64], 1, 1],
  ['resnet 3×3/2 64→128 @24', [32, 24, 24, 64], [3, 3, 64, 128], 2, 1],
  ['resnet 3×3 256→256 @6', [32, 6, 6, 256], [3, 3, 256, 256], 1, 1],
  ['resnet 3×3 512→512 @3', [32, 3, 3, 512], [3, 3, 512, 512], 1, 1],
];

const backend = (positional[0] ?? 'wasm') as BackendChoice;
const repeats = Number(positional[1] ?? 5);
const runtime = await initBackend(backend, { threads });
console.log(
  `backend ${runtime.backend} (${runtime.device})${runtime.note ? ` note: ${runtime.note}` : ''}`,
);

/** Runs a kernel as the backend shipped it, if the studio replaced it. */
function ownKernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor {
  const own = replacedKernels.get(`${runtime.backend}/${name}`);
  if (own == null) return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
  const info = own({ inputs, attrs, backend: tf.backend() }) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

async function time(f: () => tf.Tensor): Promise<{ ms: number; value: Float32Array }> {
  const first = f();
  const value = (await first.data()) as Float32Array;
  first.dispose();
  const start = now();
  for (let i = 0; i < repeats; i++) {
    const t = f();
    await t.data();
    t.dispose();
  }
  return { ms: (now() - start) / repeats, value };
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

console.log(
  `ms per call${cpuClock ? ' (CPU time)' : ''}: layer | forward: registered, own | filter grad: registered, composite | input grad: registered, own, composite | max rel. error`,
);
for (const [name, xShape, fShape, stride, p] of LAYERS) {
  const pad: [[0, 0], [number, number], [number, number], [0, 0]] = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  const x = tf.randomNormal(xShape) as tf.Tensor4D;
  const filter = tf.randomNormal(fShape) as tf.Tensor4D;
  const y = tf.conv2d(x, filter, stride, pad);
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const geometry = { strides: stride, pad };
  const attrs = {
    strides: stride,
    pad,
    dataFormat: 'NHWC',
    dilations: 1,
  } as unknown as tf.NamedAttrMap;
  const filterAttrs = { ...attrs, filterShape: fShape };
  const inputAttrs = { ...attrs, inputShape: xShape };
  const forward = await time(() => tf.conv2d(x, filter, stride, pad));
  const ownForward = await time(() => ownKernel('Conv2D', { x, filter }, attrs));
  const filterGrad = await time(
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, filterAttrs) as tf.Tensor,
  );
  const compositeFilter = await time(() => conv2dFilterGradient(x, dy, fShape, geometry));
  const inputGrad = await time(
    () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, inputAttrs) as tf.Tensor,
  );
  const ownInput = await time(() => ownKernel('Conv2DBackpropInput', { dy, filter }, inputAttrs));
  const compositeInput = await time(() => conv2dInputGradient(xShape, dy, filter, geometry));
  const error = Math.max(
    relativeError(ownForward.value, forward.value),
    relativeError(compositeFilter.value, filterGrad.value),
    relativeError(ownInput.value, inputGrad.value),
    relativeError(compositeInput.value, inputGrad.value),
  );
  const ms = [
    forward,
    ownForward,
    filterGrad,
    compositeFilter,
    inputGrad,
    ownInput,
    compositeInput,
  ];
  console.log(
    `${[name, ...ms.map((t) => t.ms.toFixed(2))].join(' | ')} | ${error.toExponential(1)}`,
  );
  tf.dispose([x, filter, y, dy]);
}
