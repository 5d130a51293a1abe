/**
 * TensorFlow.js Layers export: a Keras functional-model topology (model.json)
 * and its weights (weights.bin), loadable with plain tf.loadLayersModel.
 * Activations are NHWC (tfjs's layout), so every PyTorch detail is made
 * explicit: explicit padding becomes ZeroPadding2D, Flatten is preceded by
 * Permute to flatten in PyTorch's C,H,W order, BatchNormalization keeps
 * PyTorch's epsilon, and what Keras lacks (−∞-padded max pooling,
 * grouped convolution, GELU's tanh form) use the custom layers of
 * convnet-studio-layers.js.
 */

import type { PrimitiveNode, PrimitiveNodeOf } from '../../core/infer';
import { resolveConvPadding } from '../../core/layers/conv';
import { poolWindows } from '../../core/layers/pool';
import { sides } from '../../core/layers/structure';
import { type Padding4, samePadding } from '../../core/shape';
import type { NamedTensor } from '../../core/weights/safetensors';
import {
  type EmitterTable,
  type ExportBundle,
  ExportError,
  type ExportInput,
  emit,
  stateKey,
  transposeTensor,
  weightOf,
} from '../common';
import { markdownText } from '../text-escapes';
import { CUSTOM_LAYERS_FILE, CUSTOM_LAYERS_SOURCE } from './custom-layers';

export const TFJS_WEIGHTS_FILE = 'weights.bin';

export interface KerasLayer {
  class_name: string;
  config: Record<string, unknown> & { name: string };
  name: string;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

interface KerasWeight {
  name: string;
  tensor: NamedTensor;
}

/** Keras layer name of a primitive: its state-dict key ('stage2.0.conv1'), valid as a tfjs name. */
export function kerasName(nodeId: string): string {
  const key = stateKey(nodeId);
  // tfjs names must start with a letter or digit; node ids may start with '_' or '-'.
  return /^[A-Za-z0-9]/.test(key) ? key : `n${key}`;
}

class KerasGraph {
  readonly layers: KerasLayer[] = [];
  readonly weights: KerasWeight[] = [];
  readonly customLayers = new Set<string>();
  /** Primitive path id → the Keras layer producing its value. */
  private readonly producers = new Map<string, string>();

  constructor(readonly input: ExportInput) {}

