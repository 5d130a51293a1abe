/**
 * ONNX export (opset 13, IR 7): NCHW, PyTorch-layout weights as initializers,
 * one ONNX node (or a short formula) per studio primitive. Max pooling pads
 * with −∞ in ONNX, as in PyTorch; average pooling uses count_include_pad=1.
 */

import type { PrimitiveNode, PrimitiveNodeOf } from '../../core/infer';
import { resolveConvPadding } from '../../core/layers/conv';
import { poolWindows } from '../../core/layers/pool';
import { sides } from '../../core/layers/structure';
import type { NamedTensor } from '../../core/weights/safetensors';
import {
  type EmitterTable,
  type ExportBundle,
  ExportError,
  type ExportInput,
  emit,
  stateKey,
  weightOf,
} from '../common';
import { markdownText } from '../text-escapes';
import { AttributeType, ModelProto, ONNX_FLOAT, OnnxDataType } from './onnx-proto';

const ONNX_INT64 = OnnxDataType.INT64;

export const ONNX_OPSET = 13;
const IR_VERSION = 7;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';

type Attribute = { name: string; type: number; i?: number; f?: number; ints?: number[] };
interface OnnxNode {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}
interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

const ints = (name: string, values: number[]): Attribute => ({
  name,
  type: AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): Attribute => ({
  name,
  type: AttributeType.INT,
  i: value,
});
const float = (name: string, value: number): Attribute => ({
  name,
  type: AttributeType.FLOAT,
  f: value,
});

class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  /** Primitive path id → the ONNX value carrying its output (Dropout forwards its input's). */
  private readonly values = new Map<string, string>();

  constructor(readonly input: ExportInput) {}

  valueOf(primitiveId: string): string {
    return this.values.get(primitiveId) ?? primitiveId;
  }
  inputsOf(node: PrimitiveNode): string[] {
    return node.inputs.map((id) => this.valueOf(id));
  }
  alias(node: PrimitiveNode, value: string): void {
    this.values.set(node.id, value);
  }
  add(node: PrimitiveNode, opType: string, inputs: string[], attributes: Attribute[] = []): void {
    this.addRaw(node.id, opType, inputs, node.id, attributes);
  }
  addRaw(
    name: string,
    opType: string,
    inputs: string[],
    output: string,
    attributes: Attribute[] = [],
  ): void {
    this.nodes.push({
      name,
      op_type: opType,
      input: inputs,
      output: [output],
      attribute: attributes,
    });
  }
  /** Adds the primitive's PyTorch weight as an initializer named by its state-dict key. */
  weight(node: PrimitiveNode, name: string): string {
    const tensor = weightOf('onnx', this.input, node, name);
    const key = `${stateKey(node.id)}.${name}`;
    this.initializers.push(floatTensor(key, tensor));
    return key;
  }
  /** An int64 initializer (shapes, pads), as operators that take integers as inputs need. */
  integers(name: string, values: number[]): string {
    const data = new BigInt64Array(values.map(BigInt));
    this.initializers.push({
      name,
      dims: [values.length],
      data_type: ONNX_INT64,
      raw_data: new Uint8Array(data.buffer),
    });
    return name;
  }
  constant(name: string, value: number | NamedTensor): string {
    const tensor =
      typeof value === 'number' ? { shape: [], data: new Float32Array([value]) } : value;
    this.initializers.push(floatTensor(name, tensor));
    return name;
  }
}

