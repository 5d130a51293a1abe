/**
 * Opens an ONNX model (opset 9 and later) as an editable project with its
 * weights: every node becomes the studio layer its operator's reader says
 * (import-ops.ts), with its stored weights; what the model computes that the
 * catalog has no layer for is refused naming the node and its operator.
 * Exporters write some layers as small subgraphs, which are read back as the
 * layer: GELU's formula (before opset 20), MatMul + Add (Linear), the shape
 * arithmetic of a flattening Reshape, and the studio's own ceil_mode average
 * pooling (explicit pads and a rescale).
 */
import type { PrimitiveType } from '../../core/layers/registry';
import { formatLimit, LIMITS } from '../../core/limits';
import type { Shape } from '../../core/shape';
import type { NamedTensor, TensorMap } from '../../core/weights/safetensors';
import { type ImportedModel, ImportGraph, OutputChoiceError } from '../import-graph';
import { foldConstants } from './constant-fold';
import {
  type AttributeValue,
  NodeError,
  type OnnxNodeIn,
  type OnnxReader,
  onnxReaders,
  shortestFloat32,
  zeroPadding,
} from './import-ops';
import { ModelProto, OnnxDataType } from './onnx-proto';

export interface OnnxImportOptions {
  /** The project's name when the model has none. */
  fallbackName?: string;
  /** For a model with several outputs: the graph output the network keeps. */
  output?: string;
}

/** The oldest opset whose operators the readers know. */
export const MIN_ONNX_OPSET = 9;

interface TensorJson {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  data_location?: number;
}

interface AttributeJson {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorJson;
  floats?: number[];
  ints?: number[];
  g?: unknown;
}

interface NodeJson {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeJson[];
}

