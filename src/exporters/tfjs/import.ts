/**
 * Opens a TensorFlow.js Layers model (model.json + weights) as an editable
 * project with its weights in PyTorch layout: the studio's own exports (their
 * project, blocks included, travels in userDefinedMetadata) and models built
 * as Keras would, with standard layers (Sequential or functional). A layer
 * with no exact studio equivalent is an error naming the layer and why.
 */
import type { Project, ProjectEdge, ProjectNode } from '../../core/document/schema';
import { PROJECT_FORMAT, PROJECT_VERSION, projectSchema } from '../../core/document/schema';
import { inferGraph, inferValidGraph, type PrimitiveNode } from '../../core/infer';
import { poolWindows } from '../../core/layers/pool';
import type { NamedTensor, TensorMap } from '../../core/weights/safetensors';
import { stateKey, transposeTensor } from '../common';
import { kerasName } from './export';

export class ImportError extends Error {
  constructor(
    readonly layer: string,
    reason: string,
  ) {
    super(`cannot import layer '${layer}': ${reason}`);
    this.name = 'ImportError';
  }
}

export interface ImportedTfjsModel {
  project: Project;
  weights: TensorMap;
  /** What the import did that the user should know. */
  notes: string[];
}

interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown> & { name?: string };
  name?: string;
  inbound_nodes?: unknown[];
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

interface ModelJson {
  modelTopology?: {
    class_name?: string;
    config?: unknown;
    model_config?: ModelJson['modelTopology'];
  };
  weightsManifest?: { paths: string[]; weights: WeightEntry[] }[];
  userDefinedMetadata?: { convnetStudio?: { project?: unknown } };
}

/** The weight tensors of a model.json, by Keras name, from the concatenated bytes of its weight files. */
export function decodeTfjsWeights(
  modelJson: unknown,
  weightData: Uint8Array,
): Map<string, NamedTensor> {
  const manifest = (modelJson as ModelJson).weightsManifest ?? [];
  const out = new Map<string, NamedTensor>();
  const view = new DataView(weightData.buffer, weightData.byteOffset, weightData.byteLength);
  let at = 0;
  for (const entry of manifest.flatMap((group) => group.weights)) {
    if (entry.quantization)
      throw new ImportError(
        entry.name,
        'quantized weights are not supported; export the model unquantized',
      );
    if ((entry.dtype ?? 'float32') !== 'float32') {
      throw new ImportError(
        entry.name,
        `weights of dtype ${entry.dtype} are not supported (float32 only)`,
      );
    }
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (at + size * 4 > weightData.byteLength) {
      throw new ImportError(
        entry.name,
        'the weight files are shorter than model.json says (a file missing or truncated?)',
      );
    }
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(at + i * 4, true);
    at += size * 4;
    out.set(entry.name, { shape: entry.shape, data });
  }
  return out;
}

/** A project and its weights from a model.json and its weight bytes (all files of the manifest, in order). */
export function importTfjsModel(
  modelJson: unknown,
  weightData: Uint8Array,
  fallbackName = 'Imported model',
): ImportedTfjsModel {
  const json = modelJson as ModelJson;
  const topology = json.modelTopology?.model_config ?? json.modelTopology;
  if (!topology?.class_name) {
    throw new Error(
      'this model.json has no Keras model topology (modelTopology); is it a TF.js Layers model and not a graph model?',
    );
  }
  const keras = decodeTfjsWeights(json, weightData);
  const layers = kerasLayers(topology);
  const embedded = json.userDefinedMetadata?.convnetStudio?.project;
  if (embedded) {
    const parsed = projectSchema.safeParse(embedded);
    if (parsed.success) {
      const restored = restoreStudioProject(parsed.data, layers, keras);
      if (restored) return restored;
    }
  }
  const config = topology.config as { output_layers?: [string, number, number][] } | undefined;
  const output = config?.output_layers?.[0]?.[0] ?? layerName(layers[layers.length - 1]);
  return convertKerasGraph(
    layers,
    topology.class_name === 'Sequential',
    output,
    keras,
    modelName(topology) ?? fallbackName,
  );
}

function modelName(topology: { config?: unknown }): string | undefined {
  const config = topology.config as { name?: string } | undefined;
  return typeof config?.name === 'string' ? config.name : undefined;
}

