/**
 * Kernels for the tfjs wasm backend written in JavaScript over its memory,
 * for gradients that no composite of its kernels computes quickly: the loop
 * runs once over the data, where a composite needs many passes (or, for max
 * pooling, kernels that are wrong: wasm's MaxPoolWithArgmax starts each
 * window's maximum at FLT_MIN, so it misplaces windows of values <= 0).
 * Views of the heap are taken after makeOutput: allocating may grow the
 * heap, which detaches older views.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type {
  KernelFunc,
  MaxPoolGradAttrs,
  ReverseAttrs,
  SliceAttrs,
  SumAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import { SimdKernels } from './simd-kernels';

/**
 * dL/dx of a max pool: each window's dy goes to its first maximum in
 * row-major order, padding never wins (as tfjs's cpu kernel; PyTorch too
 * except for NaN, which PyTorch propagates). One pass over the windows; wasm's
 * own kernel (a loop over dx that re-scans every window covering each
 * element) took 0.37 s for ResNet-18's 3×3/2 pool of 32×50×50×64 and a
 * composite of one strided slice, compare and pad per tap 3.8 s.
 */
export const maxPoolGrad: KernelFunc = ({ inputs, attrs, backend }) => {
  const wasm = backend as BackendWasm;
  const input = inputs.input as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const a = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  // The studio's wasm kernel does the same four channels at a time, split over the threads.
  const kernels = SimdKernels.of(wasm);
  if (kernels) return kernels.maxPoolGrad(input, dy, info);
  const dxInfo = wasm.makeOutput(input.shape, 'float32');
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const g = wasm.typedArrayFromHeap(dy) as Float32Array;
  const dx = wasm.typedArrayFromHeap(dxInfo) as Float32Array;
  dx.fill(0);
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  // Offsets of the window's in-bounds taps, in row-major order.
  const taps = new Int32Array(filterHeight * filterWidth);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, o += c) {
        let count = 0;
        for (let i = 0; i < filterHeight; i++) {
          const y = oy * strideHeight - top + i;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < filterWidth; j++) {
            const xx = ox * strideWidth - left + j;
            if (xx >= 0 && xx < w) taps[count++] = ((n * h + y) * w + xx) * c;
          }
        }
        for (let k = 0; k < c; k++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let t = 0; t < count; t++) {
            const v = x[taps[t] + k];
            if (v > best) {
              best = v;
              at = taps[t] + k;
            }
          }
          if (at >= 0) dx[at] += g[o + k];
        }
      }
    }
  }
  return dxInfo;
};

/**
 * Sum or mean over a float32 input's leading axes (BatchNorm statistics and
 * gradients, bias gradients: N, H and W of NHWC), accumulated in double
 * precision as the cpu backend does; other reductions go to `original`.
 * wasm's own kernels first transpose the reduced axes innermost, a full copy:
 * 80 ms against 16 ms for 32×48×48×64. (A product with a row of ones
 * would be as fast, but XNNPACK caches the packed right operand by tensor id
 * alone, so a second product with the same tensor in another shape reads
 * stale data.)
 */
export function leadingAxesReduction(original: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const input = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, input.shape).sort((a, b) => a - b);
    const k = axes.length;
    const rank = input.shape.length;
    if (input.dtype !== 'float32' || k === 0 || k === rank || axes.some((a, i) => a !== i)) {
      return original(args);
    }
    const wasm = args.backend as BackendWasm;
    const rest = input.shape.slice(k);
    const shape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
    // The studio's wasm kernel sums four columns at a time in SIMD, split over the threads.
    const kernels = SimdKernels.of(wasm);
    if (kernels) return kernels.columnSums(input, util.sizeFromShape(rest), shape, mean);
    const out = wasm.makeOutput(shape, 'float32');
    const x = wasm.typedArrayFromHeap(input) as Float32Array;
    const y = wasm.typedArrayFromHeap(out) as Float32Array;
    const cols = y.length;
    const rows = x.length / cols;
    const acc = new Float64Array(cols);
    let r = 0;
    let o = 0;
    // Four rows at a time: a quarter of the accumulator traffic, twice as fast.
    for (; r + 4 <= rows; r += 4, o += 4 * cols) {
      for (let c = 0; c < cols; c++) {
        const i = o + c;
        acc[c] += x[i] + x[i + cols] + (x[i + 2 * cols] + x[i + 3 * cols]);
      }
    }
    for (; r < rows; r++, o += cols) {
      for (let c = 0; c < cols; c++) acc[c] += x[o + c];
    }
    for (let c = 0; c < cols; c++) y[c] = mean ? acc[c] / rows : acc[c];
    return out;
  };
}

