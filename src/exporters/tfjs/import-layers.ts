/**
 * How each studio primitive is read from a Keras (TF.js Layers) layer: which
 * Keras classes and activation names become it, its parameters from the
 * layer's config, and its PyTorch weights from the layer's Keras weights.
 * One entry per primitive type, each typed by that type's own parameters: a
 * layer type added to the catalog is a compile error here until it says how
 * it is read back (the exporter's counterpart is export.ts).
 */
import type { PrimitiveNodeOf } from '../../core/infer';
import { poolWindows } from '../../core/layers/pool';
import type { LayerParams, PrimitiveType } from '../../core/layers/registry';
import type { Pair } from '../../core/shape';
import type { NamedTensor } from '../../core/weights/safetensors';
import { transposeTensor } from '../common';
import { ImportError } from '../import-graph';

/** Per-axis [before, after] padding, as Keras's ZeroPadding2D gives it. */
export type Padding = [[number, number], [number, number]];

/** One Keras layer being read, with what is known about its input. */
export interface KerasLayerIn {
  name: string;
  className: string;
  cfg: Record<string, unknown>;
  /** The first input's shape [N, C, H, W] (or [N, F]) in the graph built so far. */
  inputShape(): number[];
  /**
   * A ZeroPadding2D right before this layer, which it takes over (undefined:
   * none). A layer that does not take it is refused naming the padding.
   */
  takePadding(): Padding | undefined;
}

/** A layer's Keras weights by short name ('kernel', 'gamma', …). */
export type KerasWeights = Map<string, NamedTensor>;

export interface WeightContext {
  /** For a Linear after a Flatten of an H×W×C map in Keras's order: that map's [H, W, C]. */
  flattenedHwc?: [number, number, number];
}

export interface KerasReader<T extends PrimitiveType> {
  /** Keras classes read as this type; the first is the one the studio's export writes. */
  classes: readonly string[];
  /** Keras activation names read as this type (fused into a layer or an Activation layer). */
  activations?: readonly string[];
  /** Where several types read one class: whether this layer is this type. */
  accepts?(layer: KerasLayerIn): boolean;
  /** Its parameters (omitted ones take the type's defaults). */
  params(layer: KerasLayerIn): Partial<LayerParams<T>>;
  /** Its PyTorch weights, by state-dict name. */
  weights?(
    own: KerasWeights,
    node: PrimitiveNodeOf<T>,
    ctx: WeightContext,
  ): Map<string, NamedTensor>;
  /** Nodes Keras folds into this layer that the studio keeps apart (global pooling's flatten). */
  followedBy?(layer: KerasLayerIn): [PrimitiveType, Record<string, unknown>][];
}

export type KerasReaders = { [T in PrimitiveType]: KerasReader<T> };

export function pair(value: unknown, name: string, layer: string): Pair {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2) return [Number(value[0]), Number(value[1])];
  throw new ImportError(layer, `${name} ${JSON.stringify(value)} is not a number or a pair`);
}

function symmetric(p: Padding, layer: string): Pair {
  if (p[0][0] !== p[0][1] || p[1][0] !== p[1][1]) {
    throw new ImportError(
      layer,
      `padding ${JSON.stringify(p)} differs before and after, which PyTorch-style layers cannot express`,
    );
  }
  return [p[0][0], p[1][0]];
}