function kerasLayers(topology: { class_name?: string; config?: unknown }): KerasLayerJson[] {
  const config = topology.config as { layers?: KerasLayerJson[] } | KerasLayerJson[] | undefined;
  const layers = Array.isArray(config) ? config : config?.layers;
  if (!layers) throw new Error(`the ${topology.class_name} topology lists no layers`);
  return layers;
}

const layerName = (layer: KerasLayerJson) => String(layer.config.name ?? layer.name);

/** Keras weights of one layer by their short name ('kernel', 'gamma', …). */
function layerWeights(keras: Map<string, NamedTensor>, name: string): Map<string, NamedTensor> {
  const own = new Map<string, NamedTensor>();
  for (const [full, tensor] of keras) {
    if (full.startsWith(`${name}/`))
      own.set(full.slice(name.length + 1).replace(/_\d+$/, ''), tensor);
  }
  return own;
}

/**
 * A studio primitive's PyTorch weights from its Keras layer's weights.
 * `flattenedHwc`: the Linear reads a Flatten of an H×W×C map in Keras's order.
 */
function torchWeights(
  node: PrimitiveNode,
  own: Map<string, NamedTensor>,
  layer: string,
  flattenedHwc?: [number, number, number],
): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  const need = (name: string) => {
    const t = own.get(name);
    if (!t) throw new ImportError(layer, `its weight '${name}' is missing from the weight files`);
    return t;
  };
  const channels = node.inputShapes[0]?.[1] ?? 0;
  const filled = (value: number) => ({
    shape: [channels],
    data: new Float32Array(channels).fill(value),
  });
  switch (node.type) {
    case 'Conv2d':
      out.set('weight', transposeTensor(need('kernel'), [3, 2, 0, 1]));
      if (node.weights.some((w) => w.name === 'bias')) out.set('bias', need('bias'));
      break;
    case 'Linear': {
      let kernel = need('kernel');
      if (flattenedHwc) kernel = hwcRowsToChw(kernel, flattenedHwc);
      out.set('weight', transposeTensor(kernel, [1, 0]));
      if (node.weights.some((w) => w.name === 'bias')) out.set('bias', need('bias'));
      break;
    }
    case 'BatchNorm1d':
    case 'BatchNorm2d':
      out.set('weight', own.get('gamma') ?? filled(1));
      out.set('bias', own.get('beta') ?? filled(0));
      out.set('running_mean', need('moving_mean'));
      out.set('running_var', need('moving_variance'));
      break;
  }
  return out;
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

/** The studio's own export: its project, if every primitive's Keras layer is there. */
function restoreStudioProject(
  project: Project,
  layers: KerasLayerJson[],
  keras: Map<string, NamedTensor>,
): ImportedTfjsModel | null {
  const names = new Set(layers.map(layerName));
  const inference = inferGraph(project, { batch: 1 });
  if (inference.issues.length > 0) return null;
  if (!inference.primitives.every((p) => names.has(kerasName(p.id)))) return null;
  const weights: TensorMap = new Map();
  for (const node of inference.primitives) {
    const converted = torchWeights(
      node,
      layerWeights(keras, kerasName(node.id)),
      kerasName(node.id),
    );
    for (const [name, t] of converted) weights.set(`${stateKey(node.id)}.${name}`, t);
  }
  return {
    project,
    weights,
    notes: ['restored the ConvNet Studio project stored in the export, blocks included'],
  };
}

type Padding = [[number, number], [number, number]];

/** What a Keras layer became: the studio node carrying its value, and anything pending on it. */
interface Produced {
  node: string;
  /** A ZeroPadding2D not yet absorbed by the layer after it. */
  padding?: Padding;
  /** A Permute to channels-first, valid only before Flatten. */
  channelsFirst?: boolean;
}

class GraphBuilder {
  readonly nodes: ProjectNode[] = [];
  readonly edges: ProjectEdge[] = [];
  readonly produced = new Map<string, Produced>();
  /** Studio node id → its Keras layer (weights), and Flatten nodes that keep Keras's H,W,C order. */
  readonly kerasOf = new Map<string, string>();
  readonly hwcFlatten = new Set<string>();
  readonly notes: string[] = [];
  private readonly used = new Set<string>();

