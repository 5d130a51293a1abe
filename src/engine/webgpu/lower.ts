/**
 * Each layer type of the catalog as dispatches of the compiled step: its
 * forward pass (and what it keeps for the backward pass) and its backward
 * pass (weight gradients, and the input gradients asked for, written or
 * added). One entry per type, as the exporters keep one per format; a type
 * without an entry makes the network run op by op instead, with the reason.
 */
import type { PrimitiveNode } from '../../core/infer';
import { resolveConvPadding } from '../../core/layers/conv';
import type { PrimitiveType } from '../../core/layers/registry';
import { sides } from '../../core/layers/structure';
import type { Pair } from '../../core/shape';
import { grid1d } from './kernel';
import {
  ACTIVATIONS,
  type ActivationKind,
  activationBackward,
  activationForward,
  add as addKernel,
  channelCopy,
  dropout,
  flattenOrder,
  SOFTMAX_FORWARD,
  softmaxBackward,
  zeroPad,
} from './kernels/elementwise';
import {
  type ConvGeometry,
  chooseTile,
  directGemmKernel,
  directSplits,
  directWorkgroups,
  type GemmOptions,
  type GemmRole,
  gemmKernel,
  gemmOutputSize,
  gemmParams,
  gemmSizes,
  gemmSplits,
  gemmWorkgroups,
  isPointwise,
  prefersDirectGemm,
  splitSum,
} from './kernels/gemm';
import {
  BATCH_NORM_STATISTICS,
  batchNormApply,
  batchNormEval,
  batchNormGradient,
  batchNormInputGradient,
} from './kernels/norm';
import {
  ADAPTIVE_POOL_FORWARD,
  AVG_POOL_FORWARD,
  adaptivePoolBackward,
  avgPoolBackward,
  MAX_POOL_FORWARD,
  maxPoolBackward,
} from './kernels/pool';
import {
  BIAS_GRADIENT,
  type ColumnReduction,
  finishKernel,
  partialKernel,
  partialsSize,
  reductionChunks,
} from './kernels/reduce';
import { type BufferRef, type Emitter, type GradTarget, NotCompilable, rowsOf } from './plan';

/** What a forward pass keeps for its backward pass, by name: value ids (or a dropout layer's salt). */
export type Saved = Record<string, number>;

/** What the planner decided about a node from its neighbours. */
export interface Fusion {
  /** The node's only consumer is this activation: apply it in this node's kernel. */
  activation?: { kind: ActivationKind; slope: number };
  /**
   * This node is that activation: its input already holds its output. With
   * 'backward' too, the producer also applies its slope to the gradient
   * (BatchNorm), so this node passes its gradient through.
   */
  fusedIntoInput?: 'forward' | 'backward';
  /**
   * The bias feeds only a training-mode BatchNorm, which subtracts the batch
   * mean: its gradient is exactly zero (the gradient buffer stays zero).
   */
  biasGradientIsZero?: boolean;
}

export interface Lowering {
  forward(
    e: Emitter,
    node: PrimitiveNode,
    inputs: number[],
    fusion: Fusion,
  ): { output: number; saved?: Saved };
  backward(
    e: Emitter,
    node: PrimitiveNode,
    saved: Saved,
    dy: number,
    targets: (GradTarget | null)[],
    fusion: Fusion,
  ): void;
}

/** A two-stage column reduction over [rows, C]: partials, then the per-column finish. */
function reduceColumns(
  e: Emitter,
  r: ColumnReduction,
  shape: { rows: number; columns: number },
  stage1: Parameters<Emitter['dispatch']>[0]['buffers'],
  stage2: Parameters<Emitter['dispatch']>[0]['buffers'],
  label: string,
  extra: Record<string, number> = {},
): void {
  const { rowsPerChunk, chunks, columnTile } = reductionChunks(shape);
  const partials = e.value(`${label} partials`, partialsSize(r, shape));
  const params = { rows: shape.rows, C: shape.columns, rowsPerChunk, chunks, ...extra };
  e.dispatch({
    kernel: partialKernel(r, columnTile),
    label: `${label} (partial sums)`,
    params,
    buffers: [...stage1, { value: partials }],
    workgroups: [Math.ceil(shape.columns / columnTile), chunks, 1],
  });
  e.dispatch({
    kernel: finishKernel(r),
    label,
    params,
    buffers: [{ value: partials }, ...stage2],
    workgroups: [Math.ceil(shape.columns / 64), 1, 1],
  });
}