interface ValueInfoJson {
  name?: string;
  type?: { tensor_type?: { shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

interface ModelJson {
  opset_import?: { domain?: string; version?: number }[];
  graph?: {
    name?: string;
    node?: NodeJson[];
    initializer?: TensorJson[];
    input?: ValueInfoJson[];
    output?: ValueInfoJson[];
    sparse_initializer?: unknown[];
  };
}

/** A node as the importer works on it (exported subgraphs are folded into one such node). */
interface WorkNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

/** Whether bytes decode as an ONNX model with a graph (for telling a model file's kind). */
export function isOnnxModel(bytes: Uint8Array): boolean {
  try {
    return decode(bytes).graph !== undefined;
  } catch {
    return false;
  }
}

function decode(bytes: Uint8Array): ModelJson {
  const message = ModelProto.decode(bytes);
  return ModelProto.toObject(message, { longs: Number, arrays: true }) as ModelJson;
}

function tensorOf(t: TensorJson, what: string): { shape: number[]; values: Float64Array } {
  if (t.data_location === 1) {
    throw new Error(
      `${what} is stored in an external file (ONNX external data); save the model with its weights inside it`,
    );
  }
  const shape = t.dims ?? [];
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(size) || size > LIMITS.tensorValues) {
    throw new Error(
      `${what} has shape ${JSON.stringify(shape)}, more than the studio's limit of ${formatLimit(LIMITS.tensorValues)} values per tensor`,
    );
  }
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const values = new Float64Array(size);
  const read = (bytes: number, get: (offset: number) => number, listed?: number[]) => {
    if (view) {
      if (view.byteLength < size * bytes)
        throw new Error(`${what} holds fewer values than its shape`);
      for (let i = 0; i < size; i++) values[i] = get(i * bytes);
    } else {
      if ((listed?.length ?? 0) < size)
        throw new Error(`${what} holds fewer values than its shape`);
      for (let i = 0; i < size; i++) values[i] = listed![i];
    }
  };
  switch (t.data_type) {
    case OnnxDataType.FLOAT:
      read(4, (o) => view!.getFloat32(o, true), t.float_data);
      break;
    case OnnxDataType.DOUBLE:
      read(8, (o) => view!.getFloat64(o, true), t.double_data);
      break;
    case OnnxDataType.INT64:
      read(8, (o) => Number(view!.getBigInt64(o, true)), t.int64_data);
      break;
    case OnnxDataType.INT32:
      read(4, (o) => view!.getInt32(o, true), t.int32_data);
      break;
    default:
      throw new Error(
        `${what} has ONNX data type ${t.data_type}; the studio reads float, double and integer tensors`,
      );
  }
  return { shape, values };
}

const asFloat32 = (t: { shape: number[]; values: Float64Array }): NamedTensor => ({
  shape: t.shape,
  data: Float32Array.from(t.values),
});

function attributeValue(a: AttributeJson, node: string): AttributeValue | undefined {
  switch (a.type) {
    case 1:
      return shortestFloat32(a.f ?? 0);
    case 2:
      return a.i ?? 0;
    case 3:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case 4:
      return asFloat32(tensorOf(a.t ?? {}, `attribute ${a.name} of node '${node}'`));
    case 6:
      return (a.floats ?? []).map(shortestFloat32);
    case 7:
      return a.ints ?? [];
    default:
      return undefined;
  }
}

/** Ops that only compute shapes (a flattening Reshape's target, from Shape(x) onwards). */
const SHAPE_OPS = new Set(['Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Cast', 'Slice', 'Constant']);

/** The batch dimension in shape arithmetic: whatever N is. */
const BATCH = Number.NaN;

class OnnxImport {
  readonly g: ImportGraph;
  readonly weights: TensorMap = new Map();
  private readonly opset: number;
  /** Constants by value name: initializers and Constant nodes. */
  private readonly constants = new Map<string, { shape: number[]; values: Float64Array }>();
  /** ONNX value → the studio node carrying it. */
  private readonly values = new Map<string, string>();
  private readonly producers = new Map<string, WorkNode>();
  private readonly nodes: WorkNode[];
  /** Graph outputs whose final LogSoftmax was passed over (a note, once that output is kept). */
  private readonly logSoftmaxDropped = new Set<string>();

  constructor(
    private readonly model: ModelJson,
    name: string,
  ) {
    const graph = model.graph!;
    this.g = new ImportGraph(name, 'node');
    this.opset = opsetOf(model);
    for (const t of graph.initializer ?? []) {
      this.constants.set(t.name ?? '', tensorOf(t, `the initializer '${t.name}'`));
    }
    if ((graph.sparse_initializer ?? []).length > 0)
      throw new Error('the model stores sparse initializers, which the studio does not read');
    const raw = graph.node ?? [];
    if (raw.length > LIMITS.layers * 10) {
      throw new Error(
        `the model has ${raw.length} nodes, far more than the studio's limit of ${formatLimit(LIMITS.layers)} layers`,
      );
    }
    this.nodes = raw.map((n, i) => {
      const name = n.name || n.output?.[0] || `node${i}`;
      if (n.domain && n.domain !== 'ai.onnx') {
        throw new NodeError(
          name,
          `operator ${n.op_type} of domain '${n.domain}' is not a standard ONNX operator`,
        );
      }
      const attributes = new Map<string, AttributeValue>();
      for (const a of n.attribute ?? []) {
        const value = attributeValue(a, name);
        if (value !== undefined) attributes.set(a.name ?? '', value);
        else if (a.g !== undefined)
          throw new NodeError(
            name,
            `operator ${n.op_type} holds a subgraph (control flow), which the studio has no layer for`,
          );
      }
      return {
        name,
        op: n.op_type ?? '',
        inputs: n.input ?? [],
        outputs: n.output ?? [],
        attributes,
      };
    });
    for (const node of this.nodes) {
      if (node.op === 'Constant') this.constants.set(node.outputs[0], constantOf(node));
      for (const output of node.outputs) this.producers.set(output, node);
    }
  }

  run(options: OnnxImportOptions): ImportedModel {
    this.addInput();
    const graphOutputs = new Set((this.model.graph!.output ?? []).map((o) => o.name ?? ''));
    foldConstants(this.nodes, this.constants);
    foldGelu(this.nodes, this.producers, (name) => this.constants.get(name), graphOutputs);
    foldMatMulAdd(this.nodes, (name) => this.constants.get(name));
    foldZeroPad(this.nodes, (name) => this.constants.get(name), this.opset);
    foldStudioAveragePool(this.nodes, (name) => this.constants.get(name));
    for (const node of this.nodes) this.convert(node);
    const outputs = (this.model.graph!.output ?? []).map((o) => o.name ?? '');
    if (outputs.length > 1 && options.output === undefined) throw new OutputChoiceError(outputs);
    const output = options.output ?? outputs[0];
    if (!outputs.includes(output)) {
      throw new Error(`the model has no output '${output}'; its outputs are ${outputs.join(', ')}`);
    }
    const outputNode = this.values.get(output);
    if (!outputNode)
      throw new Error(`the model's output '${output}' is computed by nothing the studio read`);
    const project = this.g.finish(outputNode);
    if (this.logSoftmaxDropped.has(output))
      this.g.notes.push(
        `removed the final LogSoftmax: training applies cross-entropy to the network's outputs (logits), which is log-softmax followed by nll_loss, so the network and its exports now output logits (the predicted class is the same)`,
      );
    if (outputs.length > 1)
      this.g.notes.unshift(
        `kept the output '${output}' (the model has ${outputs.length}: ${outputs.join(', ')}); nodes that fed only the others were left out`,
      );
    const kept = new Set(project.nodes.map((n) => n.id));
    const weights: TensorMap = new Map();
    for (const [key, t] of this.weights)
      if (kept.has(key.slice(0, key.lastIndexOf('.')))) weights.set(key, t);
    return { project, weights, notes: this.g.notes };
  }

  private addInput(): void {
    const graph = this.model.graph!;
    const inputs = (graph.input ?? []).filter((i) => !this.constants.has(i.name ?? ''));
    if (inputs.length !== 1) {
      throw new Error(
        `the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); a studio network takes one image`,
      );
    }
    const [input] = inputs;
    const dims = input.type?.tensor_type?.shape?.dim ?? [];
    const known = dims.map((d) => d.dim_value);
    if (dims.length !== 4 || known.slice(1).some((d) => !d)) {
      throw new NodeError(
        input.name ?? 'input',
        `the input's shape [${dims.map((d) => d.dim_value || d.dim_param || '?').join(', ')}] is not an image N×C×H×W of a fixed size`,
      );
    }
    const shape = [1, ...(known.slice(1) as number[])];
    const params = onnxReaders.Input.params(
      this.view(input.name ?? 'input', 'Input', [], () => shape),
    );
    const id = this.g.add(
      this.g.id(input.name ?? 'input'),
      'Input',
      params,
      [],
      input.name ?? 'input',
    );
    this.values.set(input.name ?? '', id);
  }

  private view(
    name: string,
    op: string,
    inputs: string[],
    shape: () => Shape,
    node?: WorkNode,
  ): OnnxNodeIn {
    return {
      name,
      op,
      opset: this.opset,
      inputs,
      attribute: (attr) => node?.attributes.get(attr),
      constant: (i) => {
        const c = this.constants.get(inputs[i]);
        return c ? asFloat32(c) : undefined;
      },
      inputShape: shape,
    };
  }

  private convert(node: WorkNode): void {
    // A Concat of one tensor (torch.cat of a one-item list, as torchvision's DenseNet writes) is it.
    const concatOfOne =
      node.op === 'Concat' && node.inputs.length === 1 && !this.isShapeValue(node.inputs[0]);
    if (node.op === 'Identity' || concatOfOne) {
      this.alias(node, node.inputs[0]);
      return;
    }
    if (
      SHAPE_OPS.has(node.op) ||
      (node.op === 'Concat' && node.inputs.every((i) => this.isShapeValue(i)))
    ) {
      return; // evaluated when a Reshape asks for its target
    }
    if (node.op === 'Reshape') {
      this.reshape(node);
      return;
    }
    if (node.op === 'ReduceMean') {
      this.reduceMean(node);
      return;
    }
    if (node.op === 'LogSoftmax' && this.isFinalOverClasses(node)) {
      this.alias(node, node.inputs[0]);
      this.logSoftmaxDropped.add(node.outputs[0]);
      return;
    }
    if (node.op === 'ConvTranspose') {
      throw new NodeError(
        node.name,
        'operator ConvTranspose (a transposed convolution) has no studio layer',
      );
    }
    const type = this.typeOf(node);
    const data = node.inputs.filter((i) => i !== '' && !this.constants.has(i));
    if (data.length === 0)
      throw new NodeError(node.name, `operator ${node.op} reads no computed input`);
    const from = data.map((i) => this.nodeOf(i, node));
    const view = this.view(node.name, node.op, node.inputs, () => this.g.shapeOf(from[0]), node);
    const reader = onnxReaders[type] as OnnxReader<PrimitiveType>;
    const params = reader.params(view);
    if (
      node.op === 'Dropout' &&
      node.outputs.length > 1 &&
      node.outputs[1] !== '' &&
      this.isUsed(node.outputs[1])
    ) {
      throw new NodeError(
        node.name,
        'its dropout mask is used by the graph, which the studio has no layer for',
      );
    }
    const id = this.g.add(
      this.idFor(node),
      type,
      params,
      type === 'Add' || type === 'Concat' ? from : [from[0]],
      node.name,
    );
    for (const [name, t] of reader.weights?.(view) ?? []) this.weights.set(`${id}.${name}`, t);
    this.values.set(node.outputs[0], id);
  }

  private typeOf(node: WorkNode): PrimitiveType {
    const candidates = (Object.keys(onnxReaders) as PrimitiveType[]).filter((t) =>
      onnxReaders[t].ops.includes(node.op),
    );
    if (candidates.length === 0) {
      throw new NodeError(node.name, `operator ${node.op} has no studio layer`);
    }
    const first = node.inputs.find((i) => i !== '' && !this.constants.has(i));
    const shape = () => (first ? this.g.shapeOf(this.nodeOf(first, node)) : []);
    const view = this.view(node.name, node.op, node.inputs, shape, node);
    const type = candidates.find(
      (t) => (onnxReaders[t] as OnnxReader<PrimitiveType>).accepts?.(view) ?? true,
    );
    if (!type) {
      throw new NodeError(
        node.name,
        `operator ${node.op} on an input of shape ${shape().join('×')} has no studio layer`,
      );
    }
    return type;
  }

  /** A flattening Reshape (to N×F, its target computed or stored) is a Flatten; others are refused. */
  private reshape(node: WorkNode): void {
    const from = this.nodeOf(node.inputs[0], node);
    const shape = this.g.shapeOf(from);
    const target = this.intValue(node.inputs[1], node).map((d, i) => (d === 0 ? shape[i] : d));
    const features = shape.slice(1).reduce((a, b) => a * b, 1);
    const batchOk = Number.isNaN(target[0]) || target[0] === -1 || target[0] === 1;
    const flat = target.length === 2 && batchOk && (target[1] === -1 || target[1] === features);
    if (!flat) {
      throw new NodeError(
        node.name,
        `operator Reshape of ${shape.slice(1).join('×')} values to [${target.map((d) => (Number.isNaN(d) ? 'N' : d)).join(', ')}] has no studio layer (only flattening to N×F)`,
      );
    }
    if (shape.length === 2) {
      this.alias(node, node.inputs[0]);
      return;
    }
    const id = this.g.add(this.idFor(node), 'Flatten', {}, [from], node.name);
    this.values.set(node.outputs[0], id);
  }

  /**
   * A mean over H and W (`x.mean((2, 3))` in PyTorch) is global average
   * pooling: an AdaptiveAvgPool2d to 1×1, then a Flatten unless it keeps the
   * dimensions. Other reductions are refused.
   */
  private reduceMean(node: WorkNode): void {
    const from = this.nodeOf(node.inputs[0], node);
    const shape = this.g.shapeOf(from);
    // Axes are an attribute before opset 18, an input after.
    const listed =
      (node.attributes.get('axes') as number[] | undefined) ??
      (node.inputs[1] ? this.intValue(node.inputs[1], node) : undefined);
    const axes = (listed ?? shape.map((_, i) => i))
      .map((a) => (a < 0 ? a + shape.length : a))
      .sort((a, b) => a - b);
    if (shape.length !== 4 || axes.join() !== '2,3') {
      throw new NodeError(
        node.name,
        `operator ReduceMean over axes [${listed?.join(', ') ?? 'all'}] of a ${shape.length}-D input has no studio layer (only the mean over H and W, as global average pooling)`,
      );
    }
    let id = this.g.add(
      this.idFor(node),
      'AdaptiveAvgPool2d',
      { output_size: [1, 1] },
      [from],
      node.name,
    );
    if ((node.attributes.get('keepdims') ?? 1) === 0)
      id = this.g.add(this.g.id(`${id}_flat`), 'Flatten', {}, [id], node.name);
    this.values.set(node.outputs[0], id);
  }

  /** A LogSoftmax over the classes (dim 1 of N×classes) whose output is a graph output. */
  private isFinalOverClasses(node: WorkNode): boolean {
    const isOutput = (this.model.graph!.output ?? []).some((o) => o.name === node.outputs[0]);
    const shape = this.g.shapeOf(this.nodeOf(node.inputs[0], node));
    const axis = (node.attributes.get('axis') as number | undefined) ?? (this.opset < 13 ? 1 : -1);
    return isOutput && shape.length === 2 && (axis === 1 || axis === -1);
  }

  /** The integers a shape-arithmetic value holds (the batch as NaN). */
  private intValue(name: string, user: WorkNode, depth = 0): number[] {
    const constant = this.constants.get(name);
    if (constant) return Array.from(constant.values);
    const node = this.producers.get(name);
    if (!node || depth > 32)
      throw new NodeError(
        user.name,
        `its target shape '${name}' is computed in a way the studio cannot follow`,
      );
    const arg = (i: number) => this.intValue(node.inputs[i], user, depth + 1);
    switch (node.op) {
      case 'Shape': {
        const shape = this.g.shapeOf(this.nodeOf(node.inputs[0], node));
        return [BATCH, ...shape.slice(1)];
      }
      case 'Gather': {
        const data = arg(0);
        return arg(1).map((i) => data[i < 0 ? i + data.length : i]);
      }
      case 'Unsqueeze':
      case 'Squeeze':
      case 'Cast':
        return arg(0);
      case 'Concat':
        return node.inputs.flatMap((_, i) => arg(i));
      case 'Slice': {
        const data = arg(0);
        const starts = node.attributes.get('starts') ?? (node.inputs[1] ? arg(1) : [0]);
        const ends = node.attributes.get('ends') ?? (node.inputs[2] ? arg(2) : [data.length]);
        const clamp = (v: number) =>
          Math.max(0, Math.min(data.length, v < 0 ? v + data.length : v));
        return data.slice(clamp((starts as number[])[0]), clamp((ends as number[])[0]));
      }
      default:
        throw new NodeError(
          user.name,
          `its target shape comes from operator ${node.op} (node '${node.name}'), which the studio cannot follow`,
        );
    }
  }

  private isShapeValue(name: string): boolean {
    const node = this.producers.get(name);
    if (this.constants.has(name)) return !this.values.has(name);
    return (
      node !== undefined &&
      (SHAPE_OPS.has(node.op) ||
        (node.op === 'Concat' && node.inputs.every((i) => this.isShapeValue(i))))
    );
  }

  private isUsed(value: string): boolean {
    return (
      this.nodes.some((n) => n.inputs.includes(value)) ||
      (this.model.graph!.output ?? []).some((o) => o.name === value)
    );
  }

  private nodeOf(value: string, user: WorkNode): string {
    const id = this.values.get(value);
    if (id === undefined) {
      throw new NodeError(
        user.name,
        `its input '${value}' comes from nothing the studio read (or from later in the graph)`,
      );
    }
    return id;
  }

  private alias(node: WorkNode, value: string): void {
    this.values.set(node.outputs[0], this.nodeOf(value, node));
  }

  /** A readable id: the module a weight belongs to ('features.0.weight' → features_0), else the node's own scope. */
  private idFor(node: WorkNode): string {
    const weight = node.inputs.find((i) => /\.(weight|bias)$/.test(i) && this.constants.has(i));
    if (weight) return this.g.id(weight.replace(/\.(weight|bias)$/, ''));
    // PyTorch names nodes '/features/features.1/Relu': the module's path, then the operator.
    const scope = node.name.split('/').filter(Boolean);
    const base =
      node.name.startsWith('/') && scope.length > 1 ? scope[scope.length - 2] : node.name;
    return this.g.id(base || node.op.toLowerCase());
  }
}

function opsetOf(model: ModelJson): number {
  const entry = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry?.version ?? 1;
}

function constantOf(node: WorkNode): { shape: number[]; values: Float64Array } {
  const value = node.attributes.get('value');
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return { shape: value.shape, values: Float64Array.from(value.data) };
  }
  const list = node.attributes.get('value_ints') ?? node.attributes.get('value_floats');
  if (Array.isArray(list)) return { shape: [list.length], values: Float64Array.from(list) };
  const one = node.attributes.get('value_int') ?? node.attributes.get('value_float');
  if (typeof one === 'number') return { shape: [], values: Float64Array.of(one) };
  throw new NodeError(node.name, 'a Constant node with a kind of value the studio does not read');
}

type ConstantOf = (name: string) => { shape: number[]; values: Float64Array } | undefined;

/** Elementwise operators GELU's formula is written with. */
const ELEMENTWISE: Record<string, (a: number, b: number) => number> = {
  Mul: (a, b) => a * b,
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Erf: (a) => erf(a),
  Tanh: (a) => Math.tanh(a),
  Sqrt: (a) => Math.sqrt(a),
};

/** erf to 1e-7 (Abramowitz and Stegun 7.1.26). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluTanh = (x: number) =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/**
 * GELU written as its formula (every exporter before opset 20, the studio's
 * too): a group of elementwise nodes around an Erf or Tanh whose only
 * computed input is one value x and that, evaluated on sample points, is GELU
 * of x. It becomes one Gelu node (an Erf or Tanh outside such a group stays).
 */
function foldGelu(
  nodes: WorkNode[],
  producers: Map<string, WorkNode>,
  constant: ConstantOf,
  graphOutputs: Set<string>,
): void {
  const scalar = (name: string) => {
    const c = constant(name);
    return c && c.values.length === 1 ? c.values[0] : undefined;
  };
  for (const seed of nodes.filter((n) => n.op === 'Erf' || n.op === 'Tanh')) {
    if (!nodes.includes(seed)) continue;
    for (const x of candidatesBefore(seed, producers, scalar)) {
      const found = geluEnding(
        elementwiseFrom(x, nodes, scalar),
        seed,
        x,
        nodes,
        graphOutputs,
        scalar,
      );
      if (!found) continue;
      const { group, last, form } = found;
      const replacement: WorkNode = {
        name: last.name,
        op: 'Gelu',
        inputs: [x],
        outputs: [last.outputs[0]],
        attributes: new Map([['approximate', form]]),
      };
      nodes.splice(nodes.indexOf(last), 1, replacement);
      for (const g of group) if (g !== last) nodes.splice(nodes.indexOf(g), 1);
      producers.set(last.outputs[0], replacement);
      break;
    }
  }
}

/**
 * Within the nodes computed from x, one whose value is GELU of x, computed
 * through the seed, and whose intermediate values nothing else reads.
 */
function geluEnding(
  computed: Set<WorkNode>,
  seed: WorkNode,
  x: string,
  nodes: WorkNode[],
  graphOutputs: Set<string>,
  scalar: (name: string) => number | undefined,
): { group: Set<WorkNode>; last: WorkNode; form: 'none' | 'tanh' } | undefined {
  const byOutput = new Map([...computed].map((n) => [n.outputs[0], n]));
  for (const last of computed) {
    // The nodes `last` is computed from.
    const group = new Set<WorkNode>();
    const stack = [last];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (group.has(node)) continue;
      group.add(node);
      for (const i of node.inputs) {
        const producer = byOutput.get(i);
        if (producer) stack.push(producer);
      }
    }
    if (!group.has(seed)) continue;
    const readOutside = [...group].some(
      (g) =>
        g !== last &&
        (graphOutputs.has(g.outputs[0]) ||
          nodes.some((n) => !group.has(n) && n.inputs.includes(g.outputs[0]))),
    );
    if (readOutside) continue;
    const form = identify(group, last, x, scalar);
    if (form) return { group, last, form };
  }
  return undefined;
}