/**
 * Copies `rows` runs of `run` elements from x to out: run r starts at
 * sourceStart(r) in x and at r * run in out.
 */
function copyRuns(
  backend: BackendWasm,
  x: TensorInfo,
  outShape: number[],
  rows: number,
  run: number,
  sourceStart: (row: number) => number,
): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  for (let r = 0; r < rows; r++) {
    const from = sourceStart(r);
    dst.set(src.subarray(from, from + run), r * run);
  }
  return out;
}

/** Coordinates of flat index `row` in a row-major array of shape `dims`. */
function coordinates(row: number, dims: number[]): number[] {
  const coords = new Array<number>(dims.length);
  for (let d = dims.length - 1; d >= 0; d--) {
    coords[d] = row % dims[d];
    row = Math.floor(row / dims[d]);
  }
  return coords;
}

/**
 * Slice as copies of contiguous runs read straight from the heap. wasm's own
 * kernel first copies the whole input out of the heap (readSync): 12 ms to
 * take one 3×3 tap of a 3×3×512×512 filter, 0.2 ms here.
 */
export function slice(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const a = args.attrs as unknown as SliceAttrs;
    const [begin, size] = slice_util.parseSliceParams(x as never, a.begin, a.size);
    const rank = x.shape.length;
    if (x.dtype === 'string' || rank === 0 || util.sizeFromShape(size) === 0) return original(args);
    // Trailing axes taken whole join the run.
    let d = rank - 1;
    let inner = 1;
    while (d > 0 && begin[d] === 0 && size[d] === x.shape[d]) inner *= x.shape[d--];
    const strides = util.computeStrides(x.shape);
    const outer = size.slice(0, d);
    const rows = util.sizeFromShape(outer);
    const startD = begin[d] * inner;
    return copyRuns(args.backend as BackendWasm, x, size, rows, size[d] * inner, (row) => {
      const c = coordinates(row, outer);
      let from = startD;
      for (let j = 0; j < d; j++) from += (begin[j] + c[j]) * strides[j];
      return from;
    });
  };
}

/**
 * Reverse of leading axes (a convolution's filter flipped over kh and kw)
 * as block copies; wasm's own kernel moves one element at a time, 120-170 ms
 * for a 3×3×512×512 filter. Reversing an axis with fewer than 16 elements
 * after it stays with wasm's kernel.
 */
export function reverse(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const dims = util.parseAxisParam((args.attrs as unknown as ReverseAttrs).dims, x.shape);
    if (x.dtype === 'string' || dims.length === 0) return original(args);
    const last = Math.max(...dims);
    const inner = util.sizeFromShape(x.shape.slice(last + 1));
    if (inner < 16) return original(args);
    const outer = x.shape.slice(0, last + 1);
    const strides = util.computeStrides(outer);
    const flipped = outer.map((_, d) => dims.includes(d));
    return copyRuns(
      args.backend as BackendWasm,
      x,
      x.shape,
      util.sizeFromShape(outer),
      inner,
      (row) => {
        const c = coordinates(row, outer);
        let from = c[last];
        if (flipped[last]) from = outer[last] - 1 - from;
        for (let j = 0; j < last; j++)
          from += (flipped[j] ? outer[j] - 1 - c[j] : c[j]) * strides[j];
        return from * inner;
      },
    );
  };
}

/**
 * Identity sharing the input's memory, as the cpu backend's does; wasm's
 * copies it. tfjs clones every tensor it saves for the backward pass (a
 * ResNet-18 step clones hundreds), and tensors are immutable.
 */
export const identity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as TensorInfo;
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