function convGeometry(node: PrimitiveNode): ConvGeometry {
  const [n, inC, inH, inW] = node.inputShapes[0];
  if (node.type === 'Linear') {
    const outC = node.outputShape[1];
    return {
      batch: n,
      inH: 1,
      inW: 1,
      inC,
      outH: 1,
      outW: 1,
      outC,
      kernelH: 1,
      kernelW: 1,
      strideH: 1,
      strideW: 1,
      dilationH: 1,
      dilationW: 1,
      padTop: 0,
      padLeft: 0,
      groups: 1,
    };
  }
  const p = node.params as {
    kernel_size: Pair;
    stride: Pair;
    dilation: Pair;
    groups: number;
    padding: Parameters<typeof resolveConvPadding>[0]['padding'];
  };
  const pad = resolveConvPadding(p);
  const [, outC, outH, outW] = node.outputShape;
  return {
    batch: n,
    inH,
    inW,
    inC,
    outH,
    outW,
    outC,
    kernelH: p.kernel_size[0],
    kernelW: p.kernel_size[1],
    strideH: p.stride[0],
    strideW: p.stride[1],
    dilationH: p.dilation[0],
    dilationW: p.dilation[1],
    padTop: pad.top,
    padLeft: pad.left,
    groups: p.groups,
  };
}

/**
 * One GEMM of a convolution: a single dispatch where its outputs fill the GPU,
 * else split over k into parts that a second dispatch sums and finishes.
 */
function gemm(
  e: Emitter,
  node: PrimitiveNode,
  role: GemmRole,
  buffers: { a: BufferRef; b: BufferRef; out: BufferRef; bias?: BufferRef },
  opts: GemmOptions & { slope?: number },
  label: string,
): void {
  const g = convGeometry(node);
  const { m, n } = gemmSizes(role, g);
  const direct = prefersDirectGemm(role, g);
  const pointwise = isPointwise(g);
  const tile = chooseTile(m, n);
  const splits = direct ? directSplits(role, g) : gemmSplits(role, g, tile);
  const count = gemmOutputSize(role, g);
  const parts = splits > 1 ? e.value(`${label} (${splits} parts)`, splits * count) : undefined;
  e.dispatch({
    kernel: direct
      ? directGemmKernel(role, opts, splits > 1, pointwise)
      : gemmKernel(role, tile, opts, splits > 1, pointwise),
    label,
    params: { ...gemmParams(role, g, splits), slope: opts.slope ?? 0 },
    buffers: [
      buffers.a,
      buffers.b,
      parts === undefined ? buffers.out : { value: parts },
      ...(buffers.bias && splits === 1 ? [buffers.bias] : []),
    ],
    workgroups: direct ? directWorkgroups(role, g, splits) : gemmWorkgroups(role, g, tile, splits),
  });
  if (parts === undefined) return;
  e.dispatch({
    kernel: splitSum(opts),
    label: `${label} (sum of ${splits} parts)`,
    params: { count, splits, C: role === 'forward' ? g.outC : 1, slope: opts.slope ?? 0 },
    buffers: [{ value: parts }, buffers.out, ...(buffers.bias ? [buffers.bias] : [])],
    workgroups: grid1d(count),
  });
}