/** The values an Erf/Tanh may be a function of: backwards through elementwise nodes, nearest first. */
function candidatesBefore(
  seed: WorkNode,
  producers: Map<string, WorkNode>,
  scalar: (name: string) => number | undefined,
): string[] {
  const found: string[] = [];
  let frontier = seed.inputs.filter((i) => scalar(i) === undefined);
  for (let depth = 0; depth < 6 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const value of frontier) {
      if (found.includes(value)) continue;
      found.push(value);
      const producer = producers.get(value);
      if (producer && ELEMENTWISE[producer.op])
        next.push(...producer.inputs.filter((i) => scalar(i) === undefined));
    }
    frontier = next;
  }
  return found;
}

/** The elementwise nodes computed from x and scalar constants alone (at most 16). */
function elementwiseFrom(
  x: string,
  nodes: WorkNode[],
  scalar: (name: string) => number | undefined,
): Set<WorkNode> {
  const group = new Set<WorkNode>();
  const inside = new Set([x]);
  for (let grew = true; grew && group.size <= 16; ) {
    grew = false;
    for (const node of nodes) {
      if (group.has(node) || !ELEMENTWISE[node.op]) continue;
      const fromInside = node.inputs.every((i) => inside.has(i) || scalar(i) !== undefined);
      if (fromInside && node.inputs.some((i) => inside.has(i))) {
        group.add(node);
        inside.add(node.outputs[0]);
        grew = true;
      }
    }
  }
  return group;
}