  id(kerasLayer: string, suffix = ''): string {
    let id = `${kerasLayer.replace(/[^A-Za-z0-9_-]/g, '_')}${suffix}` || 'layer';
    while (this.used.has(id)) id += '_';
    this.used.add(id);
    return id;
  }
  add(id: string, type: string, params: Record<string, unknown>, from: string[]): string {
    this.nodes.push({ id, type, params });
    for (const source of from) this.edges.push({ source, target: id });
    return id;
  }
  project(name: string): Project {
    return projectSchema.parse({
      format: PROJECT_FORMAT,
      version: PROJECT_VERSION,
      name,
      nodes: this.nodes,
      edges: this.edges,
    });
  }
  /** The input shape [N, C, H, W] of the node that `from` would feed, from the graph so far. */
  shapeOf(nodeId: string, name: string): number[] {
    const inference = inferGraph(this.project(name), { batch: 1 });
    const shape = inference.byId.get(nodeId)?.outputShape;
    if (!shape) throw new Error(`internal: no shape for ${nodeId}`);
    return shape;
  }
}

function pair(value: unknown, name: string, layer: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2) return [Number(value[0]), Number(value[1])];
  throw new ImportError(layer, `${name} ${JSON.stringify(value)} is not a number or a pair`);
}

function symmetric(p: Padding, layer: string): [number, number] {
  if (p[0][0] !== p[0][1] || p[1][0] !== p[1][1]) {
    throw new ImportError(
      layer,
      `padding ${JSON.stringify(p)} differs before and after, which PyTorch-style layers cannot express`,
    );
  }
  return [p[0][0], p[1][0]];
}

