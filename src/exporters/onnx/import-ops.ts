/**
 * How each studio primitive is read from an ONNX node: the operators that
 * become it, its parameters from the node's attributes (as each opset from 9
 * on defines them) and its PyTorch weights from the node's constant inputs
 * (ONNX keeps PyTorch's layouts). One entry per primitive type, each typed by
 * that type's own parameters; a type with no ONNX operator has an empty list.
 */
import { poolWindows } from '../../core/layers/pool';
import type { LayerParams, PrimitiveType } from '../../core/layers/registry';
import { type Pair, type Shape, samePadding } from '../../core/shape';
import type { NamedTensor } from '../../core/weights/safetensors';
import { transposeTensor } from '../common';
import { ImportError } from '../import-graph';

/** An ONNX node the studio cannot express, named with its operator's reason. */
export class NodeError extends ImportError {
  constructor(node: string, reason: string) {
    super(node, reason, 'node');
  }
}

/** An attribute's value as decoded. */
export type AttributeValue = number | number[] | string | NamedTensor;

/** One ONNX node being read, with what is known about its inputs. */
export interface OnnxNodeIn {
  /** What names it in messages and ids: the node's name, else its first output. */
  name: string;
  op: string;
  /** The model's opset for the default domain. */
  opset: number;
  inputs: string[];
  attribute(name: string): AttributeValue | undefined;
  /** The constant (initializer or Constant node) feeding input `i`, if it is one. */
  constant(i: number): NamedTensor | undefined;
  /** The first data input's shape, [N, C, H, W] or [N, F] (N = 1). */
  inputShape(): Shape;
}

export interface OnnxReader<T extends PrimitiveType> {
  /** ONNX operators read as this type. */
  ops: readonly string[];
  /** Where several types read one operator: whether this node is this type. */
  accepts?(node: OnnxNodeIn): boolean;
  /** Its parameters (omitted ones take the type's defaults). */
  params(node: OnnxNodeIn): Partial<LayerParams<T>>;
  /** Its PyTorch weights by state-dict name, from the node's constant inputs. */
  weights?(node: OnnxNodeIn): Map<string, NamedTensor>;
}

export type OnnxReaders = { [T in PrimitiveType]: OnnxReader<T> };

/** float32 attribute values as the decimal that was written (0.1, not 0.10000000149). */
export function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === Math.fround(value)) return candidate;
  }
  return value;
}

export function intAttr(node: OnnxNodeIn, name: string, fallback: number): number {
  const value = node.attribute(name);
  return typeof value === 'number' ? value : fallback;
}

function intsAttr(node: OnnxNodeIn, name: string): number[] | undefined {
  const value = node.attribute(name);
  return Array.isArray(value) ? value : undefined;
}

function stringAttr(node: OnnxNodeIn, name: string, fallback: string): string {
  const value = node.attribute(name);
  return typeof value === 'string' ? value : fallback;
}

function pairAttr(node: OnnxNodeIn, name: string, fallback: Pair): Pair {
  const value = intsAttr(node, name);
  if (!value) return fallback;
  if (value.length !== 2)
    throw new NodeError(node.name, `${name} ${JSON.stringify(value)} is not 2-D (an image layer)`);
  return [value[0], value[1]];
}

function needConstant(node: OnnxNodeIn, i: number, what: string): NamedTensor {
  const t = node.constant(i);
  if (!t) {
    throw new NodeError(
      node.name,
      `its ${what} (input ${i + 1}) is computed by the graph, not stored; the studio needs it as a weight`,
    );
  }
  return t;
}

/**
 * ONNX pads [top, left, bottom, right] (or auto_pad) as the studio's
 * symmetric [h, w] padding, with ceil_mode where the extra padding after is
 * exactly a pooling's last partial window; else refused.
 */
