/**
 * Lowers an inferred network (blocks already expanded into primitives) into
 * a static plan of one training step (or one evaluation pass): every
 * dispatch with its kernel, uniform values and buffers, and every buffer's
 * place. Activations, gradients and scratch share pool buffers by liveness;
 * trainable weights, their gradients and optimizer slots live in arenas of
 * one layout (one dispatch updates them all). Pure: no GPU here, so the
 * plan (dispatch counts, memory, what cannot compile) is tested anywhere.
 */

import { weightKey } from '../../core/compile/model';
import type { GraphInference, PrimitiveNode } from '../../core/infer';
import { formatShape, numel } from '../../core/shape';
import { grid1d, type Kernel } from './kernel';
import type { ActivationKind } from './kernels/elementwise';
import { channelCopy, type GradWrite, RESIZE_BILINEAR } from './kernels/elementwise';
import {
  CROSS_ENTROPY,
  CROSS_ENTROPY_SUM,
  MEAN_SQUARED_ERROR,
  METRICS_FLOATS,
} from './kernels/loss';
import { OPTIMIZER_SLOTS, type OptimizerKind, optimizerKernel } from './kernels/optimizer';
import { LAYER_STATISTICS } from './kernels/statistics';
import { type Fusion, type Lowering, loweringOf, type Saved } from './lower';

/** What the device allows (GPUSupportedLimits' fields the plan depends on). */
export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

/** Bytes between bound buffer ranges (WebGPU's minStorageBufferOffsetAlignment is at most 256). */
export const ALIGNMENT = 256;

export type LossKind = 'cross-entropy' | 'mse' | 'mse-sum';