/** Conv2d, and Linear as a 1×1 convolution of a 1×1 map (same kernels). */
const convolution: Lowering = {
  forward(e, node, [x], { activation }) {
    const g = convGeometry(node);
    const bias = e.hasParam(node, 'bias');
    const y = e.value(node.id, g.batch * g.outH * g.outW * g.outC);
    gemm(
      e,
      node,
      'forward',
      {
        a: { value: x },
        b: e.param(node, 'weight'),
        out: { value: y },
        bias: bias ? e.param(node, 'bias') : undefined,
      },
      { bias, activation: activation?.kind, slope: activation?.slope },
      `${node.id} forward`,
    );
    return { output: y, saved: { x } };
  },
  backward(e, node, { x }, dy, [dx], { biasGradientIsZero }) {
    const g = convGeometry(node);
    if (dx) {
      gemm(
        e,
        node,
        'input-grad',
        { a: { value: dy }, b: e.param(node, 'weight'), out: { value: dx.value } },
        { accumulate: dx.mode === 'accumulate' },
        `${node.id} input gradient`,
      );
    }
    gemm(
      e,
      node,
      'weight-grad',
      { a: { value: dy }, b: { value: x }, out: e.grad(node, 'weight') },
      {},
      `${node.id} weight gradient`,
    );
    if (e.hasParam(node, 'bias') && !biasGradientIsZero) {
      reduceColumns(
        e,
        BIAS_GRADIENT,
        { rows: g.batch * g.outH * g.outW, columns: g.outC },
        [{ value: dy }],
        [e.grad(node, 'bias')],
        `${node.id} bias gradient`,
      );
    }
  },
};

interface PoolParams {
  kernel_size: Pair;
  stride: Pair | null;
  padding: Pair;
}

function poolParams(node: PrimitiveNode): Record<string, number> {
  const p = node.params as unknown as PoolParams;
  const [n, c, ih, iw] = node.inputShapes[0];
  const [, , oh, ow] = node.outputShape;
  const stride = p.stride ?? p.kernel_size;
  return {
    count: n * c * oh * ow,
    C: c,
    ih,
    iw,
    oh,
    ow,
    kh: p.kernel_size[0],
    kw: p.kernel_size[1],
    sh: stride[0],
    sw: stride[1],
    ph: p.padding[0],
    pw: p.padding[1],
  };
}

const inputCount = (node: PrimitiveNode) => rowsOf(node.inputShapes[0]).count;

const maxPool: Lowering = {
  forward(e, node, [x]) {
    const params = poolParams(node);
    const y = e.value(node.id, params.count);
    const argmax = e.value(`${node.id} argmax`, params.count);
    e.dispatch({
      kernel: MAX_POOL_FORWARD,
      label: `${node.id} forward`,
      params,
      buffers: [{ value: x }, { value: y }, { value: argmax }],
      workgroups: grid1d(params.count),
    });
    return { output: y, saved: { argmax } };
  },
  backward(e, node, { argmax }, dy, [dx]) {
    if (!dx) return;
    const count = inputCount(node);
    e.dispatch({
      kernel: maxPoolBackward(dx.mode),
      label: `${node.id} input gradient`,
      params: { ...poolParams(node), count },
      buffers: [{ value: dy }, { value: argmax }, { value: dx.value }],
      workgroups: grid1d(count),
    });
  },
};

const avgPool: Lowering = {
  forward(e, node, [x]) {
    const params = poolParams(node);
    const y = e.value(node.id, params.count);
    e.dispatch({
      kernel: AVG_POOL_FORWARD,
      label: `${node.id} forward`,
      params,
      buffers: [{ value: x }, { value: y }],
      workgroups: grid1d(params.count),
    });
    return { output: y };
  },
  backward(e, node, _saved, dy, [dx]) {
    if (!dx) return;
    const count = inputCount(node);
    e.dispatch({
      kernel: avgPoolBackward(dx.mode),
      label: `${node.id} input gradient`,
      params: { ...poolParams(node), count },
      buffers: [{ value: dy }, { value: dx.value }],
      workgroups: grid1d(count),
    });
  },
};

function adaptiveParams(node: PrimitiveNode): Record<string, number> {
  const [n, c, ih, iw] = node.inputShapes[0];
  const [, , oh, ow] = node.outputShape;
  return { count: n * c * oh * ow, C: c, ih, iw, oh, ow };
}