function padding(
  node: OnnxNodeIn,
  kernel: Pair,
  stride: Pair,
  dilation: Pair,
  pooling: boolean,
): { padding: Pair | 'same'; ceil?: boolean } {
  const auto = stringAttr(node, 'auto_pad', 'NOTSET');
  const [, , h, w] = node.inputShape();
  let pads: number[];
  if (auto === 'VALID') pads = [0, 0, 0, 0];
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const axis = (size: number, i: number): [number, number] => {
      const out = Math.ceil(size / stride[i]);
      const total = Math.max((out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size, 0);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [[top, bottom], [left, right]] = [axis(h, 0), axis(w, 1)];
    pads = [top, left, bottom, right];
    if (!pooling && stride[0] === 1 && stride[1] === 1 && auto === 'SAME_UPPER') {
      return { padding: 'same' };
    }
  } else pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4) throw new NodeError(node.name, `pads ${JSON.stringify(pads)} are not 2-D`);
  const [top, left, bottom, right] = pads;
  if (top === bottom && left === right) return { padding: [top, left] };
  // PyTorch's padding='same' puts an even kernel's extra row and column after.
  const same = samePadding(kernel, dilation);
  const isSame =
    same.top === top && same.bottom === bottom && same.left === left && same.right === right;
  if (!pooling && stride[0] === 1 && stride[1] === 1 && isSame) return { padding: 'same' };
  if (pooling) {
    const windows = poolWindows([h, w], {
      kernel_size: kernel,
      stride,
      padding: [top, left],
      ceil_mode: true,
    });
    if (windows.padding.bottom === bottom && windows.padding.right === right)
      return { padding: [top, left], ceil: true };
  }
  throw new NodeError(
    node.name,
    `its padding differs before and after (pads ${JSON.stringify(pads)}), which PyTorch-style layers cannot express`,
  );
}

function poolParams(node: OnnxNodeIn): Partial<LayerParams<'MaxPool2d' | 'AvgPool2d'>> {
  const kernel = pairAttr(node, 'kernel_shape', [1, 1]);
  const stride = pairAttr(node, 'strides', [1, 1]);
  const dilations = intsAttr(node, 'dilations');
  if (dilations?.some((d) => d !== 1))
    throw new NodeError(node.name, 'dilated pooling has no studio layer');
  const pad = padding(node, kernel, stride, [1, 1], true);
  const ceil = intAttr(node, 'ceil_mode', 0) === 1 || pad.ceil === true;
  const explicit = pad.padding as Pair;
  // The studio's own export writes ceil_mode's average as explicit pads and a rescale.
  const rescaled = intAttr(node, 'convnet_studio_rescaled', 0) === 1;
  if (rescaled) checkRescale(node, kernel, stride, explicit);
  if (node.op === 'AveragePool' && (explicit[0] > 0 || explicit[1] > 0 || pad.ceil) && !rescaled) {
    if (intAttr(node, 'count_include_pad', 0) !== 1) {
      throw new NodeError(
        node.name,
        'its average leaves the padding out (count_include_pad=0), which the studio’s AvgPool2d (PyTorch’s default, count_include_pad=True) does not do',
      );
    }
    if (ceil) {
      throw new NodeError(
        node.name,
        'average pooling with ceil_mode over padding: ONNX runtimes and PyTorch divide its last windows differently',
      );
    }
  }
  return { kernel_size: kernel, stride, padding: explicit, ceil_mode: ceil };
}

/**
 * A Pad node's zeros on H and W, [top, left, bottom, right], or why it is
 * not zero padding of an image: its pads and value are attributes before
 * opset 11 and inputs after.
 */
export function zeroPadding(
  attribute: (name: string) => AttributeValue | undefined,
  constant: (input: number) => ArrayLike<number> | undefined,
  opset: number,
): [number, number, number, number] | string {
  const mode = attribute('mode') ?? 'constant';
  const pads = opset < 11 ? (attribute('pads') as number[] | undefined) : constant(1);
  const value = opset < 11 ? (attribute('value') ?? 0) : (constant(2)?.[0] ?? 0);
  if (mode !== 'constant' || value !== 0)
    return `it pads with ${mode === 'constant' ? value : `mode ${mode}`}, not zeros`;
  if (pads?.length !== 8) return 'its pads are not those of an N×C×H×W image';
  const [nb, cb, hb, wb, ne, ce, he, we] = Array.from(pads);
  if (nb || cb || ne || ce) return 'it pads the batch or the channels';
  return [hb, wb, he, we];
}

/** The factors after an AveragePool must be those of PyTorch's ceil_mode windows. */
function checkRescale(node: OnnxNodeIn, kernel: Pair, stride: Pair, pad: Pair): void {
  const [, , h, w] = node.inputShape();
  const { rescale } = poolWindows([h, w], {
    kernel_size: kernel,
    stride,
    padding: pad,
    ceil_mode: true,
  });
  const factors = node.attribute('convnet_studio_factors') as NamedTensor;
  const same =
    rescale !== undefined &&
    rescale.factors.length === factors.data.length &&
    rescale.factors.every((f, i) => Math.abs(f - factors.data[i]) < 1e-6);
  if (!same) {
    throw new NodeError(
      node.name,
      'an AveragePool followed by a Mul by a constant map, which is not the window rescale of PyTorch’s ceil_mode: no studio layer computes it',
    );
  }
}