function floatTensor(name: string, t: NamedTensor): OnnxTensor {
  const data = Float32Array.from(t.data);
  return {
    name,
    dims: t.shape,
    data_type: ONNX_FLOAT,
    raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** ONNX pads are [top, left, bottom, right]. */
function pads(p: { top: number; bottom: number; left: number; right: number }): number[] {
  return [p.top, p.left, p.bottom, p.right];
}

/**
 * MaxPool and AveragePool with the studio's explicit padding (ceil_mode's
 * overhang included, so ONNX's own ceil_mode is not needed): max pooling
 * ignores pads, and average pooling counts them (count_include_pad), after
 * which a window that ran past the padded input is rescaled to what it covers.
 */
function pool(node: PrimitiveNodeOf<'MaxPool2d' | 'AvgPool2d'>, g: OnnxGraph): void {
  const p = node.params;
  const [, , h, w] = node.inputShapes[0];
  const windows = poolWindows([h, w], p);
  const attributes = [
    ints('kernel_shape', p.kernel_size),
    ints('strides', p.stride ?? p.kernel_size),
    ints('pads', pads(windows.padding)),
  ];
  if (node.type === 'MaxPool2d') {
    g.add(node, 'MaxPool', g.inputsOf(node), attributes);
    return;
  }
  const average = [...attributes, int('count_include_pad', 1)];
  if (!windows.rescale) {
    g.add(node, 'AveragePool', g.inputsOf(node), average);
    return;
  }
  const [, oh, ow] = windows.rescale.shape;
  const pooled = `${node.id}/pooled`;
  g.addRaw(pooled, 'AveragePool', g.inputsOf(node), pooled, average);
  // NHWC [1, oh, ow, 1] and NCHW [1, 1, oh, ow] lay the factors out alike.
  const rescale = g.constant(`${node.id}/rescale`, {
    shape: [1, 1, oh, ow],
    data: windows.rescale.factors,
  });
  g.add(node, 'Mul', [pooled, rescale]);
}

/** ONNX's BatchNormalization takes N×C as well as N×C×H×W. */
function batchNorm(node: PrimitiveNodeOf<'BatchNorm1d' | 'BatchNorm2d'>, g: OnnxGraph): void {
  g.add(
    node,
    'BatchNormalization',
    [
      ...g.inputsOf(node),
      g.weight(node, 'weight'),
      g.weight(node, 'bias'),
      g.weight(node, 'running_mean'),
      g.weight(node, 'running_var'),
    ],
    [float('epsilon', node.params.eps), float('momentum', 1 - node.params.momentum)],
  );
}

/** One emitter per studio primitive. */
const emitters: EmitterTable<OnnxGraph> = {
  Input: (node, g) => g.alias(node, ONNX_INPUT),
  Conv2d(node, g) {
    const p = node.params;
    const inputs = [...g.inputsOf(node), g.weight(node, 'weight')];
    if (p.bias) inputs.push(g.weight(node, 'bias'));
    g.add(node, 'Conv', inputs, [
      ints('kernel_shape', p.kernel_size),
      ints('strides', p.stride),
      ints('dilations', p.dilation),
      ints('pads', pads(resolveConvPadding(p))),
      int('group', p.groups),
    ]);
  },
  MaxPool2d: pool,
  AvgPool2d: pool,
  AdaptiveAvgPool2d(node, g) {
    const [oh, ow] = node.params.output_size;
    const [, , h, w] = node.inputShapes[0];
    if (oh === 1 && ow === 1) {
      g.add(node, 'GlobalAveragePool', g.inputsOf(node));
      return;
    }
    // PyTorch's adaptive windows are equal, non-overlapping ones exactly when the sizes divide.
    if (h % oh !== 0 || w % ow !== 0) {
      throw new ExportError(
        'onnx',
        node.id,
        `AdaptiveAvgPool2d from ${h}×${w} to ${oh}×${ow} uses unequal windows, which ONNX has no operator for; choose an output size that divides the input size (or 1×1)`,
      );
    }
    const kernel = [h / oh, w / ow];
    g.add(node, 'AveragePool', g.inputsOf(node), [
      ints('kernel_shape', kernel),
      ints('strides', kernel),
    ]);
  },
  BatchNorm2d: batchNorm,
  BatchNorm1d: batchNorm,
  Linear(node, g) {
    const inputs = [...g.inputsOf(node), g.weight(node, 'weight')];
    if (node.params.bias) inputs.push(g.weight(node, 'bias'));
    g.add(node, 'Gemm', inputs, [int('transB', 1)]);
  },
  ReLU: (node, g) => g.add(node, 'Relu', g.inputsOf(node)),
  // Clip takes its bounds as inputs from opset 11.
  ReLU6: (node, g) =>
    g.add(node, 'Clip', [
      ...g.inputsOf(node),
      g.constant(`${node.id}/min`, 0),
      g.constant(`${node.id}/max`, 6),
    ]),
  Sigmoid: (node, g) => g.add(node, 'Sigmoid', g.inputsOf(node)),
  Tanh: (node, g) => g.add(node, 'Tanh', g.inputsOf(node)),
  LeakyReLU: (node, g) =>
    g.add(node, 'LeakyRelu', g.inputsOf(node), [float('alpha', node.params.negative_slope)]),
  GELU(node, g) {
    // Gelu is an operator only from opset 20: write PyTorch's formula.
    const [x] = g.inputsOf(node);
    const t = (suffix: string) => `${node.id}/${suffix}`;
    if (node.params.approximate === 'tanh') {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      g.addRaw(t('cube'), 'Mul', [x, x], t('x2'));
      g.addRaw(t('cube3'), 'Mul', [t('x2'), x], t('x3'));
      g.addRaw(t('scale3'), 'Mul', [t('x3'), g.constant(t('c'), 0.044715)], t('cx3'));
      g.addRaw(t('inner'), 'Add', [x, t('cx3')], t('in'));
      g.addRaw(t('scale'), 'Mul', [t('in'), g.constant(t('k'), Math.sqrt(2 / Math.PI))], t('kin'));
      g.addRaw(t('tanh'), 'Tanh', [t('kin')], t('th'));
      g.addRaw(t('plus1'), 'Add', [t('th'), g.constant(t('one'), 1)], t('th1'));
    } else {
      // 0.5·x·(1 + erf(x/√2))
      g.addRaw(t('div'), 'Div', [x, g.constant(t('sqrt2'), Math.SQRT2)], t('xs'));
      g.addRaw(t('erf'), 'Erf', [t('xs')], t('e'));
      g.addRaw(t('plus1'), 'Add', [t('e'), g.constant(t('one'), 1)], t('th1'));
    }
    g.addRaw(t('mulx'), 'Mul', [x, t('th1')], t('xp'));
    g.add(node, 'Mul', [t('xp'), g.constant(t('half'), 0.5)]);
  },
  // The studio's Softmax is over dim 1 (channels or features), as nn.Softmax(dim=1).
  Softmax: (node, g) => g.add(node, 'Softmax', g.inputsOf(node), [int('axis', 1)]),
  Flatten: (node, g) => g.add(node, 'Flatten', g.inputsOf(node), [int('axis', 1)]),
  ZeroPad2d(node, g) {
    const [left, right, top, bottom] = sides(node.params.padding);
    // Pad's pads: every axis's start, then every axis's end (N, C, H, W).
    const pads = g.integers(`${node.id}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
    g.add(node, 'Pad', [...g.inputsOf(node), pads]);
  },
  // Dropout is the identity at inference: its consumers read its input.
  Dropout: (node, g) => g.alias(node, g.inputsOf(node)[0]),
  Dropout2d: (node, g) => g.alias(node, g.inputsOf(node)[0]),
  Add(node, g) {
    const [first, ...rest] = g.inputsOf(node);
    if (rest.length === 1) {
      g.add(node, 'Add', [first, rest[0]]);
      return;
    }
    g.add(node, 'Sum', [first, ...rest]);
  },
  Concat: (node, g) => g.add(node, 'Concat', g.inputsOf(node), [int('axis', 1)]),
};

function valueInfo(name: string, shape: number[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_FLOAT,
        shape: { dim: shape.map((d, i) => (i === 0 ? { dim_param: 'N' } : { dim_value: d })) },
      },
    },
  };
}

/** Builds the ONNX ModelProto bytes for a valid project and its weights. */
export function buildOnnxModel(input: ExportInput): Uint8Array {
  const { inference, project } = input;
  const g = new OnnxGraph(input);
  for (const node of inference.primitives) emit(emitters, node, g);
  const outputId = inference.outputId!;
  const last = g.valueOf(outputId);
  // The graph output gets a stable name; rename the value that produces it.
  const producer = g.nodes.find((n) => n.output[0] === last);
  if (producer) producer.output[0] = ONNX_OUTPUT;
  else g.addRaw(`${outputId}/output`, 'Identity', [last], ONNX_OUTPUT);
  const model = ModelProto.create({
    ir_version: IR_VERSION,
    producer_name: 'ConvNet Studio',
    producer_version: '0.1.0',
    doc_string: project.description ?? project.name,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    metadata_props: [{ key: 'convnet-studio.project', value: project.name }],
    graph: {
      name: project.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, inference.inputShape!)],
      output: [valueInfo(ONNX_OUTPUT, inference.outputShape!)],
    },
  });
  return ModelProto.encode(model).finish();
}

export function exportOnnx(input: ExportInput): ExportBundle {
  const [, c, h, w] = input.inference.inputShape!;
  const out = input.inference.outputShape!;
  return {
    format: 'onnx',
    files: [
      {
        path: 'model.onnx',
        contents: buildOnnxModel(input),
        description: `ONNX opset ${ONNX_OPSET} model, input '${ONNX_INPUT}' N×${c}×${h}×${w} (NCHW), output '${ONNX_OUTPUT}' N×${out.slice(1).join('×')}`,
      },
      { path: 'README.md', contents: onnxReadme(input), description: 'How to run it' },
    ],
  };
}

function onnxReadme({ project, inference }: ExportInput): string {
  const [, c, h, w] = inference.inputShape!;
  return `# ${markdownText(project.name)} (ONNX)

Exported by ConvNet Studio. \`model.onnx\` is an ONNX opset ${ONNX_OPSET} model:

- input \`${ONNX_INPUT}\`: float32, N×${c}×${h}×${w} (NCHW, values as the studio feeds them: pixels in [0, 1])
- output \`${ONNX_OUTPUT}\`: float32, N×${inference.outputShape!.slice(1).join('×')}${inference.outputShape!.length === 2 ? ' (logits)' : ''}

Weights are stored as initializers named by their PyTorch state-dict keys.

\`\`\`python
import numpy as np, onnxruntime as ort
session = ort.InferenceSession("model.onnx")
logits = session.run(None, {"${ONNX_INPUT}": np.zeros((1, ${c}, ${h}, ${w}), np.float32)})[0]
\`\`\`
`;
}