export interface OptimizerPlan {
  kind: OptimizerKind;
  weightDecay: number;
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export interface PlanOptions {
  mode: 'train' | 'eval';
  batch: number;
  /** [height, width] of the images as written; resized to the network's input in the step. */
  imageSize: [number, number];
  loss: LossKind;
  optimizer?: OptimizerPlan;
  /** Also the gradient of the input images (tests of every layer's input gradient). */
  inputGradient?: boolean;
  /** Per-layer activation and gradient statistics (layer-stats.ts). */
  layerStats?: boolean;
  limits: DeviceLimits;
}

/** Buffers the host writes or reads, outside the pool. */
export type ExternalBuffer = 'images' | 'labels' | 'targets' | 'metrics' | 'stats';

export interface Value {
  id: number;
  name: string;
  elements: number;
  /** Stored in another value's place (a no-op layer, a gradient passed through unchanged). */
  alias?: number;
  external?: ExternalBuffer;
  /** Dispatch indices of first and last use (of it or any alias of it). */
  first: number;
  last: number;
  /** Pool heap and byte offset (non-alias, non-external values). */
  heap?: number;
  offset?: number;
}

export type BufferRef =
  | { value: number }
  /** A weight as it is now: its arena range when trainable, its own buffer otherwise. */
  | { param: string }
  | { grad: string }
  /** A range of an arena (the optimizer's view). */
  | { arena: ArenaName; heap: number; offset: number; bytes: number };

export type ArenaName = 'params' | 'grads' | 'slot0' | 'slot1';

export interface Dispatch {
  kernel: Kernel;
  /** For people and profiles: "conv1 forward", "bn1 statistics". */
  label: string;
  params: Record<string, number>;
  buffers: BufferRef[];
  workgroups: [number, number, number];
}

export interface ParamPlacement {
  key: string;
  shape: number[];
  elements: number;
  trainable: boolean;
  /** Trainable: arena heap and byte offset (params, grads and slots share the layout). */
  heap?: number;
  offset?: number;
}

export interface StatsPoint {
  id: string;
  type: string;
  /** Slots of the stats buffer (5 floats each): the output's and its gradient's. */
  activationSlot: number;
  gradientSlot?: number;
}

export interface Plan {
  mode: 'train' | 'eval';
  batch: number;
  /** NHWC of the images as written, and as the network takes them. */
  imageShape: [number, number, number, number];
  inputShape: [number, number, number, number];
  outputShape: number[];
  loss: LossKind;
  values: Value[];
  dispatches: Dispatch[];
  /** Byte sizes of the pool heaps. */
  poolHeaps: number[];
  params: ParamPlacement[];
  /** Byte sizes of the arena heaps (one layout for params, grads and each slot). */
  arenaHeaps: number[];
  optimizerSlots: string[];
  statsPoints: StatsPoint[];
  /** The input images' gradient (inputGradient). */
  inputGradient?: number;
  /** The network output's value (tests read it). */
  output: number;
  bytes: PlanBytes;
}

export interface PlanBytes {
  /** Weights (arena and per-weight buffers tfjs sees). */
  weights: number;
  gradients: number;
  optimizer: number;
  /** Activations, their gradients and scratch (the pool). */
  activations: number;
  /** Images, labels or targets, metrics. */
  io: number;
  total: number;
}

/** The network cannot run compiled: which node and why (the caller runs it op by op). */
export class NotCompilable extends Error {
  constructor(
    readonly nodeId: string | undefined,
    readonly reason: string,
  ) {
    super(nodeId ? `node '${nodeId}': ${reason}` : reason);
    this.name = 'NotCompilable';
  }
}

/** A batch too large for the device: how much it needs and (when known) the largest batch that fits. */
export class TooLarge extends Error {
  constructor(
    message: string,
    readonly neededBytes: number,
    readonly fits?: number,
  ) {
    super(message);
    this.name = 'TooLarge';
  }
}

export interface GradTarget {
  value: number;
  mode: GradWrite;
  /** This is the only contribution the gradient gets (it may then share its source's place). */
  only: boolean;
}

/** What a layer's lowering sees of the planner. */
export interface Emitter {
  readonly mode: 'train' | 'eval';
  readonly batch: number;
  /** A fresh pool value of `elements` 4-byte elements. */
  value(name: string, elements: number): number;
  /** A value stored in `of`'s place. */
  alias(of: number, name: string): number;
  dispatch(d: Dispatch): void;
  /** This node's weight (PyTorch name) and its gradient. */
  param(node: PrimitiveNode, name: string): BufferRef;
  grad(node: PrimitiveNode, name: string): BufferRef;
  /** Whether this node's weight exists (e.g. a Conv2d bias). */
  hasParam(node: PrimitiveNode, name: string): boolean;
  /** A distinct number per dropout layer, for its random stream. */
  nextSalt(): number;
  /** Passes dy on unchanged as input's gradient (aliasing it when nothing else adds to it). */
  passGradient(dy: number, target: GradTarget, channels: number, label: string): void;
}

/** The shape a value has in the kernels: rows of channels (NHWC, or N×F). */
export function rowsOf(shape: number[]): { rows: number; channels: number; count: number } {
  const channels = shape[1];
  const count = numel(shape);
  return { rows: count / channels, channels, count };
}

const floats = (elements: number) => elements * 4;
const align = (bytes: number) => Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;

/**
 * Places sizes (bytes) with [first, last] lifetimes into heaps of at most
 * `heapLimit` bytes: greedy by size (largest first, lowest free offset
 * among the values alive at the same time), as TFLite's arena planner does.
 */
export function placeByLiveness(
  items: { bytes: number; first: number; last: number }[],
  heapLimit: number,
): { heap: number; offset: number }[] {
  const order = items.map((_, i) => i).sort((a, b) => items[b].bytes - items[a].bytes);
  const placed: { index: number; heap: number; offset: number }[] = [];
  const result: { heap: number; offset: number }[] = new Array(items.length);
  for (const i of order) {
    const item = items[i];
    const size = align(item.bytes);
    for (let heap = 0; ; heap++) {
      const busy = placed
        .filter(
          (p) =>
            p.heap === heap &&
            items[p.index].first <= item.last &&
            item.first <= items[p.index].last,
        )
        .map((p) => ({ start: p.offset, end: p.offset + align(items[p.index].bytes) }))
        .sort((a, b) => a.start - b.start);
      let offset = 0;
      for (const b of busy) {
        if (offset + size <= b.start) break;
        offset = Math.max(offset, b.end);
      }
      if (offset + size <= heapLimit || (offset === 0 && busy.length === 0)) {
        placed.push({ index: i, heap, offset });
        result[i] = { heap, offset };
        break;
      }
    }
  }
  return result;
}

/** Heap sizes after placement. */
function heapSizes(
  items: { bytes: number }[],
  places: { heap: number; offset: number }[],
): number[] {
  const sizes: number[] = [];
  places.forEach((p, i) => {
    sizes[p.heap] = Math.max(sizes[p.heap] ?? 0, p.offset + align(items[i].bytes));
  });
  return sizes.map((s) => s ?? 0);
}

/** Where every weight goes: trainable ones packed (aligned) into arena heaps. */
export function placeParams(
  inference: GraphInference,
  limits: DeviceLimits,
): { params: ParamPlacement[]; arenaHeaps: number[] } {
  const params: ParamPlacement[] = [];
  const arenaHeaps: number[] = [];
  for (const node of inference.primitives) {
    for (const spec of node.weights) {
      const elements = numel(spec.shape);
      const placement: ParamPlacement = {
        key: weightKey(node.id, spec.name),
        shape: spec.shape,
        elements,
        trainable: spec.trainable,
      };
      if (spec.trainable) {
        const bytes = align(floats(elements));
        let heap = arenaHeaps.length - 1;
        if (heap < 0 || arenaHeaps[heap] + bytes > limits.maxBufferSize) {
          arenaHeaps.push(0);
          heap++;
        }
        placement.heap = heap;
        placement.offset = arenaHeaps[heap];
        arenaHeaps[heap] += bytes;
      }
      params.push(placement);
    }
  }
  return { params, arenaHeaps };
}

/** Which values need a gradient: what depends on a trainable weight (or everything, for statistics). */
function gradientNeeds(inference: GraphInference, options: PlanOptions): Map<string, boolean> {
  const needs = new Map<string, boolean>();
  for (const node of inference.primitives) {
    if (node.id === inference.inputId) {
      needs.set(node.id, options.inputGradient === true);
      continue;
    }
    const fromInputs = node.inputs.some((id) => needs.get(id));
    const ownWeights = node.weights.some((w) => w.trainable);
    needs.set(node.id, options.layerStats === true || fromInputs || ownWeights);
  }
  return needs;
}

/** Activations a producer can apply in its own kernel: those whose gradient needs only their output. */
const FUSABLE: Record<string, ActivationKind> = {
  ReLU: 'relu',
  ReLU6: 'relu6',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
};
const PRODUCERS = new Set(['Conv2d', 'Linear', 'BatchNorm2d', 'BatchNorm1d', 'Add']);

/**
 * What each node can share with its neighbours: a producer followed only by
 * a ReLU, sigmoid or tanh applies it itself (one pass less, one buffer less);
 * a Conv2d or Linear whose only consumer is a training BatchNorm has a bias
 * gradient of exactly zero. Layer statistics need every layer's own output,
 * so they plan without fusion.
 */
function fusions(inference: GraphInference, options: PlanOptions): Map<string, Fusion> {
  const consumers = new Map<string, PrimitiveNode[]>();
  for (const node of inference.primitives) {
    for (const id of node.inputs) consumers.set(id, [...(consumers.get(id) ?? []), node]);
  }
  const result = new Map<string, Fusion>();
  const at = (id: string) => {
    let f = result.get(id);
    if (!f) {
      f = {};
      result.set(id, f);
    }
    return f;
  };
  for (const node of inference.primitives) {
    const next = consumers.get(node.id) ?? [];
    const only = next.length === 1 ? next[0] : undefined;
    if (!only) continue;
    if (
      (node.type === 'Conv2d' || node.type === 'Linear') &&
      options.mode === 'train' &&
      (only.type === 'BatchNorm2d' || only.type === 'BatchNorm1d')
    ) {
      at(node.id).biasGradientIsZero = true;
    }
    const kind = FUSABLE[only.type];
    if (!options.layerStats && kind && PRODUCERS.has(node.type)) {
      at(node.id).activation = { kind, slope: 0 };
      // BatchNorm applies the slope in its backward pass too (its gradient is one pass over dy).
      at(only.id).fusedIntoInput = node.type.startsWith('BatchNorm') ? 'backward' : 'forward';
    }
  }
  return result;
}

const STATS_KIND: Record<string, number> = { ReLU: 1, Sigmoid: 2, Tanh: 3 };
/** Within this distance of a limit a sigmoid/tanh output counts as saturated (layer-stats.ts). */
const SATURATION_MARGIN = 0.01;

/** Plans one training step (or evaluation pass) of the inferred network. */
export function planStep(inference: GraphInference, options: PlanOptions): Plan {
  const { primitives, inputId, outputId } = inference;
  if (inputId === undefined || outputId === undefined || !inference.inputShape) {
    throw new NotCompilable(undefined, 'the graph has no input or no output');
  }
  const training = options.mode === 'train';
  const [, channels, height, width] = inference.inputShape;
  const batch = options.batch;
  const values: Value[] = [];
  const dispatches: Dispatch[] = [];
  const uses: number[][] = [];
  const { params, arenaHeaps } = placeParams(inference, options.limits);
  const paramKeys = new Set(params.map((p) => p.key));

  const newValue = (name: string, elements: number, extra: Partial<Value> = {}): number => {
    values.push({ id: values.length, name, elements, first: -1, last: -1, ...extra });
    uses.push([]);
    return values.length - 1;
  };
  const emit = (d: Dispatch) => {
    for (const b of d.buffers) if ('value' in b) uses[b.value].push(dispatches.length);
    dispatches.push(d);
  };

  // Gradients: contributions per value so far, and how many each will get.
  const needs = gradientNeeds(inference, options);
  const contributionsDue = new Map<number, number>();
  const contributionsMade = new Map<number, number>();
  const gradOf = new Map<number, number>();

  let salt = 0;
  const emitter: Emitter = {
    mode: options.mode,
    batch,
    value: (name, elements) => newValue(name, elements),
    alias: (of, name) => newValue(name, values[of].elements, { alias: rootOf(of) }),
    dispatch: emit,
    param: (node, name) => ({ param: weightKey(node.id, name) }),
    grad: (node, name) => ({ grad: weightKey(node.id, name) }),
    hasParam: (node, name) => paramKeys.has(weightKey(node.id, name)),
    nextSalt: () => ++salt,
    passGradient(dy, target, channelCount, label) {
      if (target.only) {
        values[target.value].alias = rootOf(dy);
        return;
      }
      const count = values[dy].elements;
      emit({
        kernel: channelCopy(target.mode),
        label,
        params: {
          count,
          width: channelCount,
          srcChannels: channelCount,
          srcOffset: 0,
          dstChannels: channelCount,
          dstOffset: 0,
        },
        buffers: [{ value: dy }, { value: target.value }],
        workgroups: grid1d(count),
      });
    },
  };
  const rootOf = (id: number): number => {
    let v = id;
    while (values[v].alias !== undefined) v = values[v].alias as number;
    return v;
  };

  // The images as written, then as the network takes them.
  const [imageH, imageW] = options.imageSize;
  const images = newValue('images', batch * imageH * imageW * channels, { external: 'images' });
  let input = images;
  if (imageH !== height || imageW !== width) {
    input = newValue('resized images', batch * height * width * channels);
    const count = batch * height * width * channels;
    emit({
      kernel: RESIZE_BILINEAR,
      label: `resize images ${imageH}×${imageW} → ${height}×${width}`,
      params: {
        count,
        inH: imageH,
        inW: imageW,
        outH: height,
        outW: width,
        C: channels,
        ratioH: imageH / height,
        ratioW: imageW / width,
      },
      buffers: [{ value: images }, { value: input }],
      workgroups: grid1d(count),
    });
  }

  // Forward.
  const fused = fusions(inference, options);
  const output = new Map<string, number>();
  const saved = new Map<string, Saved>();
  const statsPoints: StatsPoint[] = [];
  const statsBuffer = options.layerStats
    ? newValue('layer statistics', 0, { external: 'stats' })
    : -1;
  let statsSlots = 0;
  const statistics = (of: number, slot: number, type: string, label: string) => {
    const count = values[of].elements;
    emit({
      kernel: LAYER_STATISTICS,
      label,
      params: { count, slot, kind: STATS_KIND[type] ?? 0, margin: SATURATION_MARGIN },
      buffers: [{ value: of }, { value: statsBuffer }],
      workgroups: [1, 1, 1],
    });
  };

  for (const node of primitives) {
    if (node.id === inputId) {
      output.set(node.id, input);
      continue;
    }
    const lowering = loweringOf(node.type);
    if (!lowering) {
      throw new NotCompilable(node.id, `the compiled step has no kernels for ${node.type} layers`);
    }
    const inputs = node.inputs.map((id) => output.get(id) as number);
    const result = lowering.forward(emitter, node, inputs, fused.get(node.id) ?? {});
    output.set(node.id, result.output);
    saved.set(node.id, result.saved ?? {});
    if (options.layerStats) {
      const point: StatsPoint = { id: node.id, type: node.type, activationSlot: statsSlots++ };
      statsPoints.push(point);
      statistics(result.output, point.activationSlot, node.type, `${node.id} statistics`);
    }
  }
  const logits = output.get(outputId) as number;
  const outputShape = (inference.outputShape as number[]).slice();
  outputShape[0] = batch;

  // Loss.
  const metrics = newValue('metrics', METRICS_FLOATS, { external: 'metrics' });
  let outputGrad: number | undefined;
  if (options.loss === 'cross-entropy') {
    if (outputShape.length !== 2) {
      throw new NotCompilable(
        outputId,
        `cross-entropy needs logits of shape [N, classes] but the model outputs ${formatShape(outputShape)}`,
      );
    }
    const labels = newValue('labels', batch, { external: 'labels' });
    const classes = outputShape[1];
    if (training) {
      outputGrad = newValue(`${outputId} gradient`, batch * classes);
      emit({
        kernel: CROSS_ENTROPY,
        label: 'cross-entropy',
        params: { rows: batch, classes, scale: 1 / batch },
        buffers: [{ value: logits }, { value: labels }, { value: outputGrad }, { value: metrics }],
        workgroups: [1, 1, 1],
      });
    } else {
      emit({
        kernel: CROSS_ENTROPY_SUM,
        label: 'cross-entropy (sum)',
        params: { rows: batch, classes },
        buffers: [{ value: logits }, { value: labels }, { value: metrics }],
        workgroups: [1, 1, 1],
      });
    }
  } else {
    if (!training) throw new NotCompilable(undefined, 'evaluation is planned for cross-entropy');
    const count = numel(outputShape);
    const targets = newValue('targets', count, { external: 'targets' });
    outputGrad = newValue(`${outputId} gradient`, count);
    emit({
      kernel: MEAN_SQUARED_ERROR,
      label: options.loss === 'mse' ? 'mean squared error' : 'squared error (sum)',
      params: { count, scale: options.loss === 'mse' ? 1 / count : 1 },
      buffers: [{ value: logits }, { value: targets }, { value: outputGrad }, { value: metrics }],
      workgroups: [1, 1, 1],
    });
  }

  // Backward, in reverse order; a value's gradient is complete once every consumer has run.
  let inputGradient: number | undefined;
  if (training) {
    for (const node of primitives) {
      if (node.id === inputId) continue;
      for (const id of node.inputs) {
        if (!needs.get(id)) continue;
        const v = output.get(id) as number;
        contributionsDue.set(v, (contributionsDue.get(v) ?? 0) + 1);
      }
    }
    gradOf.set(logits, outputGrad as number);
    const target = (v: number, name: string): GradTarget => {
      const made = contributionsMade.get(v) ?? 0;
      contributionsMade.set(v, made + 1);
      let g = gradOf.get(v);
      if (g === undefined) {
        g = newValue(`${name} gradient`, values[v].elements);
        gradOf.set(v, g);
      }
      return {
        value: g,
        mode: made === 0 ? 'write' : 'accumulate',
        only: contributionsDue.get(v) === 1,
      };
    };
    for (const node of [...primitives].reverse()) {
      if (node.id === inputId || !needs.get(node.id)) continue;
      const lowering = loweringOf(node.type) as Lowering;
      const dy = gradOf.get(output.get(node.id) as number);
      if (dy === undefined) continue; // nothing downstream needs it
      const point = statsPoints.find((p) => p.id === node.id);
      if (point) {
        point.gradientSlot = statsSlots++;
        statistics(dy, point.gradientSlot, '', `${node.id} gradient statistics`);
      }
      const targets = node.inputs.map((id) =>
        needs.get(id) ? target(output.get(id) as number, id) : null,
      );
      lowering.backward(
        emitter,
        node,
        saved.get(node.id) ?? {},
        dy,
        targets,
        fused.get(node.id) ?? {},
      );
    }
    if (options.inputGradient) inputGradient = gradOf.get(input);
  }

  // The optimizer: every trainable weight in one dispatch per arena chunk.
  const optimizerSlots =
    training && options.optimizer ? OPTIMIZER_SLOTS[options.optimizer.kind] : [];
  if (training && options.optimizer) {
    const o = options.optimizer;
    const chunk = Math.floor(options.limits.maxStorageBufferBindingSize / ALIGNMENT) * ALIGNMENT;
    arenaHeaps.forEach((heapBytes, heap) => {
      for (let offset = 0; offset < heapBytes; offset += chunk) {
        const bytes = Math.min(chunk, heapBytes - offset);
        const range = (arena: ArenaName): BufferRef => ({ arena, heap, offset, bytes });
        emit({
          kernel: optimizerKernel(o.kind),
          label: `${o.kind} update`,
          params: {
            count: bytes / 4,
            weightDecay: o.weightDecay,
            momentum: o.momentum,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
          },
          buffers: [
            { value: metrics },
            range('params'),
            range('grads'),
            ...optimizerSlots.map((_, i) => range(`slot${i}` as ArenaName)),
          ],
          workgroups: grid1d(bytes / 4),
        });
      }
    });
  }

  // Lifetimes (an alias keeps its root alive), then places in the pool.
  uses.forEach((times, id) => {
    const root = rootOf(id);
    for (const t of times) {
      const r = values[root];
      r.first = r.first < 0 ? t : Math.min(r.first, t);
      r.last = Math.max(r.last, t);
    }
  });
  // The output and the input gradient are read after the step (tests): they live to its end.
  for (const id of [logits, inputGradient]) {
    if (id !== undefined) values[rootOf(id)].last = dispatches.length;
  }
  for (const v of values) {
    if (v.alias !== undefined) {
      const r = values[rootOf(v.id)];
      v.first = r.first;
      v.last = r.last;
    }
  }
  const pooled = values.filter((v) => v.alias === undefined && v.external === undefined);
  const places = placeByLiveness(
    pooled.map((v) => ({ bytes: floats(v.elements), first: v.first, last: v.last })),
    options.limits.maxBufferSize,
  );
  pooled.forEach((v, i) => {
    v.heap = places[i].heap;
    v.offset = places[i].offset;
  });
  const poolHeaps = heapSizes(
    pooled.map((v) => ({ bytes: floats(v.elements) })),
    places,
  );
  if (options.layerStats) values[statsBuffer].elements = statsSlots * 5;

  const plan: Plan = {
    mode: options.mode,
    batch,
    imageShape: [batch, imageH, imageW, channels],
    inputShape: [batch, height, width, channels],
    outputShape,
    loss: options.loss,
    values,
    dispatches,
    poolHeaps,
    params,
    arenaHeaps,
    optimizerSlots,
    statsPoints,
    inputGradient,
    output: logits,
    bytes: planBytes(values, poolHeaps, params, arenaHeaps, training, optimizerSlots.length),
  };
  checkLimits(plan, options.limits);
  return plan;
}

function planBytes(
  values: Value[],
  poolHeaps: number[],
  params: ParamPlacement[],
  arenaHeaps: number[],
  training: boolean,
  slots: number,
): PlanBytes {
  const arena = arenaHeaps.reduce((a, b) => a + b, 0);
  const weights = arena + params.reduce((a, p) => a + align(floats(p.elements)), 0);
  const gradients = training ? arena : 0;
  const optimizer = arena * slots;
  const activations = poolHeaps.reduce((a, b) => a + b, 0);
  const io = values
    .filter((v) => v.external !== undefined)
    .reduce((a, v) => a + align(floats(v.elements)), 0);
  return {
    weights,
    gradients,
    optimizer,
    activations,
    io,
    total: weights + gradients + optimizer + activations + io,
  };
}

/** Refuses what the device cannot bind or dispatch, naming the largest offender. */
function checkLimits(plan: Plan, limits: DeviceLimits): void {
  const binding = limits.maxStorageBufferBindingSize;
  const largestValue = plan.values.reduce(
    (best, v) => (floats(v.elements) > floats(best.elements) ? v : best),
    plan.values[0],
  );
  if (floats(largestValue.elements) > binding) {
    throw new TooLarge(
      `${largestValue.name} takes ${mib(floats(largestValue.elements))} but this GPU binds at most ${mib(binding)} at once (maxStorageBufferBindingSize)`,
      plan.bytes.total,
    );
  }
  const largestParam = plan.params.reduce(
    (best, p) => (p.elements > best.elements ? p : best),
    plan.params[0] ?? { key: '', elements: 0 },
  );
  if (floats(largestParam.elements) > Math.min(binding, limits.maxBufferSize)) {
    throw new TooLarge(
      `weight '${largestParam.key}' takes ${mib(floats(largestParam.elements))} but this GPU binds at most ${mib(binding)} at once`,
      plan.bytes.total,
    );
  }
  const most = limits.maxComputeWorkgroupsPerDimension;
  const wide = plan.dispatches.find((d) => d.workgroups.some((n) => n > most));
  if (wide) {
    throw new TooLarge(
      `${wide.label} needs ${wide.workgroups.join('×')} workgroups, more than this GPU's ${most} per dimension`,
      plan.bytes.total,
    );
  }
}

/** The same network at another batch size (shapes scale in N only). */
export function rebatch(inference: GraphInference, batch: number): GraphInference {
  const withBatch = (shape: number[]) => [batch, ...shape.slice(1)];
  return {
    ...inference,
    inputShape: inference.inputShape && withBatch(inference.inputShape),
    outputShape: inference.outputShape && withBatch(inference.outputShape),
    primitives: inference.primitives.map((p) => ({
      ...p,
      inputShapes: p.inputShapes.map(withBatch),
      outputShape: withBatch(p.outputShape),
    })),
  };
}

/**
 * The largest batch below `options.batch` whose step the device can bind and
 * dispatch (sizes grow with the batch, so a binary search); 0 if none.
 */
export function largestPlannableBatch(inference: GraphInference, options: PlanOptions): number {
  let lo = 0;
  let hi = options.batch - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      planStep(rebatch(inference, mid), { ...options, batch: mid });
      lo = mid;
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      hi = mid - 1;
    }
  }
  return lo;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Dispatches per class of kernel (for the bench's report). */
export function dispatchCounts(plan: Plan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of plan.dispatches) counts[d.kernel.class] = (counts[d.kernel.class] ?? 0) + 1;
  return counts;
}