function batchNormReader<T extends 'BatchNorm1d' | 'BatchNorm2d'>(rank: number): OnnxReader<T> {
  return {
    ops: ['BatchNormalization'],
    accepts: (node) => node.inputShape().length === rank,
    params(node) {
      if (intAttr(node, 'training_mode', 0) !== 0)
        throw new NodeError(node.name, 'a BatchNormalization in training mode');
      return {
        eps: floatAttr(node, 'epsilon', 1e-5),
        // ONNX's momentum weighs the old running value, PyTorch's the new one.
        momentum: Math.round((1 - floatAttr(node, 'momentum', 0.9)) * 1e9) / 1e9,
      } as Partial<LayerParams<T>>;
    },
    weights: (node) =>
      new Map([
        ['weight', needConstant(node, 1, 'scale')],
        ['bias', needConstant(node, 2, 'bias')],
        ['running_mean', needConstant(node, 3, 'running mean')],
        ['running_var', needConstant(node, 4, 'running variance')],
      ]),
  };
}

function floatAttr(node: OnnxNodeIn, name: string, fallback: number): number {
  const value = node.attribute(name);
  return typeof value === 'number' ? value : fallback;
}

/** A bias of any broadcastable shape ([out], [1, out] or one value) as [out]. */
function vector(t: NamedTensor, length: number, node: OnnxNodeIn): NamedTensor {
  if (t.data.length === length) return { shape: [length], data: t.data };
  if (t.data.length === 1)
    return { shape: [length], data: new Float32Array(length).fill(t.data[0]) };
  throw new NodeError(
    node.name,
    `a bias of shape ${JSON.stringify(t.shape)} for ${length} outputs`,
  );
}

function scaled(t: NamedTensor, factor: number): NamedTensor {
  return factor === 1 ? t : { shape: t.shape, data: t.data.map((v) => v * factor) };
}

/** An operator with no parameters. */
function plain<T extends PrimitiveType>(...ops: string[]): OnnxReader<T> {
  return { ops, params: () => ({}) };
}

/** Every input a computed value (a merge of branches), none a stored constant. */
function mergeParams(node: OnnxNodeIn): Record<string, never> {
  node.inputs.forEach((_, i) => {
    if (node.constant(i)) {
      throw new NodeError(
        node.name,
        `${node.op} with a stored constant (input ${i + 1}) has no studio layer; the studio's ${node.op === 'Concat' ? 'Concat joins' : 'Add sums'} computed branches`,
      );
    }
  });
  return {};
}