/** TF's 'same' padding for a window on a known input: per axis [before, after]. */
export function tfSamePadding(size: Pair, kernel: Pair, stride: Pair, dilation: Pair): Padding {
  const axis = (i: number): [number, number] => {
    const out = Math.ceil(size[i] / stride[i]);
    const total = Math.max((out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size[i], 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [axis(0), axis(1)];
}

const isZero = (p: Padding) => p[0][0] + p[0][1] + p[1][0] + p[1][1] === 0;

function need(own: KerasWeights, name: string, layer: string): NamedTensor {
  const t = own.get(name);
  if (!t) throw new ImportError(layer, `its weight '${name}' is missing from the weight files`);
  return t;
}

/** Dense kernel rows in Keras's H,W,C flatten order → the studio's C,H,W order. */
function hwcRowsToChw(kernel: NamedTensor, [h, w, c]: [number, number, number]): NamedTensor {
  const units = kernel.shape[1];
  const data = new Float32Array(kernel.data.length);
  for (let ci = 0; ci < c; ci++)
    for (let hi = 0; hi < h; hi++)
      for (let wi = 0; wi < w; wi++) {
        const from = ((hi * w + wi) * c + ci) * units;
        const to = ((ci * h + hi) * w + wi) * units;
        data.set(kernel.data.subarray(from, from + units), to);
      }
  return { shape: kernel.shape, data };
}

/** An axis config as Keras writes it (a number or a one-element list); -1 by default. */
function axisOf(cfg: Record<string, unknown>): unknown {
  return Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1);
}

/** Keras's channels axis (the last) of an input of the given rank. */
function isLastAxis(axis: unknown, rank: number): boolean {
  return axis === -1 || axis === rank - 1;
}

/** Max and average pooling: Keras's padding (explicit, 'same', or a ZeroPadding2D before) as PyTorch's. */
function poolParams(
  layer: KerasLayerIn,
  max: boolean,
): Partial<LayerParams<'MaxPool2d' | 'AvgPool2d'>> {
  const { cfg, name } = layer;
  const kernel = pair(cfg.pool_size, 'pool_size', name);
  const stride = pair(cfg.strides ?? kernel, 'strides', name);
  if (layer.className === 'TorchAvgPool2D') {
    return {
      kernel_size: kernel,
      stride,
      padding: pair(cfg.padding ?? 0, 'padding', name),
      ceil_mode: cfg.ceil_mode === true,
    };
  }
  const before = layer.takePadding();
  let padding: Padding | undefined;
  if (Array.isArray(cfg.padding)) padding = cfg.padding as Padding;
  else if (cfg.padding === 'same') {
    const [, , h, w] = layer.inputShape();
    padding = tfSamePadding([h, w], kernel, stride, [1, 1]);
    if (!max && !isZero(padding)) {
      throw new ImportError(
        name,
        "'same' average pooling leaves the padding out of the average (PyTorch's count_include_pad=False), which the studio's AvgPool2d does not do",
      );
    }
  }
  // Only average pooling takes a ZeroPadding2D (its zeros count, as count_include_pad).
  if (before) return { kernel_size: kernel, stride, padding: symmetric(before, name) };
  if (!padding || isZero(padding)) return { kernel_size: kernel, stride, padding: [0, 0] };
  // Padding after that exceeds the padding before is ceil_mode's overhang when it is exactly that.
  const [, , h, w] = layer.inputShape();
  const lead: Pair = [padding[0][0], padding[1][0]];
  const ceil = poolWindows([h, w], { kernel_size: kernel, stride, padding: lead, ceil_mode: true });
  const asymmetric = padding[0][0] !== padding[0][1] || padding[1][0] !== padding[1][1];
  if (asymmetric && ceil.padding.bottom === padding[0][1] && ceil.padding.right === padding[1][1]) {
    return { kernel_size: kernel, stride, padding: lead, ceil_mode: true };
  }
  return { kernel_size: kernel, stride, padding: symmetric(padding, name) };
}

function batchNormReader<T extends 'BatchNorm1d' | 'BatchNorm2d'>(rank: number): KerasReader<T> {
  return {
    classes: ['BatchNormalization'],
    accepts: (layer) => layer.inputShape().length === rank,
    params({ cfg, name }) {
      if (!isLastAxis(axisOf(cfg), rank)) {
        throw new ImportError(
          name,
          `BatchNormalization over axis ${JSON.stringify(cfg.axis)} of a rank-${rank} input (only the features of N×F or the channels of N×H×W×C are supported)`,
        );
      }
      return {
        eps: Number(cfg.epsilon ?? 1e-3),
        // Keras's momentum weighs the old value; PyTorch's weighs the new one.
        momentum: Math.round((1 - Number(cfg.momentum ?? 0.99)) * 1e9) / 1e9,
      } as Partial<LayerParams<T>>;
    },
    weights(own, node, _ctx) {
      const channels = node.inputShapes[0][1];
      const filled = (value: number) => ({
        shape: [channels],
        data: new Float32Array(channels).fill(value),
      });
      const layer = node.id;
      return new Map([
        ['weight', own.get('gamma') ?? filled(1)],
        ['bias', own.get('beta') ?? filled(0)],
        ['running_mean', need(own, 'moving_mean', layer)],
        ['running_var', need(own, 'moving_variance', layer)],
      ]);
    },
  };
}

/** A depthwise kernel [in, multiplier, kh, kw] as PyTorch's [in·multiplier, 1, kh, kw] (same order). */
function reshaped(t: NamedTensor, outChannels: number): NamedTensor {
  return { shape: [outChannels, 1, t.shape[2], t.shape[3]], data: t.data };
}

/** Keras's ZeroPadding2D padding (a number, [h, w] or [[top, bottom], [left, right]]) per side. */
export function kerasPadding(raw: unknown, layer: string): Padding {
  if (raw === undefined)
    return [
      [1, 1],
      [1, 1],
    ];
  if (typeof raw === 'number')
    return [
      [raw, raw],
      [raw, raw],
    ];
  if (Array.isArray(raw) && raw.length === 2) {
    const axis = (v: unknown): [number, number] =>
      typeof v === 'number'
        ? [v, v]
        : Array.isArray(v) && v.length === 2
          ? [Number(v[0]), Number(v[1])]
          : [Number.NaN, Number.NaN];
    const padding: Padding = [axis(raw[0]), axis(raw[1])];
    if (padding.flat().every((p) => Number.isInteger(p) && p >= 0)) return padding;
  }
  throw new ImportError(
    layer,
    `padding ${JSON.stringify(raw)} is not a number, [h, w] or [[top, bottom], [left, right]]`,
  );
}

/** Keras's ReLU layer: the studio's ReLU (no cap) or ReLU6 (cap 6), never a threshold. */
function reluParams({ cfg, name }: KerasLayerIn): Record<string, never> {
  if (Number(cfg.threshold ?? 0) !== 0)
    throw new ImportError(name, `ReLU with threshold ${cfg.threshold} has no studio layer`);
  return {};
}

/** An activation with no parameters, read from its Keras activation name (and class). */
function activation<T extends PrimitiveType>(classes: string[], name: string): KerasReader<T> {
  return { classes, activations: [name], params: () => ({}) };
}

export const kerasReaders: KerasReaders = {
  Input: {
    classes: ['InputLayer'],
    params({ cfg, name }) {
      const shape = (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[] | undefined;
      if (shape?.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) {
        throw new ImportError(
          name,
          `the input shape ${JSON.stringify(shape)} is not an image [batch, height, width, channels] of a fixed size`,
        );
      }
      const [, h, w, c] = shape as number[];
      return { channels: c, height: h, width: w };
    },
  },
  Conv2d: {
    // DepthwiseConv2D is a Conv2d with one group per input channel.
    classes: ['Conv2D', 'TorchConv2D', 'DepthwiseConv2D'],
    params(layer) {
      const { cfg, name } = layer;
      const kernel = pair(cfg.kernel_size, 'kernel_size', name);
      const stride = pair(cfg.strides ?? 1, 'strides', name);
      const dilation = pair(cfg.dilation_rate ?? 1, 'dilation_rate', name);
      const before = layer.takePadding();
      let padding: LayerParams<'Conv2d'>['padding'] = before ? symmetric(before, name) : [0, 0];
      // The importer turns a strided 'same' into explicit padding first: here it has stride 1.
      if (cfg.padding === 'same') padding = 'same';
      const depthwise = layer.className === 'DepthwiseConv2D';
      const channels = layer.inputShape()[1];
      return {
        out_channels: depthwise
          ? channels * Number(cfg.depth_multiplier ?? 1)
          : Number(cfg.filters),
        kernel_size: kernel,
        stride,
        padding,
        dilation,
        groups: depthwise ? channels : Number(cfg.groups ?? 1),
        bias: cfg.use_bias !== false,
      };
    },
    weights(own, node) {
      const depthwise = own.get('depthwise_kernel');
      // Keras: [kh, kw, in, out], or [kh, kw, in, multiplier] for depthwise; PyTorch: [out, in/groups, kh, kw].
      const weight = depthwise
        ? reshaped(transposeTensor(depthwise, [2, 3, 0, 1]), node.params.out_channels)
        : transposeTensor(need(own, 'kernel', node.id), [3, 2, 0, 1]);
      const out = new Map([['weight', weight]]);
      if (node.params.bias) out.set('bias', need(own, 'bias', node.id));
      return out;
    },
  },
  MaxPool2d: {
    classes: ['TorchMaxPool2D', 'MaxPooling2D'],
    params: (layer) => poolParams(layer, true),
  },
  AvgPool2d: {
    classes: ['AveragePooling2D', 'TorchAvgPool2D'],
    params: (layer) => poolParams(layer, false),
  },
  AdaptiveAvgPool2d: {
    classes: ['GlobalAveragePooling2D'],
    params: () => ({ output_size: [1, 1] }),
    // Keras's global pooling drops H and W unless keepdims; the studio's keeps N×C×1×1.
    followedBy: ({ cfg }) =>
      cfg.keepdims === true || cfg.keep_dims === true ? [] : [['Flatten', {}]],
  },
  BatchNorm2d: batchNormReader(4),
  BatchNorm1d: batchNormReader(2),
  ReLU: {
    classes: ['ReLU'],
    activations: ['relu'],
    accepts: ({ cfg }) => cfg.max_value == null,
    params: reluParams,
  },
  ReLU6: {
    classes: ['ReLU'],
    activations: ['relu6'],
    accepts: ({ cfg, className }) => className === 'Activation' || cfg.max_value === 6,
    params: reluParams,
  },
  Sigmoid: activation([], 'sigmoid'),
  Tanh: activation([], 'tanh'),
  LeakyReLU: {
    classes: ['LeakyReLU'],
    params: ({ cfg }) => ({ negative_slope: Number(cfg.alpha ?? cfg.negative_slope ?? 0.3) }),
  },
  GELU: {
    classes: ['TorchGELU'],
    activations: ['gelu', 'gelu_new'],
    params: ({ cfg, className }) => ({
      approximate:
        className === 'TorchGELU'
          ? cfg.approximate === 'none'
            ? 'none'
            : 'tanh'
          : cfg.activation === 'gelu_new'
            ? 'tanh'
            : 'none',
    }),
  },
  Softmax: {
    classes: ['Softmax'],
    activations: ['softmax'],
    params({ cfg, name, inputShape }) {
      if (!isLastAxis(axisOf(cfg), inputShape().length))
        throw new ImportError(
          name,
          `Softmax over axis ${JSON.stringify(cfg.axis)} (the studio's Softmax is over channels, the last axis)`,
        );
      return {};
    },
  },
  Linear: {
    classes: ['Dense'],
    params: ({ cfg }) => ({ out_features: Number(cfg.units), bias: cfg.use_bias !== false }),
    weights(own, node, ctx) {
      let kernel = need(own, 'kernel', node.id);
      if (ctx.flattenedHwc) kernel = hwcRowsToChw(kernel, ctx.flattenedHwc);
      const out = new Map([['weight', transposeTensor(kernel, [1, 0])]]);
      if (node.params.bias) out.set('bias', need(own, 'bias', node.id));
      return out;
    },
  },
  Flatten: { classes: ['Flatten'], params: () => ({}) },
  ZeroPad2d: {
    // Also what a ZeroPadding2D becomes when the layer after it cannot take it as its own padding.
    classes: ['ZeroPadding2D'],
    params({ cfg, name }) {
      const [[top, bottom], [left, right]] = kerasPadding(cfg.padding, name);
      return { padding: [left, right, top, bottom] };
    },
  },
  Dropout: {
    classes: ['Dropout'],
    accepts: ({ cfg }) => !Array.isArray(cfg.noise_shape),
    params: ({ cfg }) => ({ p: Number(cfg.rate ?? 0.5) }),
  },
  Dropout2d: {
    classes: ['SpatialDropout2D', 'Dropout'],
    // A mask per image and channel: noise_shape [N, 1, 1, C].
    accepts: ({ cfg, className }) =>
      className === 'SpatialDropout2D' ||
      (Array.isArray(cfg.noise_shape) &&
        cfg.noise_shape.length === 4 &&
        cfg.noise_shape[1] === 1 &&
        cfg.noise_shape[2] === 1),
    params: ({ cfg }) => ({ p: Number(cfg.rate ?? 0.5) }),
  },
  Add: { classes: ['Add'], params: () => ({}) },
  Concat: {
    classes: ['Concatenate'],
    params({ cfg, name, inputShape }) {
      if (!isLastAxis(cfg.axis ?? -1, inputShape().length))
        throw new ImportError(
          name,
          `Concatenate over axis ${JSON.stringify(cfg.axis)} (the studio concatenates channels, the last axis)`,
        );
      return {};
    },
  },
};