/** TF's 'same' padding for a strided window on a known input: per axis [before, after]. */
function tfSamePadding(
  size: [number, number],
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
): Padding {
  const axis = (i: number): [number, number] => {
    const out = Math.ceil(size[i] / stride[i]);
    const total = Math.max((out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size[i], 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [axis(0), axis(1)];
}

const activationTypes: Record<string, [string, Record<string, unknown>] | null> = {
  linear: null,
  relu: ['ReLU', {}],
  sigmoid: ['Sigmoid', {}],
  tanh: ['Tanh', {}],
  softmax: ['Softmax', {}],
  gelu: ['GELU', { approximate: 'none' }],
  gelu_new: ['GELU', { approximate: 'tanh' }],
};

function convertKerasGraph(
  layers: KerasLayerJson[],
  sequential: boolean,
  output: string,
  keras: Map<string, NamedTensor>,
  name: string,
): ImportedTfjsModel {
  const g = new GraphBuilder();
  let previous: string | undefined;
  for (const layer of layers) {
    const lname = layerName(layer);
    const inputs = sequential ? (previous === undefined ? [] : [previous]) : inboundNames(layer);
    if (sequential && previous === undefined && layer.class_name !== 'InputLayer') {
      const shape = layer.config.batch_input_shape as (number | null)[] | undefined;
      if (!shape)
        throw new ImportError(
          lname,
          'the first layer of a Sequential model must give its input shape (batch_input_shape)',
        );
      const inputId = g.id('input');
      addInput(g, inputId, shape, lname);
      g.produced.set('__input__', { node: inputId });
      inputs.push('__input__');
    }
    convertLayer(
      g,
      layer,
      lname,
      inputs.map((i) => {
        const p = g.produced.get(i);
        if (!p)
          throw new ImportError(
            lname,
            `its input '${i}' is not a layer of the model (or comes later)`,
          );
        return p;
      }),
      name,
    );
    previous = lname;
  }
  const outputNode = g.produced.get(output)?.node;
  if (!outputNode) throw new ImportError(output, 'the model output is not among its layers');
  pruneDeadEnds(g, outputNode);
  const project = g.project(name);
  const inference = inferValidGraph(project, { batch: 1 });
  const weights: TensorMap = new Map();
  for (const node of inference.primitives) {
    const kerasLayer = g.kerasOf.get(node.id);
    if (!kerasLayer || node.weights.length === 0) continue;
    const source = node.inputs[0];
    let hwc: [number, number, number] | undefined;
    if (node.type === 'Linear' && g.hwcFlatten.has(source)) {
      const [, c, h, w] = inference.primitives.find((p) => p.id === source)!.inputShapes[0];
      hwc = [h, w, c];
    }
    for (const [wname, t] of torchWeights(node, layerWeights(keras, kerasLayer), kerasLayer, hwc)) {
      weights.set(`${stateKey(node.id)}.${wname}`, t);
    }
  }
  for (const id of g.hwcFlatten) {
    const consumers = project.edges.filter((e) => e.source === id);
    if (consumers.some((e) => project.nodes.find((n) => n.id === e.target)?.type !== 'Linear')) {
      throw new ImportError(
        id,
        'a Flatten of an image (Keras flattens H,W,C) feeds something other than a Dense layer, so its order cannot be converted to PyTorch’s C,H,W',
      );
    }
  }
  if (g.hwcFlatten.size > 0) {
    g.notes.push(
      'reordered the Dense weights after Flatten from Keras’s H,W,C order to PyTorch’s C,H,W order',
    );
  }
  return { project, weights, notes: g.notes };
}

function inboundNames(layer: KerasLayerJson): string[] {
  const nodes = layer.inbound_nodes as unknown[][] | undefined;
  if (!nodes || nodes.length === 0) return [];
  if (nodes.length > 1)
    throw new ImportError(
      layerName(layer),
      'it is used more than once (shared layer); the studio has one node per use',
    );
  return (nodes[0] as unknown[]).map((entry) => String((entry as unknown[])[0]));
}

function addInput(g: GraphBuilder, id: string, shape: (number | null)[], lname: string): void {
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw new ImportError(
      lname,
      `the input shape ${JSON.stringify(shape)} is not an image [batch, height, width, channels] of a fixed size`,
    );
  }
  const [, h, w, c] = shape as number[];
  g.add(id, 'Input', { channels: c, height: h, width: w }, []);
}

function convertLayer(
  g: GraphBuilder,
  layer: KerasLayerJson,
  lname: string,
  inputs: Produced[],
  modelName: string,
): void {
  const cfg = layer.config;
  const from = () => {
    for (const input of inputs) {
      if (input.padding)
        throw new ImportError(
          lname,
          'it follows a ZeroPadding2D, which only a Conv2D or AveragePooling2D can absorb',
        );
      if (input.channelsFirst)
        throw new ImportError(
          lname,
          'it follows a Permute, which the studio supports only before Flatten',
        );
    }
    return inputs.map((i) => i.node);
  };
  const node = (type: string, params: Record<string, unknown>, sources = from()) => {
    const id = g.add(g.id(lname), type, params, sources);
    g.kerasOf.set(id, lname);
    g.produced.set(lname, { node: id });
    return id;
  };
  /** The layer's fused activation as a node after it. */
  const fusedActivation = (after: string) => {
    const act = String(cfg.activation ?? 'linear');
    const mapped = activationTypes[act];
    if (mapped === undefined)
      throw new ImportError(
        lname,
        `activation '${act}' has no studio layer (relu, sigmoid, tanh, softmax, gelu are supported)`,
      );
    if (mapped === null) return;
    const id = g.add(g.id(lname, `_${act}`), mapped[0], mapped[1], [after]);
    g.produced.set(lname, { node: id });
  };
  switch (layer.class_name) {
    case 'InputLayer': {
      const shape = (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[];
      const id = g.id(lname);
      addInput(g, id, shape, lname);
      g.produced.set(lname, { node: id });
      return;
    }
    case 'ZeroPadding2D': {
      const [input] = inputs;
      const raw = cfg.padding;
      const padding: Padding =
        typeof raw === 'number'
          ? [
              [raw, raw],
              [raw, raw],
            ]
          : Array.isArray(raw) && typeof raw[0] === 'number'
            ? [
                [raw[0], raw[0]],
                [raw[1] as number, raw[1] as number],
              ]
            : (raw as Padding);
      if (input.padding)
        throw new ImportError(lname, 'two ZeroPadding2D in a row are not supported');
      g.produced.set(lname, { node: input.node, padding });
      return;
    }
    case 'Conv2D':
    case 'TorchConv2D': {
      const [input] = inputs;
      const kernel = pair(cfg.kernel_size, 'kernel_size', lname);
      const stride = pair(cfg.strides ?? 1, 'strides', lname);
      const dilation = pair(cfg.dilation_rate ?? 1, 'dilation_rate', lname);
      let padding: unknown = input.padding ? symmetric(input.padding, lname) : [0, 0];
      if (cfg.padding === 'same') {
        if (input.padding)
          throw new ImportError(
            lname,
            "ZeroPadding2D before a 'same' convolution is not supported",
          );
        if (stride[0] === 1 && stride[1] === 1) padding = 'same';
        else {
          const [, , h, w] = g.shapeOf(input.node, modelName);
          padding = symmetric(tfSamePadding([h, w], kernel, stride, dilation), lname);
        }
      }
      const id = node(
        'Conv2d',
        {
          out_channels: cfg.filters,
          kernel_size: kernel,
          stride,
          padding,
          dilation,
          groups: cfg.groups ?? 1,
          bias: cfg.use_bias !== false,
        },
        [input.node],
      );
      fusedActivation(id);
      return;
    }
    case 'Dense': {
      const id = node('Linear', { out_features: cfg.units, bias: cfg.use_bias !== false });
      fusedActivation(id);
      return;
    }
    case 'TorchAvgPool2D': {
      const kernel = pair(cfg.pool_size, 'pool_size', lname);
      node('AvgPool2d', {
        kernel_size: kernel,
        stride: pair(cfg.strides ?? kernel, 'strides', lname),
        padding: pair(cfg.padding ?? 0, 'padding', lname),
        ceil_mode: cfg.ceil_mode === true,
      });
      return;
    }
    case 'MaxPooling2D':
    case 'TorchMaxPool2D':
    case 'AveragePooling2D': {
      const [input] = inputs;
      const kernel = pair(cfg.pool_size, 'pool_size', lname);
      const stride = pair(cfg.strides ?? kernel, 'strides', lname);
      const max = layer.class_name !== 'AveragePooling2D';
      let padding: [number, number] = [0, 0];
      let ceilMode = false;
      if (Array.isArray(cfg.padding)) {
        // The studio's export writes ceil_mode's overhang as extra padding after.
        const [, , h, w] = g.shapeOf(input.node, modelName);
        const given = cfg.padding as Padding;
        const before: [number, number] = [given[0][0], given[1][0]];
        const ceil = poolWindows([h, w], {
          kernel_size: kernel,
          stride,
          padding: before,
          ceil_mode: true,
        }).padding;
        ceilMode =
          (given[0][1] !== given[0][0] || given[1][1] !== given[1][0]) &&
          ceil.bottom === given[0][1] &&
          ceil.right === given[1][1];
        padding = ceilMode ? before : symmetric(given, lname);
      } else if (input.padding) {
        if (max)
          throw new ImportError(
            lname,
            'ZeroPadding2D before max pooling lets padded zeros win; PyTorch pads max pooling with −∞',
          );
        padding = symmetric(input.padding, lname);
      } else if (cfg.padding === 'same') {
        if (!max)
          throw new ImportError(
            lname,
            "'same' average pooling leaves the padding out of the average (PyTorch's count_include_pad=False), which the studio's AvgPool2d does not do",
          );
        const [, , h, w] = g.shapeOf(input.node, modelName);
        padding = symmetric(tfSamePadding([h, w], kernel, stride, [1, 1]), lname);
      }
      node(
        max ? 'MaxPool2d' : 'AvgPool2d',
        { kernel_size: kernel, stride, padding, ceil_mode: ceilMode },
        [input.node],
      );
      return;
    }
    case 'GlobalAveragePooling2D': {
      const gap = node('AdaptiveAvgPool2d', { output_size: 1 });
      if (cfg.keepdims === true || cfg.keep_dims === true) return;
      const flat = g.add(g.id(lname, '_flatten'), 'Flatten', {}, [gap]);
      g.produced.set(lname, { node: flat });
      return;
    }
    case 'Reshape': {
      // GlobalAveragePooling2D + Reshape([1, 1, C]) (the studio's own export) is AdaptiveAvgPool2d alone.
      const target = cfg.target_shape as number[];
      const [input] = inputs;
      const flatten = g.nodes.find((n) => n.id === input.node);
      const gapEdge = g.edges.find((e) => e.target === input.node);
      const gap = g.nodes.find((n) => n.id === gapEdge?.source);
      if (
        target.length === 3 &&
        target[0] === 1 &&
        target[1] === 1 &&
        flatten?.type === 'Flatten' &&
        gap?.type === 'AdaptiveAvgPool2d'
      ) {
        g.produced.set(lname, { node: gap.id });
        return;
      }
      throw new ImportError(
        lname,
        `Reshape to ${JSON.stringify(target)} has no studio layer (only global pooling's [1, 1, C] is supported)`,
      );
    }
    case 'Permute': {
      const dims = cfg.dims as number[];
      if (dims.join() !== '3,1,2')
        throw new ImportError(
          lname,
          `Permute ${JSON.stringify(dims)} has no studio layer (only [3, 1, 2] before Flatten)`,
        );
      g.produced.set(lname, { node: from()[0], channelsFirst: true });
      return;
    }
    case 'Flatten': {
      const [input] = inputs;
      const id = node('Flatten', {}, [input.node]);
      if (!input.channelsFirst) {
        const shape = g.shapeOf(input.node, modelName);
        if (shape.length === 4 && shape[1] > 1 && shape[2] * shape[3] > 1) g.hwcFlatten.add(id);
      }
      return;
    }
    case 'Activation': {
      const act = String(cfg.activation);
      const mapped = activationTypes[act];
      if (mapped === undefined)
        throw new ImportError(
          lname,
          `activation '${act}' has no studio layer (relu, sigmoid, tanh, softmax, gelu are supported)`,
        );
      if (mapped === null) g.produced.set(lname, { node: from()[0] });
      else node(mapped[0], mapped[1]);
      return;
    }
    case 'TorchGELU':
      node('GELU', { approximate: cfg.approximate === 'none' ? 'none' : 'tanh' });
      return;
    case 'ReLU': {
      if (cfg.max_value != null || Number(cfg.threshold ?? 0) !== 0)
        throw new ImportError(lname, 'ReLU with max_value or threshold has no studio layer');
      node('ReLU', {});
      return;
    }
    case 'LeakyReLU':
      node('LeakyReLU', { negative_slope: Number(cfg.alpha ?? cfg.negative_slope ?? 0.3) });
      return;
    case 'Softmax': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1);
      const rank = g.shapeOf(inputs[0].node, modelName).length;
      if (axis !== -1 && axis !== rank - 1)
        throw new ImportError(
          lname,
          `Softmax over axis ${JSON.stringify(cfg.axis)} (the studio's Softmax is over channels, the last axis)`,
        );
      node('Softmax', {});
      return;
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1);
      const rank = g.shapeOf(inputs[0].node, modelName).length;
      if ((axis !== -1 && axis !== rank - 1) || (rank !== 2 && rank !== 4)) {
        throw new ImportError(
          lname,
          `BatchNormalization over axis ${JSON.stringify(cfg.axis)} of a rank-${rank} input (only the features of N×F or the channels of N×H×W×C are supported)`,
        );
      }
      node(rank === 2 ? 'BatchNorm1d' : 'BatchNorm2d', {
        eps: Number(cfg.epsilon ?? 1e-3),
        momentum: Math.round((1 - Number(cfg.momentum ?? 0.99)) * 1e9) / 1e9,
      });
      return;
    }
    case 'Dropout':
      node('Dropout', { p: Number(cfg.rate ?? 0.5) });
      return;
    case 'Add':
      node('Add', {});
      return;
    case 'Concatenate': {
      const axis = cfg.axis ?? -1;
      if (axis !== -1 && axis !== 3)
        throw new ImportError(
          lname,
          `Concatenate over axis ${axis} (the studio concatenates channels, the last axis)`,
        );
      node('Concat', {});
      return;
    }
    default:
      throw new ImportError(lname, `Keras layer ${layer.class_name} has no studio equivalent`);
  }
}

/** Drops nodes nothing reads that are not the output (a Flatten replaced by a Reshape). */
function pruneDeadEnds(g: GraphBuilder, output: string): void {
  for (;;) {
    const dead = g.nodes.findIndex(
      (n) => n.id !== output && !g.edges.some((e) => e.source === n.id) && n.type !== 'Input',
    );
    if (dead < 0) return;
    const id = g.nodes[dead].id;
    g.nodes.splice(dead, 1);
    for (let i = g.edges.length - 1; i >= 0; i--)
      if (g.edges[i].target === id) g.edges.splice(i, 1);
  }
}