  /** Adds a layer fed by the given Keras layers; returns its name. */
  layer(className: string, name: string, config: Record<string, unknown>, from: string[]): string {
    this.layers.push({
      class_name: className,
      config: { ...config, name, trainable: true, dtype: 'float32' },
      name,
      inbound_nodes: from.length === 0 ? [] : [from.map((source) => [source, 0, 0, {}])],
    });
    return name;
  }
  /** The Keras layers feeding a primitive. */
  sources(node: PrimitiveNode): string[] {
    return node.inputs.map((id) => this.producers.get(id)!);
  }
  /** Adds the layer(s) of a primitive: helper layers get suffixed names, the last one is the node's. */
  chain(
    node: PrimitiveNode,
    steps: { className: string; config: Record<string, unknown>; suffix?: string }[],
  ): void {
    let from = this.sources(node);
    const name = kerasName(node.id);
    for (const step of steps) {
      from = [
        this.layer(
          step.className,
          step.suffix ? `${name}.${step.suffix}` : name,
          step.config,
          from,
        ),
      ];
    }
    this.producers.set(node.id, from[0]);
  }
  weight(node: PrimitiveNode, kerasWeight: string, torchWeight: string, perm?: number[]): void {
    const t = weightOf('tfjs', this.input, node, torchWeight);
    this.weights.push({
      name: `${kerasName(node.id)}/${kerasWeight}`,
      tensor: perm ? transposeTensor(t, perm) : t,
    });
  }
  custom(className: string): string {
    this.customLayers.add(className);
    return className;
  }
}

const isZero = (p: Padding4) => p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0;
const samePads = (a: Padding4, b: Padding4) =>
  a.top === b.top && a.bottom === b.bottom && a.left === b.left && a.right === b.right;
const zeroPadding = (p: Padding4) => ({
  className: 'ZeroPadding2D',
  suffix: 'pad',
  config: {
    padding: [
      [p.top, p.bottom],
      [p.left, p.right],
    ],
    data_format: 'channels_last',
  },
});
const activation = (name: string) => ({ className: 'Activation', config: { activation: name } });

/** Keras normalises over the last axis: the channels of NHWC, the features of N×F. */
function batchNorm(node: PrimitiveNodeOf<'BatchNorm1d' | 'BatchNorm2d'>, g: KerasGraph): void {
  g.chain(node, [
    {
      className: 'BatchNormalization',
      config: {
        axis: -1,
        epsilon: node.params.eps,
        // Keras's momentum weighs the old value; PyTorch's weighs the new one.
        momentum: 1 - node.params.momentum,
        center: true,
        scale: true,
      },
    },
  ]);
  g.weight(node, 'gamma', 'weight');
  g.weight(node, 'beta', 'bias');
  g.weight(node, 'moving_mean', 'running_mean');
  g.weight(node, 'moving_variance', 'running_var');
}

const emitters: EmitterTable<KerasGraph> = {
  Input(node, g) {
    const [, c, h, w] = node.outputShape;
    g.chain(node, [
      {
        className: 'InputLayer',
        config: { batch_input_shape: [null, h, w, c], sparse: false },
      },
    ]);
  },
  Conv2d(node, g) {
    const p = node.params;
    const pad = resolveConvPadding(p);
    const tfjsCanStride =
      (p.stride[0] === 1 && p.stride[1] === 1) || (p.dilation[0] === 1 && p.dilation[1] === 1);
    const common = {
      filters: p.out_channels,
      kernel_size: p.kernel_size,
      strides: p.stride,
      dilation_rate: p.dilation,
      use_bias: p.bias,
    };
    if (p.groups === 1 && tfjsCanStride) {
      // TF's 'same' equals PyTorch's padding exactly for stride 1 (extra pixel after).
      const stride1 = p.stride[0] === 1 && p.stride[1] === 1;
      const keras =
        isZero(pad) || (stride1 && samePads(pad, samePadding(p.kernel_size, p.dilation)))
          ? [
              {
                className: 'Conv2D',
                config: {
                  ...common,
                  padding: isZero(pad) ? 'valid' : 'same',
                  data_format: 'channels_last',
                  activation: 'linear',
                },
              },
            ]
          : [
              zeroPadding(pad),
              {
                className: 'Conv2D',
                config: {
                  ...common,
                  padding: 'valid',
                  data_format: 'channels_last',
                  activation: 'linear',
                },
              },
            ];
      g.chain(node, keras);
    } else {
      const torchConv = {
        className: g.custom('TorchConv2D'),
        config: { ...common, groups: p.groups },
      };
      g.chain(node, isZero(pad) ? [torchConv] : [zeroPadding(pad), torchConv]);
    }
    g.weight(node, 'kernel', 'weight', [2, 3, 1, 0]);
    if (p.bias) g.weight(node, 'bias', 'bias');
  },
  MaxPool2d(node, g) {
    const p = node.params;
    const strides = p.stride ?? p.kernel_size;
    const [, , h, w] = node.inputShapes[0];
    // ceil_mode's overhang is padding too: it never wins a max.
    const { padding: pad } = poolWindows([h, w], p);
    if (isZero(pad)) {
      g.chain(node, [
        {
          className: 'MaxPooling2D',
          config: {
            pool_size: p.kernel_size,
            strides,
            padding: 'valid',
            data_format: 'channels_last',
          },
        },
      ]);
      return;
    }
    g.chain(node, [
      {
        className: g.custom('TorchMaxPool2D'),
        config: {
          pool_size: p.kernel_size,
          strides,
          padding: [
            [pad.top, pad.bottom],
            [pad.left, pad.right],
          ],
        },
      },
    ]);
  },
  AvgPool2d(node, g) {
    const p = node.params;
    const strides = p.stride ?? p.kernel_size;
    const [, , h, w] = node.inputShapes[0];
    const { padding: pad, rescale } = poolWindows([h, w], p);
    if (rescale) {
      // A ceil_mode window past the padded input averages only what it covers.
      g.chain(node, [
        {
          className: g.custom('TorchAvgPool2D'),
          config: { pool_size: p.kernel_size, strides, padding: p.padding, ceil_mode: true },
        },
      ]);
      return;
    }
    const pool = {
      className: 'AveragePooling2D',
      config: {
        pool_size: p.kernel_size,
        strides,
        padding: 'valid',
        data_format: 'channels_last',
      },
    };
    // count_include_pad: the padded zeros count in the average, so zero-padding first is exact.
    g.chain(node, isZero(pad) ? [pool] : [zeroPadding(pad), pool]);
  },
  AdaptiveAvgPool2d(node, g) {
    const [oh, ow] = node.params.output_size;
    const [, c, h, w] = node.inputShapes[0];
    if (oh === 1 && ow === 1) {
      g.chain(node, [
        {
          className: 'GlobalAveragePooling2D',
          suffix: 'gap',
          config: { data_format: 'channels_last' },
        },
        { className: 'Reshape', config: { target_shape: [1, 1, c] } },
      ]);
      return;
    }
    if (h % oh !== 0 || w % ow !== 0) {
      throw new ExportError(
        'tfjs',
        node.id,
        `AdaptiveAvgPool2d from ${h}×${w} to ${oh}×${ow} uses unequal windows, which no Keras layer computes; choose an output size that divides the input size (or 1×1)`,
      );
    }
    const kernel = [h / oh, w / ow];
    g.chain(node, [
      {
        className: 'AveragePooling2D',
        config: {
          pool_size: kernel,
          strides: kernel,
          padding: 'valid',
          data_format: 'channels_last',
        },
      },
    ]);
  },
  BatchNorm2d: batchNorm,
  BatchNorm1d: batchNorm,
  Linear(node, g) {
    const useBias = node.params.bias;
    g.chain(node, [
      {
        className: 'Dense',
        config: { units: node.params.out_features, use_bias: useBias, activation: 'linear' },
      },
    ]);
    g.weight(node, 'kernel', 'weight', [1, 0]);
    if (useBias) g.weight(node, 'bias', 'bias');
  },
  ReLU: (node, g) => g.chain(node, [activation('relu')]),
  ReLU6: (node, g) => g.chain(node, [{ className: 'ReLU', config: { max_value: 6 } }]),
  Sigmoid: (node, g) => g.chain(node, [activation('sigmoid')]),
  Tanh: (node, g) => g.chain(node, [activation('tanh')]),
  GELU: (node, g) =>
    g.chain(node, [
      node.params.approximate === 'tanh'
        ? { className: g.custom('TorchGELU'), config: { approximate: 'tanh' } }
        : activation('gelu'),
    ]),
  LeakyReLU: (node, g) =>
    g.chain(node, [{ className: 'LeakyReLU', config: { alpha: node.params.negative_slope } }]),
  // The studio's Softmax is over dim 1 (channels or features): the last axis in NHWC.
  Softmax: (node, g) => g.chain(node, [{ className: 'Softmax', config: { axis: -1 } }]),
  Flatten(node, g) {
    const shape = node.inputShapes[0];
    const flatten = { className: 'Flatten', config: { data_format: 'channels_last' } };
    // NHWC flattens as H,W,C; PyTorch as C,H,W. Permute to N,C,H,W first when it matters.
    const needsPermute = shape.length === 4 && shape[2] * shape[3] > 1 && shape[1] > 1;
    g.chain(
      node,
      needsPermute
        ? [{ className: 'Permute', suffix: 'chw', config: { dims: [3, 1, 2] } }, flatten]
        : [flatten],
    );
  },
  ZeroPad2d(node, g) {
    const [left, right, top, bottom] = sides(node.params.padding);
    g.chain(node, [
      {
        className: 'ZeroPadding2D',
        config: {
          padding: [
            [top, bottom],
            [left, right],
          ],
          data_format: 'channels_last',
        },
      },
    ]);
  },
  Dropout: (node, g) => g.chain(node, [{ className: 'Dropout', config: { rate: node.params.p } }]),
  // Keras's Dropout with one draw per image and channel (NHWC) is PyTorch's Dropout2d.
  Dropout2d: (node, g) =>
    g.chain(node, [
      {
        className: 'Dropout',
        config: { rate: node.params.p, noise_shape: [null, 1, 1, node.inputShapes[0][1]] },
      },
    ]),
  Add: (node, g) => g.chain(node, [{ className: 'Add', config: {} }]),
  Concat: (node, g) => g.chain(node, [{ className: 'Concatenate', config: { axis: -1 } }]),
};

export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Model';
    config: {
      name: string;
      layers: KerasLayer[];
      input_layers: [string, number, number][];
      output_layers: [string, number, number][];
    };
    keras_version: string;
    backend: string;
  };
  weightsManifest: {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: 'float32' }[];
  }[];
  /** The studio project, so importing the export restores its blocks and ids. */
  userDefinedMetadata?: { convnetStudio: { project: unknown; customLayers: string[] } };
}