const adaptivePool: Lowering = {
  forward(e, node, [x]) {
    const params = adaptiveParams(node);
    const y = e.value(node.id, params.count);
    e.dispatch({
      kernel: ADAPTIVE_POOL_FORWARD,
      label: `${node.id} forward`,
      params,
      buffers: [{ value: x }, { value: y }],
      workgroups: grid1d(params.count),
    });
    return { output: y };
  },
  backward(e, node, _saved, dy, [dx]) {
    if (!dx) return;
    const count = inputCount(node);
    e.dispatch({
      kernel: adaptivePoolBackward(dx.mode),
      label: `${node.id} input gradient`,
      params: { ...adaptiveParams(node), count },
      buffers: [{ value: dy }, { value: dx.value }],
      workgroups: grid1d(count),
    });
  },
};

const batchNorm: Lowering = {
  forward(e, node, [x], { activation }) {
    const { eps, momentum } = node.params as { eps: number; momentum: number };
    const { rows, channels: C, count } = rowsOf(node.inputShapes[0]);
    const y = e.value(node.id, count);
    const slope = activation?.slope ?? 0;
    if (e.mode === 'eval') {
      e.dispatch({
        kernel: batchNormEval(activation?.kind),
        label: `${node.id} forward`,
        params: { count, C, eps, slope },
        buffers: [
          { value: x },
          e.param(node, 'running_mean'),
          e.param(node, 'running_var'),
          e.param(node, 'weight'),
          e.param(node, 'bias'),
          { value: y },
        ],
        workgroups: grid1d(count),
      });
      return { output: y };
    }
    if (rows < 2) {
      const shape = node.inputShapes[0];
      const got =
        shape.length === 4
          ? `a batch of ${shape[0]} gives ${shape[2]}×${shape[3]} maps`
          : `got a batch of ${shape[0]}`;
      throw new NotCompilable(
        node.id,
        `${node.type} needs more than one value per ${shape.length === 4 ? 'channel' : 'feature'} to train, but ${got}; use a batch of 2 or more`,
      );
    }
    const stats = e.value(`${node.id} statistics`, 2 * C);
    reduceColumns(
      e,
      BATCH_NORM_STATISTICS,
      { rows, columns: C },
      [{ value: x }],
      [{ value: stats }, e.param(node, 'running_mean'), e.param(node, 'running_var')],
      `${node.id} statistics`,
      { eps, momentum },
    );
    e.dispatch({
      kernel: batchNormApply(activation?.kind),
      label: `${node.id} forward`,
      params: { count, C, eps, slope },
      buffers: [
        { value: x },
        { value: stats },
        e.param(node, 'weight'),
        e.param(node, 'bias'),
        { value: y },
      ],
      workgroups: grid1d(count),
    });
    return { output: y, saved: { x, stats, y } };
  },
  backward(e, node, { x, stats, y }, dy, [dx], { activation }) {
    const { rows, channels: C, count } = rowsOf(node.inputShapes[0]);
    const coef = e.value(`${node.id} gradient coefficients`, 4 * C);
    // A fused activation's slope applies to dy here (its output y is this layer's output).
    const fused = activation?.kind;
    const withOutput = fused ? [{ value: y }] : [];
    reduceColumns(
      e,
      batchNormGradient(fused),
      { rows, columns: C },
      [{ value: dy }, { value: x }, { value: stats }, ...withOutput],
      [
        { value: stats },
        e.param(node, 'weight'),
        e.grad(node, 'weight'),
        e.grad(node, 'bias'),
        { value: coef },
      ],
      `${node.id} gradient sums`,
    );
    if (!dx) return;
    e.dispatch({
      kernel: batchNormInputGradient(dx.mode, fused),
      label: `${node.id} input gradient`,
      params: { count, C, eps: 0, slope: 0 },
      buffers: [{ value: dy }, { value: x }, { value: coef }, { value: dx.value }, ...withOutput],
      workgroups: grid1d(count),
    });
  },
};