export const onnxReaders: OnnxReaders = {
  // The graph input, read by the importer from the model's input shape.
  Input: {
    ops: [],
    params: ({ inputShape }) => {
      const [, channels, height, width] = inputShape();
      return { channels, height, width };
    },
  },
  Conv2d: {
    ops: ['Conv'],
    params(node) {
      const weight = needConstant(node, 1, 'weight');
      if (weight.shape.length !== 4)
        throw new NodeError(
          node.name,
          `a ${weight.shape.length - 2}-D convolution; the studio's Conv2d is 2-D`,
        );
      const kernel = pairAttr(node, 'kernel_shape', [weight.shape[2], weight.shape[3]]);
      const stride = pairAttr(node, 'strides', [1, 1]);
      const dilation = pairAttr(node, 'dilations', [1, 1]);
      return {
        out_channels: weight.shape[0],
        kernel_size: kernel,
        stride,
        dilation,
        groups: intAttr(node, 'group', 1),
        padding: padding(node, kernel, stride, dilation, false).padding,
        bias: node.inputs.length > 2 && node.inputs[2] !== '',
      };
    },
    weights(node) {
      const weight = needConstant(node, 1, 'weight');
      const out = new Map([['weight', weight]]);
      if (node.inputs.length > 2 && node.inputs[2] !== '')
        out.set('bias', vector(needConstant(node, 2, 'bias'), weight.shape[0], node));
      return out;
    },
  },
  MaxPool2d: { ops: ['MaxPool'], params: poolParams },
  AvgPool2d: { ops: ['AveragePool'], params: poolParams },
  AdaptiveAvgPool2d: { ops: ['GlobalAveragePool'], params: () => ({ output_size: [1, 1] }) },
  BatchNorm2d: batchNormReader(4),
  BatchNorm1d: batchNormReader(2),
  ReLU: plain('Relu'),
  ReLU6: {
    // Clip's bounds are attributes before opset 11, inputs after.
    ops: ['Clip'],
    params(node) {
      const bound = (name: string, input: number, fallback: number) => {
        if (node.opset < 11) return floatAttr(node, name, fallback);
        if (!node.inputs[input]) return fallback;
        return needConstant(node, input, `${name} bound`).data[0];
      };
      const [min, max] = [bound('min', 1, -Infinity), bound('max', 2, Infinity)];
      if (min !== 0 || max !== 6)
        throw new NodeError(
          node.name,
          `Clip to [${min}, ${max}] has no studio layer (ReLU6 is Clip to [0, 6])`,
        );
      return {};
    },
  },
  Sigmoid: plain('Sigmoid'),
  Tanh: plain('Tanh'),
  LeakyReLU: {
    ops: ['LeakyRelu'],
    params: (node) => ({ negative_slope: floatAttr(node, 'alpha', 0.01) }),
  },
  GELU: {
    // Gelu is an operator from opset 20; older models (and the studio's export) write its
    // formula, which the importer recognises and reads as Gelu.
    ops: ['Gelu'],
    params: (node) => ({
      approximate: stringAttr(node, 'approximate', 'none') === 'tanh' ? 'tanh' : 'none',
    }),
  },
  Softmax: {
    ops: ['Softmax'],
    params(node) {
      const rank = node.inputShape().length;
      // Before opset 13 the axis (default 1) flattens everything after it into one.
      const axis = intAttr(node, 'axis', node.opset < 13 ? 1 : -1);
      const normalised = axis < 0 ? axis + rank : axis;
      const [, , h, w] = node.inputShape();
      const overChannels = normalised === 1 && (rank === 2 || node.opset >= 13 || h * w === 1);
      if (!overChannels) {
        throw new NodeError(
          node.name,
          `Softmax over axis ${axis} of a rank-${rank} input; the studio's Softmax is over the channels or features (dim 1)`,
        );
      }
      return {};
    },
  },
  Linear: {
    // Gemm, and MatMul with a stored weight (plus the Add of a bias), which the importer reads as a Gemm.
    ops: ['Gemm'],
    params(node) {
      if (intAttr(node, 'transA', 0) !== 0)
        throw new NodeError(node.name, 'a Gemm with transA=1 has no studio layer');
      const b = needConstant(node, 1, 'weight');
      const transB = intAttr(node, 'transB', 0) === 1;
      return {
        out_features: transB ? b.shape[0] : b.shape[1],
        bias: node.inputs.length > 2 && node.inputs[2] !== '',
      };
    },
    weights(node) {
      const b = needConstant(node, 1, 'weight');
      const transB = intAttr(node, 'transB', 0) === 1;
      // y = alpha·A·B + beta·C: alpha and beta fold into the weight and the bias.
      const weight = scaled(transB ? b : transposeTensor(b, [1, 0]), floatAttr(node, 'alpha', 1));
      const out = new Map([['weight', weight]]);
      if (node.inputs.length > 2 && node.inputs[2] !== '') {
        const bias = vector(needConstant(node, 2, 'bias'), weight.shape[0], node);
        out.set('bias', scaled(bias, floatAttr(node, 'beta', 1)));
      }
      return out;
    },
  },
  Flatten: {
    // Flatten(axis 1), and a Reshape to N×F, which the importer reads as a Flatten.
    ops: ['Flatten'],
    params(node) {
      if (intAttr(node, 'axis', 1) !== 1)
        throw new NodeError(
          node.name,
          `Flatten from axis ${intAttr(node, 'axis', 1)}; the studio flattens from dim 1`,
        );
      return {};
    },
  },
  ZeroPad2d: {
    ops: ['Pad'],
    params(node) {
      const pads = zeroPadding(node.attribute, (i) => node.constant(i)?.data, node.opset);
      if (typeof pads === 'string') throw new NodeError(node.name, `operator Pad: ${pads}`);
      const [top, left, bottom, right] = pads;
      return { padding: [left, right, top, bottom] };
    },
  },
  Dropout: {
    ops: ['Dropout'],
    params(node) {
      const stored = node.constant(1)?.data[0];
      const ratio =
        node.opset < 12
          ? node.attribute('ratio')
          : stored === undefined
            ? undefined
            : shortestFloat32(stored);
      return { p: typeof ratio === 'number' ? ratio : 0.5 };
    },
  },
  // ONNX's Dropout drops values, not channels.
  Dropout2d: { ops: [], params: () => ({}) },
  Add: { ops: ['Add', 'Sum'], params: mergeParams },
  Concat: {
    ops: ['Concat'],
    params(node) {
      const rank = node.inputShape().length;
      const axis = intAttr(node, 'axis', 1);
      if ((axis < 0 ? axis + rank : axis) !== 1)
        throw new NodeError(
          node.name,
          `Concat along axis ${axis}; the studio concatenates channels (dim 1)`,
        );
      return mergeParams(node);
    },
  },
};
