/**
 * The studio's own wasm SIMD kernels for the wasm backend: the forward pass,
 * the filter gradient and the input gradient of a 2-D convolution and the
 * product of two matrices (either transposed), as register-tiled matrix
 * products over the input's windows, with relaxed-SIMD fused multiply-adds;
 * also the max-pool gradient and sums over leading axes (simd-kernels.wat).
 * They compute in tfjs's own wasm heap. XNNPACK's convolution in tfjs 4.22
 * is 1.2-2.2 times slower on the same core, and the gradients composed of it
 * 1.4-7 times (docs/backends.md). With more than one thread each call is
 * split over a pool of workers that share the heap (the threaded build's
 * memory is a SharedArrayBuffer); the calling thread takes the first share
 * and waits for the rest. Node only.
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { SIMD_KERNELS_WASM } from './simd-kernels.generated';

interface KernelExports {
  filter_grad(args: number, slice: number, slices: number): void;
  column_sums(args: number, slice: number, slices: number): void;
  max_pool_grad(args: number, slice: number, slices: number): void;
  avg_pool_grad(args: number, slice: number, slices: number): void;
  channel_op(args: number, slice: number, slices: number): void;
  input_grad(args: number, slice: number, slices: number): void;
  conv_forward(args: number, slice: number, slices: number): void;
  window_bases(
    dst: number,
    base: number,
    n: number,
    oh: number,
    ow: number,
    hp: number,
    wp: number,
    cin: number,
    sh: number,
    sw: number,
  ): void;
  pack_row_panels(dst: number, src: number, groups: number, rows: number, cols: number): void;
  pack_col_panels(dst: number, src: number, rows: number, cols: number): void;
  pack_flipped_panels(
    dst: number,
    src: number,
    kh: number,
    kw: number,
    cin: number,
    cout: number,
  ): void;
  copy_rows(
    dst: number,
    dstStride: number,
    src: number,
    srcStride: number,
    bytes: number,
    rows: number,
  ): void;
  zero(dst: number, bytes: number): void;
}

/** The work-split kernels, by the index the pool's workers know them by. */
const SPLIT_KERNELS = [
  'filter_grad',
  'input_grad',
  'conv_forward',
  'column_sums',
  'max_pool_grad',
  'avg_pool_grad',
  'channel_op',
] as const;
type SplitKernel = (typeof SPLIT_KERNELS)[number];

/** Output positions per work item of the forward pass; output rows per block of the filter gradient. */
const FORWARD_CHUNK = 64;
const FILTER_BLOCK_POSITIONS = 256;
/** Floats per block of rows the column sums read before moving to the next columns (64 KiB). */
const SUM_BLOCK_FLOATS = 16384;

/**
 * What a pool worker runs: it instantiates the kernels on the shared heap,
 * says so, then waits for work. Control words: 0 generation, 1 kernel,
 * 2 arguments, 3 slices done, 4 a slice failed.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, slice, slices } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
const kernels = ${JSON.stringify(SPLIT_KERNELS)}.map((name) => exports[name]);
const state = new Int32Array(memory.buffer, control, 5);
let generation = 0;
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(state, 0, generation);
  generation = Atomics.load(state, 0);
  try {
    kernels[Atomics.load(state, 1)](Atomics.load(state, 2), slice, slices);
  } catch {
    Atomics.store(state, 4, 1);
  }
  if (Atomics.add(state, 3, 1) === slices - 2) Atomics.notify(state, 3);
}
`;

/** What the kernels use of tfjs-backend-wasm's Emscripten module. */
interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
  /** The single-threaded build exports its memory; the threaded one keeps it here. */
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

const heapOf = (backend: BackendWasm) => backend.wasm as unknown as EmscriptenHeap;

function memoryOf(backend: BackendWasm): WebAssembly.Memory {
  const heap = heapOf(backend);
  const memory = heap.asm?.memory ?? heap.wasmMemory;
  if (!memory) throw new Error('tfjs-backend-wasm exposes no WebAssembly.Memory');
  return memory;
}

/** Relaxed SIMD is standard from Node 22 and in Electron; Node 20 has it behind a flag. */
function compile(shared: boolean): WebAssembly.Module | null {
  const bytes = Buffer.from(SIMD_KERNELS_WASM[shared ? 'shared' : 'unshared'], 'base64');
  if (!WebAssembly.validate(bytes)) {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (!WebAssembly.validate(bytes)) return null;
  }
  return new WebAssembly.Module(bytes);
}