function activation(kind: ActivationKind, slopeOf?: (node: PrimitiveNode) => number): Lowering {
  const saves = ACTIVATIONS[kind].saves;
  return {
    forward(e, node, [x], { fusedIntoInput }) {
      // Fused: the producer applied this activation, so its output holds this layer's
      // output, which is also what the slope needs (only output-saving kinds are fused).
      if (fusedIntoInput) {
        const y = e.alias(x, node.id);
        return { output: y, saved: { s: y } };
      }
      const count = inputCount(node);
      const y = e.value(node.id, count);
      e.dispatch({
        kernel: activationForward(kind),
        label: `${node.id} forward`,
        params: { count, slope: slopeOf?.(node) ?? 0 },
        buffers: [{ value: x }, { value: y }],
        workgroups: grid1d(count),
      });
      return { output: y, saved: { s: saves === 'input' ? x : y } };
    },
    backward(e, node, { s }, dy, [dx], { fusedIntoInput }) {
      if (!dx) return;
      if (fusedIntoInput === 'backward') {
        e.passGradient(dy, dx, rowsOf(node.inputShapes[0]).channels, `${node.id} gradient`);
        return;
      }
      const count = inputCount(node);
      e.dispatch({
        kernel: activationBackward(kind, dx.mode),
        label: `${node.id} input gradient`,
        params: { count, slope: slopeOf?.(node) ?? 0 },
        buffers: [{ value: dy }, { value: s }, { value: dx.value }],
        workgroups: grid1d(count),
      });
    },
  };
}

const softmax: Lowering = {
  forward(e, node, [x]) {
    const { rows, channels: C, count } = rowsOf(node.inputShapes[0]);
    const y = e.value(node.id, count);
    e.dispatch({
      kernel: SOFTMAX_FORWARD,
      label: `${node.id} forward`,
      params: { rows, C },
      buffers: [{ value: x }, { value: y }],
      workgroups: grid1d(rows),
    });
    return { output: y, saved: { y } };
  },
  backward(e, node, { y }, dy, [dx]) {
    if (!dx) return;
    const { rows, channels: C } = rowsOf(node.inputShapes[0]);
    e.dispatch({
      kernel: softmaxBackward(dx.mode),
      label: `${node.id} input gradient`,
      params: { rows, C },
      buffers: [{ value: dy }, { value: y }, { value: dx.value }],
      workgroups: grid1d(rows),
    });
  },
};

/** Flatten reorders NHWC into PyTorch's C,H,W order; with H·W = 1 or C = 1 the orders coincide. */
function flattenIsNoOp(node: PrimitiveNode): boolean {
  const shape = node.inputShapes[0];
  return shape.length !== 4 || shape[1] === 1 || shape[2] * shape[3] === 1;
}

const flatten: Lowering = {
  forward(e, node, [x]) {
    if (flattenIsNoOp(node)) return { output: e.alias(x, node.id) };
    const [n, c, h, w] = node.inputShapes[0];
    const count = n * c * h * w;
    const y = e.value(node.id, count);
    e.dispatch({
      kernel: flattenOrder('to-chw', 'write'),
      label: `${node.id} forward`,
      params: { count, hw: h * w, c },
      buffers: [{ value: x }, { value: y }],
      workgroups: grid1d(count),
    });
    return { output: y };
  },
  backward(e, node, _saved, dy, [dx]) {
    if (!dx) return;
    const count = inputCount(node);
    if (flattenIsNoOp(node)) {
      e.passGradient(dy, dx, node.outputShape[1], `${node.id} input gradient`);
      return;
    }
    const [, c, h, w] = node.inputShapes[0];
    e.dispatch({
      kernel: flattenOrder('to-hwc', dx.mode),
      label: `${node.id} input gradient`,
      params: { count, hw: h * w, c },
      buffers: [{ value: dy }, { value: dx.value }],
      workgroups: grid1d(count),
    });
  },
};