export function buildTfjsModel(input: ExportInput): {
  modelJson: TfjsModelJson;
  weightsBin: Uint8Array;
  customLayers: string[];
} {
  const g = new KerasGraph(input);
  for (const node of input.inference.primitives) emit(emitters, node, g);
  const total = g.weights.reduce((n, w) => n + w.tensor.data.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const w of g.weights) {
    data.set(w.tensor.data, at);
    at += w.tensor.data.length;
  }
  const customLayers = [...g.customLayers];
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: 'ConvNet Studio 0.1.0',
    convertedBy: null,
    modelTopology: {
      class_name: 'Model',
      config: {
        name: input.project.name.replace(/[^A-Za-z0-9_.-]/g, '_') || 'model',
        layers: g.layers,
        input_layers: [[kerasName(input.inference.inputId!), 0, 0]],
        output_layers: [[kerasName(input.inference.outputId!), 0, 0]],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      {
        paths: [TFJS_WEIGHTS_FILE],
        weights: g.weights.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: 'float32' })),
      },
    ],
    userDefinedMetadata: { convnetStudio: { project: input.project, customLayers } },
  };
  return {
    modelJson,
    weightsBin: new Uint8Array(data.buffer),
    customLayers,
  };
}

export function exportTfjs(input: ExportInput): ExportBundle {
  const { modelJson, weightsBin, customLayers } = buildTfjsModel(input);
  return {
    format: 'tfjs',
    files: [
      {
        path: 'model.json',
        contents: JSON.stringify(modelJson),
        description: `Keras functional model, ${modelJson.modelTopology.config.layers.length} layers, NHWC input`,
      },
      {
        path: TFJS_WEIGHTS_FILE,
        contents: weightsBin,
        description: `${modelJson.weightsManifest[0].weights.length} weight tensors, float32`,
      },
      {
        path: CUSTOM_LAYERS_FILE,
        contents: CUSTOM_LAYERS_SOURCE,
        description:
          customLayers.length > 0
            ? `custom layers this model needs (${customLayers.join(', ')}): load before the model`
            : 'custom layers (this model uses none; kept for models you edit later)',
      },
      {
        path: 'README.md',
        contents: tfjsReadme(input, customLayers),
        description: 'How to load it',
      },
    ],
  };
}