/** Evaluates the group on sample points: 'none' (erf GELU), 'tanh' (its approximation) or neither. */
function identify(
  group: Set<WorkNode>,
  last: WorkNode,
  x: string,
  scalar: (name: string) => number | undefined,
): 'none' | 'tanh' | undefined {
  const order = [...group];
  const evaluate = (input: number): number | undefined => {
    const known = new Map<string, number>([[x, input]]);
    for (let pass = 0; pass < order.length; pass++) {
      for (const node of order) {
        if (known.has(node.outputs[0])) continue;
        const args = node.inputs.map((i) => known.get(i) ?? scalar(i));
        if (args.some((a) => a === undefined)) continue;
        known.set(node.outputs[0], ELEMENTWISE[node.op](args[0]!, args[1] ?? 0));
      }
    }
    return known.get(last.outputs[0]);
  };
  const samples = [-3, -1.5, -0.5, 0.25, 1, 2.5];
  const matches = (f: (v: number) => number) =>
    samples.every((s) => {
      const y = evaluate(s);
      return y !== undefined && Math.abs(y - f(s)) < 1e-5;
    });
  if (matches(gelu)) return 'none';
  if (matches(geluTanh)) return 'tanh';
  return undefined;
}

/** MatMul by a stored 2-D weight, with the Add of a stored bias after it, is one Gemm (Linear). */
function foldMatMulAdd(nodes: WorkNode[], constant: ConstantOf): void {
  for (const matmul of nodes.filter((n) => n.op === 'MatMul')) {
    const weight = constant(matmul.inputs[1]);
    if (weight?.shape.length !== 2) continue;
    const users = nodes.filter((n) => n.inputs.includes(matmul.outputs[0]));
    const add = users.length === 1 && users[0].op === 'Add' ? users[0] : undefined;
    const bias = add?.inputs.find((i) => i !== matmul.outputs[0]);
    const withBias = add && bias !== undefined && constant(bias) !== undefined;
    const gemm: WorkNode = {
      name: matmul.name,
      op: 'Gemm',
      inputs: withBias ? [matmul.inputs[0], matmul.inputs[1], bias] : matmul.inputs.slice(0, 2),
      outputs: withBias ? add.outputs : matmul.outputs,
      attributes: new Map(),
    };
    nodes.splice(nodes.indexOf(matmul), 1, gemm);
    if (withBias) nodes.splice(nodes.indexOf(add), 1);
  }
}