const dropoutRate = (node: PrimitiveNode) => (node.params as { p: number }).p;

/** Dropout drops values, Dropout2d whole (sample, channel) maps; both identity when evaluating. */
function dropoutLayer(unit: 'element' | 'channel'): Lowering {
  const paramsOf = (node: PrimitiveNode, salt: number) => {
    const rate = dropoutRate(node);
    const { channels, count } = rowsOf(node.inputShapes[0]);
    const plane = count / node.inputShapes[0][0];
    return { count, rate, scale: rate >= 1 ? 0 : 1 / (1 - rate), salt, plane, channels };
  };
  return {
    forward(e, node, [x]) {
      if (e.mode === 'eval' || dropoutRate(node) === 0) return { output: e.alias(x, node.id) };
      const salt = e.nextSalt();
      const params = paramsOf(node, salt);
      const y = e.value(node.id, params.count);
      e.dispatch({
        kernel: dropout('forward', 'write', unit),
        label: `${node.id} forward`,
        params,
        buffers: [{ value: x }, { value: y }],
        workgroups: grid1d(params.count),
      });
      return { output: y, saved: { salt } };
    },
    backward(e, node, { salt }, dy, [dx]) {
      if (!dx) return;
      if (dropoutRate(node) === 0) {
        e.passGradient(dy, dx, rowsOf(node.inputShapes[0]).channels, `${node.id} input gradient`);
        return;
      }
      const params = paramsOf(node, salt);
      e.dispatch({
        kernel: dropout('backward', dx.mode, unit),
        label: `${node.id} input gradient`,
        params,
        buffers: [{ value: dy }, { value: dx.value }],
        workgroups: grid1d(params.count),
      });
    },
  };
}

function zeroPadParams(node: PrimitiveNode): Record<string, number> {
  const [, C, H, W] = node.inputShapes[0];
  const [, , outH, outW] = node.outputShape;
  const [left, , top] = sides((node.params as { padding: number[] }).padding);
  return { C, H, W, outH, outW, top, left };
}

const zeroPadLayer: Lowering = {
  forward(e, node, [x]) {
    const { count } = rowsOf(node.outputShape);
    const y = e.value(node.id, count);
    e.dispatch({
      kernel: zeroPad('forward'),
      label: `${node.id} forward`,
      params: { count, ...zeroPadParams(node) },
      buffers: [{ value: x }, { value: y }],
      workgroups: grid1d(count),
    });
    return { output: y };
  },
  backward(e, node, _saved, dy, [dx]) {
    if (!dx) return;
    const count = inputCount(node);
    e.dispatch({
      kernel: zeroPad('backward', dx.mode),
      label: `${node.id} input gradient`,
      params: { count, ...zeroPadParams(node) },
      buffers: [{ value: dy }, { value: dx.value }],
      workgroups: grid1d(count),
    });
  },
};

/** Add; a ReLU (sigmoid, tanh) after it is applied with the last input, which it needs all of. */
const add: Lowering = {
  forward(e, node, inputs, { activation }) {
    const { channels, count } = rowsOf(node.outputShape);
    const y = e.value(node.id, count);
    const extra = inputs.slice(2);
    e.dispatch({
      kernel: addKernel(extra.length === 0 ? activation?.kind : undefined),
      label: `${node.id} forward`,
      params: { count, slope: activation?.slope ?? 0 },
      buffers: [{ value: inputs[0] }, { value: inputs[1] }, { value: y }],
      workgroups: grid1d(count),
    });
    for (const [i, input] of extra.entries()) {
      e.dispatch({
        kernel: channelCopy('accumulate'),
        label: `${node.id} forward (input ${i + 3})`,
        params: {
          count,
          width: channels,
          srcChannels: channels,
          srcOffset: 0,
          dstChannels: channels,
          dstOffset: 0,
        },
        buffers: [{ value: input }, { value: y }],
        workgroups: grid1d(count),
      });
    }
    if (extra.length > 0 && activation) {
      e.dispatch({
        kernel: activationForward(activation.kind),
        label: `${node.id} forward (${activation.kind})`,
        params: { count, slope: activation.slope },
        buffers: [{ value: y }, { value: y }],
        workgroups: grid1d(count),
      });
    }
    return { output: y };
  },
  backward(e, node, _saved, dy, targets) {
    const { channels } = rowsOf(node.outputShape);
    targets.forEach((t, i) => {
      if (t) e.passGradient(dy, t, channels, `${node.id} gradient to input ${i + 1}`);
    });
  },
};