function tfjsReadme({ project, inference }: ExportInput, customLayers: string[]): string {
  const [, c, h, w] = inference.inputShape!;
  const out = inference.outputShape!;
  const needs = customLayers.length > 0;
  return `# ${markdownText(project.name)} (TensorFlow.js Layers)

Exported by ConvNet Studio: \`model.json\` (a Keras functional model) and \`${TFJS_WEIGHTS_FILE}\`.

**Input is NHWC**: a float32 tensor N×${h}×${w}×${c} (height, width, channels; pixels in [0, 1]),
not the N×${c}×${h}×${w} the studio shows. Output: N×${out.length === 4 ? `${out[2]}×${out[3]}×${out[1]}` : out.slice(1).join('×')}${out.length === 2 ? ' (logits)' : ' (NHWC)'}.

${
  needs
    ? `This model uses custom layers (${customLayers.join(', ')}) for PyTorch behaviour that Keras lacks
(max pooling padded with −∞, grouped convolution, GELU's tanh form). Register them before loading:`
    : `This model uses only standard Keras layers; \`${CUSTOM_LAYERS_FILE}\` is only needed by models that use
PyTorch-style padded max pooling, grouped convolution or GELU's tanh form. Loading it does no harm:`
}

Browser:
\`\`\`html
<script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4.22.0/dist/tf.min.js"></script>
<script src="${CUSTOM_LAYERS_FILE}"></script>  <!-- registers itself with the global tf -->
<script>
  tf.loadLayersModel('model.json').then((model) => {
    const logits = model.predict(tf.zeros([1, ${h}, ${w}, ${c}]));
    logits.print();
  });
</script>
\`\`\`

Node (CommonJS; from an ES module use \`createRequire(import.meta.url)\`), with plain \`@tensorflow/tfjs\`:
\`\`\`js
const fs = require('node:fs');
const tf = require('@tensorflow/tfjs');
require('./${CUSTOM_LAYERS_FILE}').registerConvnetStudioLayers(tf);
const json = JSON.parse(fs.readFileSync('model.json', 'utf8'));
const bin = fs.readFileSync('${TFJS_WEIGHTS_FILE}');
tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: json.modelTopology,
  weightSpecs: json.weightsManifest[0].weights,
  weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
})).then((model) => model.predict(tf.zeros([1, ${h}, ${w}, ${c}])).print());
\`\`\`
(With \`@tensorflow/tfjs-node\`, \`tf.loadLayersModel('file://model.json')\` reads the files itself.)

Layers keep the studio's node paths as names (\`b2.0.conv1\`), so each weight can be traced to its node.
Explicit padding is a \`ZeroPadding2D\` before the layer, \`Flatten\` is preceded by \`Permute([3, 1, 2])\` so
features come out in PyTorch's C,H,W order, and BatchNormalization keeps PyTorch's epsilon.
`;
}