/**
 * A Pad of zeros before a Conv or an AveragePool (PyTorch writes one before
 * every AvgPool2d, count_include_pad) is that layer's own padding: it is
 * added to the layer's pads (the zeros count in an average, as they did).
 * A Pad of nothing is dropped; any other stays and is read as a ZeroPad2d.
 */
function foldZeroPad(nodes: WorkNode[], constant: ConstantOf, opset: number): void {
  for (const pad of nodes.filter((n) => n.op === 'Pad')) {
    const pads = zeroPadding(
      (name) => pad.attributes.get(name),
      (i) => constant(pad.inputs[i] ?? '')?.values,
      opset,
    );
    if (typeof pads === 'string') continue;
    const [top, left, bottom, right] = pads;
    if (top || left || bottom || right) {
      const users = nodes.filter((n) => n.inputs.includes(pad.outputs[0]));
      const user = users.length === 1 ? users[0] : undefined;
      if (!user || (user.op !== 'Conv' && user.op !== 'AveragePool')) continue;
      if ((user.attributes.get('auto_pad') ?? 'NOTSET') !== 'NOTSET') continue;
      const own = (user.attributes.get('pads') as number[] | undefined) ?? [0, 0, 0, 0];
      const merged = [own[0] + top, own[1] + left, own[2] + bottom, own[3] + right];
      // Only as symmetric padding, and for an average only where all padding counts.
      const symmetric = merged[0] === merged[2] && merged[1] === merged[3];
      const ownCounted =
        user.op === 'Conv' ||
        own.every((p) => p === 0) ||
        user.attributes.get('count_include_pad') === 1;
      if (!symmetric || !ownCounted) continue; // left as a ZeroPad2d
      user.attributes.set('pads', merged);
      if (user.op === 'AveragePool') user.attributes.set('count_include_pad', 1);
    }
    // The Pad now passes its input on unchanged.
    pad.op = 'Identity';
    pad.inputs = [pad.inputs[0]];
  }
}