const round = (n: number, to: number) => Math.ceil(n / to) * to;

/** One convolution's sizes as the kernels take them (dilation along the width is 1). */
interface Geometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  oh: number;
  ow: number;
  cout: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  top: number;
  left: number;
  /** The rows and columns the convolution reads, padding included. */
  hp: number;
  wp: number;
  /** One kernel row's taps times input channels: the length of a window row. */
  f: number;
}

function geometryOf(info: backend_util.Conv2DInfo): Geometry {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin } = info;
  const { outHeight: oh, outWidth: ow, outChannels: cout, filterHeight: kh } = info;
  const { filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh } = info;
  return {
    n,
    h,
    w,
    cin,
    oh,
    ow,
    cout,
    kh,
    kw,
    sh,
    sw,
    dh,
    top: info.padInfo.top,
    left: info.padInfo.left,
    hp: (oh - 1) * sh + (kh - 1) * dh + 1,
    wp: (ow - 1) * sw + kw,
    f: kw * cin,
  };
}

/**
 * Whether these kernels compute this convolution: NHWC, no dilation along
 * the width (a window row must be contiguous), a group of one. The forward
 * pass leaves 1×1 filters to XNNPACK, which is faster there.
 */
export function convKernelsSupport(info: backend_util.Conv2DInfo): boolean {
  return info.dataFormat === 'channelsLast' && info.dilationWidth === 1 && info.inChannels > 0;
}

export class SimdKernels {
  private static readonly started = new WeakMap<BackendWasm, SimdKernels>();
  private readonly kernels: KernelExports;
  private readonly workers: Worker[] = [];
  private control = 0;

  private constructor(
    private readonly backend: BackendWasm,
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    /** The share of work each call is split into: the calling thread and the workers. */
    readonly slices: number,
  ) {
    this.kernels = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as KernelExports;
  }

  /**
   * The kernels for a started wasm backend computing with `threads` threads,
   * or null where this Node cannot run them (no relaxed SIMD).
   */
  static async start(backend: BackendWasm, threads: number): Promise<SimdKernels | null> {
    const memory = memoryOf(backend);
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const module = compile(shared);
    if (!module) return null;
    const kernels = new SimdKernels(backend, module, memory, shared ? threads : 1);
    await kernels.startWorkers();
    SimdKernels.started.set(backend, kernels);
    return kernels;
  }

  /** The kernels started for this backend, if any. */
  static of(backend: BackendWasm): SimdKernels | null {
    return SimdKernels.started.get(backend) ?? null;
  }