/** Concat along channels (the last axis of NHWC, or the features of N×F). */
const concat: Lowering = {
  forward(e, node, inputs) {
    const { rows, channels: total } = rowsOf(node.outputShape);
    const y = e.value(node.id, rows * total);
    let offset = 0;
    node.inputShapes.forEach((shape, i) => {
      const width = shape[1];
      e.dispatch({
        kernel: channelCopy('write'),
        label: `${node.id} forward (input ${i + 1})`,
        params: {
          count: rows * width,
          width,
          srcChannels: width,
          srcOffset: 0,
          dstChannels: total,
          dstOffset: offset,
        },
        buffers: [{ value: inputs[i] }, { value: y }],
        workgroups: grid1d(rows * width),
      });
      offset += width;
    });
    return { output: y };
  },
  backward(e, node, _saved, dy, targets) {
    const { rows, channels: total } = rowsOf(node.outputShape);
    let offset = 0;
    node.inputShapes.forEach((shape, i) => {
      const width = shape[1];
      const t = targets[i];
      if (t) {
        e.dispatch({
          kernel: channelCopy(t.mode),
          label: `${node.id} gradient to input ${i + 1}`,
          params: {
            count: rows * width,
            width,
            srcChannels: total,
            srcOffset: offset,
            dstChannels: width,
            dstOffset: 0,
          },
          buffers: [{ value: dy }, { value: t.value }],
          workgroups: grid1d(rows * width),
        });
      }
      offset += width;
    });
  },
};

/** GELU: exact (erf) or PyTorch's tanh approximation, by its parameter. */
const geluExact = activation('gelu');
const geluTanh = activation('gelu-tanh');
const geluOf = (node: PrimitiveNode) =>
  (node.params as { approximate: string }).approximate === 'tanh' ? geluTanh : geluExact;
const gelu: Lowering = {
  forward: (e, node, inputs, fusion) => geluOf(node).forward(e, node, inputs, fusion),
  backward: (e, node, saved, dy, targets, fusion) =>
    geluOf(node).backward(e, node, saved, dy, targets, fusion),
};

/** Every layer type that computes, typed against the catalog: a new type is a compile error here until it has its kernels. */
export const LOWERINGS: { readonly [T in Exclude<PrimitiveType, 'Input'>]: Lowering } = {
  Conv2d: convolution,
  Linear: convolution,
  MaxPool2d: maxPool,
  AvgPool2d: avgPool,
  AdaptiveAvgPool2d: adaptivePool,
  BatchNorm2d: batchNorm,
  BatchNorm1d: batchNorm,
  ReLU: activation('relu'),
  ReLU6: activation('relu6'),
  Sigmoid: activation('sigmoid'),
  Tanh: activation('tanh'),
  LeakyReLU: activation(
    'leaky',
    (node) => (node.params as { negative_slope: number }).negative_slope,
  ),
  GELU: gelu,
  Softmax: softmax,
  Flatten: flatten,
  ZeroPad2d: zeroPadLayer,
  Dropout: dropoutLayer('element'),
  Dropout2d: dropoutLayer('channel'),
  Add: add,
  Concat: concat,
};

/** The lowering of a node's type; none for a type outside the catalog (the planner says so). */
export function loweringOf(type: string): Lowering | undefined {
  return Object.hasOwn(LOWERINGS, type) ? LOWERINGS[type as keyof typeof LOWERINGS] : undefined;
}