/**
 * The studio's own export of a ceil_mode AvgPool2d: an AveragePool over
 * explicit pads (the overhang included) and a Mul by per-window factors. It
 * is the AveragePool with PyTorch's ceil_mode (checked when it is read).
 */
function foldStudioAveragePool(nodes: WorkNode[], constant: ConstantOf): void {
  for (const pool of nodes.filter((n) => n.op === 'AveragePool')) {
    const users = nodes.filter((n) => n.inputs.includes(pool.outputs[0]));
    if (users.length !== 1 || users[0].op !== 'Mul') continue;
    const factors = constant(users[0].inputs.find((i) => i !== pool.outputs[0]) ?? '');
    if (factors?.shape.length !== 4 || factors.shape[0] !== 1 || factors.shape[1] !== 1) continue;
    const mul = users[0];
    pool.outputs = mul.outputs;
    pool.name = mul.name;
    pool.attributes.set('convnet_studio_rescaled', 1);
    pool.attributes.set('convnet_studio_factors', {
      shape: factors.shape,
      data: Float32Array.from(factors.values),
    });
    nodes.splice(nodes.indexOf(mul), 1);
  }
}

/** A project and its weights from the bytes of an ONNX model. */
export function importOnnxModel(bytes: Uint8Array, options: OnnxImportOptions = {}): ImportedModel {
  let model: ModelJson;
  try {
    model = decode(bytes);
  } catch (err) {
    throw new Error(`this file is not an ONNX model (${(err as Error).message})`);
  }
  if (!model.graph) throw new Error('this file is not an ONNX model: it has no graph');
  const opset = opsetOf(model);
  if (opset < MIN_ONNX_OPSET) {
    throw new Error(
      `the model uses ONNX opset ${opset}; the studio reads opset ${MIN_ONNX_OPSET} and later (convert it with onnx.version_converter)`,
    );
  }
  const named = model.graph.name && !EXPORTERS_DEFAULT_NAMES.has(model.graph.name);
  const name = (named && model.graph.name) || options.fallbackName || 'Imported model';
  return new OnnxImport(model, name).run(options);
}

/** Graph names exporters give every model (torch.onnx.export's): the file's name says more. */
const EXPORTERS_DEFAULT_NAMES = new Set(['torch_jit', 'main_graph', 'torch-jit-export']);