  private async startWorkers(): Promise<void> {
    if (this.slices === 1) return;
    this.control = heapOf(this.backend)._malloc(5 * 4);
    new Int32Array(this.memory.buffer, this.control, 5).fill(0);
    const ready: Promise<unknown>[] = [];
    for (let slice = 1; slice < this.slices; slice++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module: this.module,
          memory: this.memory,
          control: this.control,
          slice,
          slices: this.slices,
        },
      });
      // The pool never keeps the process alive; it waits for work between calls.
      worker.unref();
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
      );
      this.workers.push(worker);
    }
    await Promise.all(ready);
  }

  /** Ends the pool's workers (when the backend restarts with another thread count). */
  dispose(): void {
    for (const worker of this.workers) void worker.terminate();
    this.workers.length = 0;
    SimdKernels.started.delete(this.backend);
  }

  /** Runs a work-split kernel on every slice; this thread computes slice 0. */
  private run(kernel: SplitKernel, args: number): void {
    if (this.slices === 1) {
      this.kernels[kernel](args, 0, 1);
      return;
    }
    const state = new Int32Array(this.memory.buffer, this.control, 5);
    Atomics.store(state, 1, SPLIT_KERNELS.indexOf(kernel));
    Atomics.store(state, 2, args);
    Atomics.store(state, 3, 0);
    Atomics.store(state, 4, 0);
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
    this.kernels[kernel](args, 0, this.slices);
    for (;;) {
      const done = Atomics.load(state, 3);
      if (done === this.slices - 1) break;
      Atomics.wait(state, 3, done);
    }
    if (Atomics.load(state, 4) !== 0) {
      throw new Error(`the wasm kernel ${kernel} failed in one of its worker threads`);
    }
  }

  /** Allocates scratch in the wasm heap for `use`, and frees it afterwards. */
  private withScratch<T>(sizes: number[], use: (...pointers: number[]) => T): T {
    const heap = heapOf(this.backend);
    const pointers = sizes.map((bytes) => heap._malloc(Math.max(bytes, 16)));
    try {
      return use(...pointers);
    } finally {
      for (const p of pointers) heap._free(p);
    }
  }

  private offset(info: TensorInfo): number {
    return this.backend.typedArrayFromHeap(info).byteOffset;
  }

  private setArgs(args: number, values: number[]): void {
    new Int32Array(heapOf(this.backend).HEAPU8.buffer, args, values.length).set(values);
  }

  /**
   * Copies NHWC `source` (h×w) into `target` (targetH×targetW, zero elsewhere) with its
   * top-left corner at (top, left); what falls outside is cut off.
   */
  private place(
    target: number,
    targetH: number,
    targetW: number,
    source: number,
    [n, h, w, c]: number[],
    top: number,
    left: number,
  ): void {
    const { kernels } = this;
    const pixel = c * 4;
    kernels.zero(target, n * targetH * targetW * pixel);
    const skipRows = Math.max(0, -top);
    const skipCols = Math.max(0, -left);
    const rows = Math.min(h - skipRows, targetH - Math.max(0, top));
    const cols = Math.min(w - skipCols, targetW - Math.max(0, left));
    if (rows <= 0 || cols <= 0) return;
    for (let b = 0; b < n; b++) {
      kernels.copy_rows(
        target + ((b * targetH + Math.max(0, top)) * targetW + Math.max(0, left)) * pixel,
        targetW * pixel,
        source + ((b * h + skipRows) * w + skipCols) * pixel,
        w * pixel,
        cols * pixel,
        rows,
      );
    }
  }

  /**
   * out[n, oy, ox, :] = sum over kernel rows i and window columns f of
   * padded[n, oy*sh + i*dh, ox*sw*c + f] times the panels' rows: the forward
   * pass, and (flipped filter, stride 1) the input gradient.
   */
  private convolve(
    padded: number,
    s: {
      n: number;
      hp: number;
      wp: number;
      c: number;
      oh: number;
      ow: number;
      kh: number;
      f: number;
      sh: number;
      sw: number;
      dh: number;
    },
    panels: number,
    cout: number,
    out: TensorInfo,
  ): void {
    const cts = Math.ceil(cout / 8);
    const positions = s.n * s.oh * s.ow;
    const direct = cout % 8 === 0;
    this.withScratch(
      [positions * 4, direct ? 0 : positions * cts * 32, 10 * 4],
      (bases, staging, args) => {
        const { kernels } = this;
        kernels.window_bases(bases, padded, s.n, s.oh, s.ow, s.hp, s.wp, s.c, s.sh, s.sw);
        const y = direct ? this.offset(out) : staging;
        const rowStep = s.dh * s.wp * s.c * 4;
        this.setArgs(args, [
          bases,
          panels,
          y,
          positions,
          cts * 32,
          cts,
          s.kh,
          s.f,
          rowStep,
          FORWARD_CHUNK,
        ]);
        this.run('conv_forward', args);
        if (!direct)
          kernels.copy_rows(this.offset(out), cout * 4, staging, cts * 32, cout * 4, positions);
      },
    );
  }

  /** y = conv2d(x, filter) with the filter [kh, kw, in, out]. */
  forward(x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
    const g = geometryOf(info);
    const out = this.backend.makeOutput([g.n, g.oh, g.ow, g.cout], 'float32');
    const cts = Math.ceil(g.cout / 8);
    this.withScratch([(g.n * g.hp * g.wp * g.cin + 8) * 4, cts * g.kh * g.f * 32], (xp, panels) => {
      this.place(xp, g.hp, g.wp, this.offset(x), x.shape, g.top, g.left);
      this.kernels.pack_col_panels(panels, this.offset(filter), g.kh * g.f, g.cout);
      this.convolve(xp, { ...g, c: g.cin }, panels, g.cout, out);
    });
    return out;
  }

  /**
   * C = op(A) · op(B) for one pair of matrices (rank 2, or a batch of 1):
   * [M, K] · [K, N]. Left to XNNPACK when both are transposed.
   */
  matMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = b.shape.slice(-2);
    const [m, k] = transposeA ? [ac, ar] : [ar, ac];
    const n = transposeB ? br : bc;
    const batch = (a.shape.length >= b.shape.length ? a : b).shape.slice(0, -2);
    const out = this.backend.makeOutput([...batch, m, n], 'float32');
    if (transposeA && transposeB) throw new Error('matMul of two transposed operands: use XNNPACK');
    if (transposeA) {
      // Aᵀ·B sums over the rows of both: the filter gradient's product with a window of one row.
      const rows = { n: 1, oh: k, ow: 1, hp: k, wp: 1, cin: m, kh: 1, f: m, sh: 1, sw: 1, dh: 1 };
      const widthA = round(m, 4);
      this.withScratch([widthA === m ? 0 : (k * widthA + 8) * 4], (copy) => {
        let left = this.offset(a);
        if (widthA !== m) {
          // Rows read in fours: widened so that the last one stays inside.
          this.kernels.zero(copy, k * widthA * 4);
          this.kernels.copy_rows(copy, widthA * 4, left, m * 4, m * 4, k);
          left = copy;
        }
        this.sumOverRows(left, { ...rows, cin: widthA }, this.offset(b), n, out);
      });
      return out;
    }
    const cts = Math.ceil(n / 8);
    this.withScratch([cts * k * 32], (panels) => {
      if (transposeB) this.kernels.pack_row_panels(panels, this.offset(b), 1, n, k);
      else this.kernels.pack_col_panels(panels, this.offset(b), k, n);
      const rows = { n: 1, hp: m, wp: 1, c: k, oh: m, ow: 1, kh: 1, f: k, sh: 1, sw: 1, dh: 1 };
      this.convolve(this.offset(a), rows, panels, n, out);
    });
    return out;
  }

  /**
   * The sum (or mean) over the rows of float32 x seen as [rows, cols],
   * accumulated in double precision, shaped `shape`: batch-norm statistics and
   * gradients, bias gradients (tfjs's Sum and Mean over leading axes).
   */
  columnSums(x: TensorInfo, cols: number, shape: number[], mean: boolean): TensorInfo {
    const rows = x.shape.reduce((a, b) => a * b, 1) / cols;
    const out = this.backend.makeOutput(shape, 'float32');
    const quads = Math.ceil(cols / 4);
    this.withScratch([quads * 32, 4 * 8], (acc, args) => {
      this.kernels.zero(acc, quads * 32);
      const block = Math.max(1, Math.floor(SUM_BLOCK_FLOATS / cols));
      this.setArgs(args, [this.offset(x), rows, cols, this.offset(out), acc, block]);
      new Float64Array(heapOf(this.backend).HEAPU8.buffer, args + 24, 1)[0] = mean ? 1 / rows : 1;
      this.run('column_sums', args);
    });
    return out;
  }

  /**
   * `tensor` op `vector` element by element, the vector (float32, as long as
   * the tensor's last axis) repeated over the other axes: a bias added, a
   * batch-norm scale or mean applied. `reversed` puts the vector first.
   */
  channelOp(
    tensor: TensorInfo,
    vector: TensorInfo,
    op: 'add' | 'sub' | 'mul',
    reversed: boolean,
  ): TensorInfo {
    const out = this.backend.makeOutput(tensor.shape, 'float32');
    const size = tensor.shape.reduce((a, b) => a * b, 1);
    const channels = vector.shape.reduce((a, b) => a * b, 1);
    // The vector repeated to whole SIMD vectors: the least common multiple of its length and 4.
    const pattern =
      channels % 4 === 0 ? channels : channels % 2 === 0 ? 2 * channels : 4 * channels;
    const code = { add: 0, sub: reversed ? 2 : 1, mul: 3 }[op];
    this.withScratch([pattern * 4, 6 * 4], (repeated, args) => {
      const heap = heapOf(this.backend).HEAPU8.buffer;
      const source = new Float32Array(heap, this.offset(vector), channels);
      const target = new Float32Array(heap, repeated, pattern);
      for (let i = 0; i < pattern; i += channels) target.set(source, i);
      this.setArgs(args, [this.offset(tensor), repeated, this.offset(out), size, pattern, code]);
      this.run('channel_op', args);
    });
    return out;
  }

  /**
   * dL/dx of an average pool whose windows lie inside the input: each
   * window's dy over kh·kw added to each of its taps.
   */
  avgPoolGrad(dy: TensorInfo, xShape: number[], info: backend_util.Conv2DInfo): TensorInfo {
    const out = this.backend.makeOutput(xShape, 'float32');
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
    const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
    this.withScratch([13 * 4], (args) => {
      this.kernels.zero(this.offset(out), batchSize * inHeight * inWidth * inChannels * 4);
      this.setArgs(args, [
        this.offset(dy),
        this.offset(out),
        batchSize,
        inHeight,
        inWidth,
        inChannels,
        outHeight,
        outWidth,
        filterHeight,
        filterWidth,
        strideHeight,
        strideWidth,
      ]);
      new Float32Array(heapOf(this.backend).HEAPU8.buffer, args + 48, 1)[0] =
        1 / (filterHeight * filterWidth);
      this.run('avg_pool_grad', args);
    });
    return out;
  }

  /**
   * dL/dx of a max pool: each window's dy goes to its first maximum in
   * row-major order; padding never wins (as tfjs's cpu kernel and PyTorch).
   */
  maxPoolGrad(x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
    const out = this.backend.makeOutput(x.shape, 'float32');
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
    const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
    const taps = filterHeight * filterWidth;
    this.withScratch([this.slices * taps * 4, 16 * 4], (tapScratch, args) => {
      this.kernels.zero(this.offset(out), batchSize * inHeight * inWidth * inChannels * 4);
      this.setArgs(args, [
        this.offset(x),
        this.offset(dy),
        this.offset(out),
        batchSize,
        inHeight,
        inWidth,
        inChannels,
        outHeight,
        outWidth,
        filterHeight,
        filterWidth,
        strideHeight,
        strideWidth,
        padInfo.top,
        padInfo.left,
        tapScratch,
      ]);
      this.run('max_pool_grad', args);
    });
    return out;
  }

  /** dL/dfilter [kh, kw, in, out] of conv2d(x, ·) given dy. */
  filterGradient(x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
    const g = geometryOf(info);
    const out = this.backend.makeOutput([g.kh, g.kw, g.cin, g.cout], 'float32');
    this.withScratch([(g.n * g.hp * g.wp * g.cin + 8) * 4], (xp) => {
      this.place(xp, g.hp, g.wp, this.offset(x), x.shape, g.top, g.left);
      this.sumOverRows(xp, g, this.offset(dy), g.cout, out);
    });
    return out;
  }

  /**
   * out[i, f, co] = sum over positions (n, oy, ox) of
   * padded[n, oy*sh + i*dh, ox*sw*cin + f] * rows[n, oy, ox, co]: the filter
   * gradient (rows = dy), and with windows of one row the product Aᵀ·B.
   */
  private sumOverRows(
    padded: number,
    s: Pick<Geometry, 'n' | 'oh' | 'ow' | 'hp' | 'wp' | 'cin' | 'kh' | 'f' | 'sh' | 'sw' | 'dh'>,
    rows: number,
    cout: number,
    out: TensorInfo,
  ): void {
    const coutp = round(cout, 8);
    const f4 = round(s.f, 4);
    const positions = s.n * s.oh * s.ow;
    const blockRows = Math.max(1, Math.round(FILTER_BLOCK_POSITIONS / s.ow));
    this.withScratch(
      [
        coutp === cout ? 0 : positions * coutp * 4,
        s.kh * f4 * coutp * 4,
        this.slices * blockRows * s.ow * (16 + coutp * 4),
        17 * 4,
      ],
      (widened, staging, panels, args) => {
        const { kernels } = this;
        let right = rows;
        if (coutp !== cout) {
          // The rows widened to a multiple of 8 columns, the new ones zero.
          kernels.zero(widened, positions * coutp * 4);
          kernels.copy_rows(widened, coutp * 4, rows, cout * 4, cout * 4, positions);
          right = widened;
        }
        kernels.zero(staging, s.kh * f4 * coutp * 4);
        this.setArgs(args, [
          padded,
          right,
          staging,
          s.n,
          s.oh,
          s.ow,
          s.hp,
          s.wp,
          s.cin,
          coutp,
          s.kh,
          s.f,
          s.sh,
          s.sw,
          s.dh,
          blockRows,
          panels,
        ]);
        this.run('filter_grad', args);
        const result = this.offset(out);
        for (let i = 0; i < s.kh; i++) {
          kernels.copy_rows(
            result + i * s.f * cout * 4,
            cout * 4,
            staging + i * f4 * coutp * 4,
            coutp * 4,
            cout * 4,
            s.f,
          );
        }
      },
    );
  }

  /** dL/dx of conv2d(·, filter) given dy, the filter [kh, kw, in, out]. */
  inputGradient(dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
    const g = geometryOf(info);
    const out = this.backend.makeOutput([g.n, g.h, g.w, g.cin], 'float32');
    // As a convolution dx has one output per input pixel, each summing the whole filter, and
    // reads zeros where dy is padded; by windows it does only dy's products but adds them into
    // memory. Measured: windows win once dx has a third more pixels than dy (LeNet's valid 5×5).
    const unitStride = g.sh === 1 && g.sw === 1 && g.dh === 1;
    if (unitStride && g.h * g.w <= 1.3 * g.oh * g.ow)
      this.inputGradientAsConvolution(dy, filter, g, out);
    else this.inputGradientByWindows(dy, filter, g, out);
    return out;
  }

  /**
   * Stride 1: dx is dy, padded by the filter's reach less the forward
   * padding, convolved with the filter flipped and its channels swapped; no
   * output is written twice, so this runs at the forward pass's speed.
   */
  private inputGradientAsConvolution(
    dy: TensorInfo,
    filter: TensorInfo,
    g: Geometry,
    out: TensorInfo,
  ) {
    const hd = g.h + g.kh - 1;
    const wd = g.w + g.kw - 1;
    const cts = Math.ceil(g.cin / 8);
    this.withScratch(
      [(g.n * hd * wd * g.cout + 8) * 4, cts * g.kh * g.kw * g.cout * 32],
      (dyp, panels) => {
        this.place(dyp, hd, wd, this.offset(dy), dy.shape, g.kh - 1 - g.top, g.kw - 1 - g.left);
        this.kernels.pack_flipped_panels(panels, this.offset(filter), g.kh, g.kw, g.cin, g.cout);
        const s = {
          n: g.n,
          hp: hd,
          wp: wd,
          c: g.cout,
          oh: g.h,
          ow: g.w,
          kh: g.kh,
          f: g.kw * g.cout,
          sh: 1,
          sw: 1,
          dh: 1,
        };
        this.convolve(dyp, s, panels, g.cin, out);
      },
    );
  }

  /**
   * Any stride: each dy position adds its window's share into a padded dx,
   * one image per slice (windows overlap), which is then cropped.
   */
  private inputGradientByWindows(dy: TensorInfo, filter: TensorInfo, g: Geometry, out: TensorInfo) {
    const fts = Math.ceil(g.f / 8);
    // One spare row per image: a window row's last panel of 8 may reach past its end.
    const hp1 = g.hp + 1;
    this.withScratch(
      [(g.n * hp1 * g.wp * g.cin + 8) * 4, g.kh * fts * g.cout * 32, g.n * g.oh * g.ow * 4, 9 * 4],
      (dxp, panels, bases, args) => {
        const { kernels } = this;
        kernels.zero(dxp, g.n * hp1 * g.wp * g.cin * 4);
        kernels.pack_row_panels(panels, this.offset(filter), g.kh, g.f, g.cout);
        kernels.window_bases(bases, dxp, g.n, g.oh, g.ow, hp1, g.wp, g.cin, g.sh, g.sw);
        const rowStep = g.dh * g.wp * g.cin * 4;
        this.setArgs(args, [
          bases,
          this.offset(dy),
          panels,
          g.n,
          g.oh * g.ow,
          g.cout,
          g.kh,
          fts,
          rowStep,
        ]);
        this.run('input_grad', args);
        // dx is the padded gradient's inner part; rows or columns the convolution never read get 0.
        this.place(this.offset(out), g.h, g.w, dxp, [g.n, hp1, g.wp, g.cin], -g.top, -g.left);
      },
    );
  }
}
