/**
 * Opens a TensorFlow.js Layers model (model.json + weights) as an editable
 * project with its weights in PyTorch layout: the studio's own exports (their
 * project, blocks included, travels in userDefinedMetadata) and models built
 * as Keras would, with standard layers, Sequential or functional, nested in
 * each other as Teachable Machine writes them. Nothing is dropped silently: a
 * model with several outputs keeps the one the user picks, a final Softmax is
 * removed with a note (training applies cross-entropy to logits), and a layer
 * with no exact studio equivalent is an error naming the layer and why.
 */
import { PROJECT_FORMAT, type Project, projectSchema } from '../../core/document/schema';
import { inferGraph, inferValidGraph, type PrimitiveNode } from '../../core/infer';
import type { PrimitiveType } from '../../core/layers/registry';
import { formatLimit, LIMITS } from '../../core/limits';
import { fromHalf, type NamedTensor, type TensorMap } from '../../core/weights/safetensors';
import { stateKey } from '../common';
import { ImportError, type ImportedModel, ImportGraph, OutputChoiceError } from '../import-graph';
import { kerasName } from './export';
import {
  type KerasLayerIn,
  type KerasReader,
  type KerasWeights,
  kerasPadding,
  kerasReaders,
  type Padding,
  pair,
  tfSamePadding,
  type WeightContext,
} from './import-layers';

export { ImportError, OutputChoiceError } from '../import-graph';
export type ImportedTfjsModel = ImportedModel;

export interface TfjsImportOptions {
  /** The project's name when the model has none. */
  fallbackName?: string;
  /** For a model with several outputs: the layer whose output the network keeps. */
  output?: string;
}

interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown> & { name?: string };
  name?: string;
  inbound_nodes?: unknown[];
}

interface Topology {
  class_name?: string;
  config?: unknown;
  model_config?: Topology;
  node?: unknown;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: { dtype?: string; scale?: number; min?: number };
}

interface ModelJson {
  format?: string;
  modelTopology?: Topology;
  weightsManifest?: { paths: string[]; weights: WeightEntry[] }[];
  userDefinedMetadata?: { convnetStudio?: { project?: unknown } };
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/**
 * What a parsed model.json is, refused with a clear first message unless it
 * is a TF.js Layers model: before any weight file is read.
 */
export function checkLayersModel(json: unknown): void {
  const model = json as ModelJson | null;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    throw new Error(
      'this JSON file is not a TF.js model (model.json is an object with a modelTopology)',
    );
  }
  const topology = model.modelTopology;
  if (model.format === 'graph-model' || (topology && 'node' in topology)) {
    throw new Error(
      "this is a TF.js graph model (a frozen TensorFlow graph), not a Layers model; the studio imports Layers models (format 'layers-model', saved by tf.layers or Keras) and ONNX models. Convert the original Keras model with tensorflowjs_converter --output_format tfjs_layers_model, or export it to ONNX",
    );
  }
  if ((model as { format?: string }).format === PROJECT_FORMAT) {
    throw new Error('this is a ConvNet Studio project file, not a model: open it with Open…');
  }
  const inner = topology?.model_config ?? topology;
  if (!inner?.class_name) {
    throw new Error(
      'this JSON file has no Keras model topology (modelTopology), so it is not a TF.js Layers model',
    );
  }
  if (!MODEL_CLASSES.has(inner.class_name)) {
    throw new Error(
      `the model's topology is a ${inner.class_name}; a TF.js Layers model is a Sequential or a functional Model`,
    );
  }
}

/** The weight files a model.json names, in order (its manifest's paths). */
export function manifestPaths(json: unknown): string[] {
  const manifest = (json as ModelJson).weightsManifest ?? [];
  if (!Array.isArray(manifest))
    throw new Error('the weightsManifest of this model.json is not a list');
  return manifest.flatMap((group) => {
    if (!Array.isArray(group?.paths))
      throw new Error('a weightsManifest entry has no list of paths');
    return group.paths.map(String);
  });
}

/**
 * The weight tensors of a model.json, by Keras name, from the concatenated
 * bytes of its weight files. Quantized weights (uint8, uint16, float16, as
 * tensorflowjs_converter writes them) are expanded to float32.
 */
export function decodeTfjsWeights(
  modelJson: unknown,
  weightData: Uint8Array,
): Map<string, NamedTensor> {
  const manifest = (modelJson as ModelJson).weightsManifest ?? [];
  const out = new Map<string, NamedTensor>();
  const view = new DataView(weightData.buffer, weightData.byteOffset, weightData.byteLength);
  let at = 0;
  for (const entry of manifest.flatMap((group) => group.weights ?? [])) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(size) || size > LIMITS.tensorValues) {
      throw new ImportError(
        entry.name,
        `its weight has shape ${JSON.stringify(entry.shape)}, more than the studio's limit of ${formatLimit(LIMITS.tensorValues)} values per tensor`,
      );
    }
    const q = entry.quantization;
    const stored = q?.dtype ?? entry.dtype ?? 'float32';
    const bytes = { float32: 4, uint16: 2, float16: 2, uint8: 1 }[stored];
    if (!bytes || (entry.dtype ?? 'float32') !== 'float32') {
      throw new ImportError(
        entry.name,
        `weights of dtype ${entry.dtype ?? stored} are not supported (float32, or float32 quantized to uint8, uint16 or float16)`,
      );
    }
    if (at + size * bytes > weightData.byteLength) {
      throw new ImportError(
        entry.name,
        'the weight files are shorter than model.json says (a file missing or truncated?)',
      );
    }
    const data = new Float32Array(size);
    const scale = q?.scale ?? 1;
    const min = q?.min ?? 0;
    for (let i = 0; i < size; i++) {
      const p = at + i * bytes;
      if (stored === 'float32') data[i] = view.getFloat32(p, true);
      else if (stored === 'float16') data[i] = fromHalf(view.getUint16(p, true), false);
      else
        data[i] = min + scale * (stored === 'uint8' ? view.getUint8(p) : view.getUint16(p, true));
    }
    at += size * bytes;
    out.set(entry.name, { shape: entry.shape, data });
  }
  return out;
}

/** A project and its weights from a model.json and its weight bytes (all files of the manifest, in order). */
export function importTfjsModel(
  modelJson: unknown,
  weightData: Uint8Array,
  options: TfjsImportOptions = {},
): ImportedTfjsModel {
  checkLayersModel(modelJson);
  const json = modelJson as ModelJson;
  const topology = json.modelTopology!.model_config ?? json.modelTopology!;
  const keras = decodeTfjsWeights(json, weightData);
  const flat = new Flattener();
  const outputs = flat.model(topology, null, 0);
  const embedded = json.userDefinedMetadata?.convnetStudio?.project;
  if (embedded && options.output === undefined) {
    const parsed = projectSchema.safeParse(embedded);
    if (parsed.success) {
      const restored = restoreStudioProject(parsed.data, flat.layers, keras);
      if (restored) return restored;
    }
  }
  if (outputs.length > 1 && options.output === undefined) throw new OutputChoiceError(outputs);
  const output = options.output === undefined ? outputs[0] : flat.resolve(options.output);
  if (!flat.layers.some((l) => l.name === output)) {
    throw new Error(
      `the model has no layer '${options.output}'; its output${outputs.length > 1 ? 's are' : ' is'} ${outputs.join(', ')}`,
    );
  }
  const imported = convertKerasGraph(
    flat.layers,
    output,
    keras,
    modelName(topology) ?? options.fallbackName ?? 'Imported model',
  );
  if (outputs.length > 1) {
    imported.notes.unshift(
      `kept the output '${output}' (the model has ${outputs.length}: ${outputs.join(', ')}); layers that fed only the others were left out`,
    );
  }
  return imported;
}

function modelName(topology: Topology): string | undefined {
  const config = topology.config as { name?: string } | undefined;
  return typeof config?.name === 'string' ? config.name : undefined;
}

function kerasLayers(topology: Topology): KerasLayerJson[] {
  const config = topology.config as { layers?: KerasLayerJson[] } | KerasLayerJson[] | undefined;
  const layers = Array.isArray(config) ? config : config?.layers;
  if (!Array.isArray(layers))
    throw new Error(`the ${topology.class_name} topology lists no layers`);
  return layers;
}

const layerName = (layer: KerasLayerJson) => String(layer.config?.name ?? layer.name);

/** A layer of the model with nested models opened: its inputs by (resolved) layer name. */
interface FlatLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  inbound: string[];
}

/**
 * Opens nested Sequential and functional models (Teachable Machine's model is
 * a Sequential of two Sequentials) into one list of layers, each naming the
 * layers that feed it. A nested model's name stands for its output, its
 * InputLayer for what feeds it.
 */
class Flattener {
  readonly layers: FlatLayer[] = [];
  private readonly alias = new Map<string, string>();
  private readonly names = new Set<string>();

  resolve(name: string): string {
    let resolved = name;
    for (let hops = 0; this.alias.has(resolved) && hops < LIMITS.layers; hops++)
      resolved = this.alias.get(resolved)!;
    return resolved;
  }

  /** Adds a model's layers, fed by `inputs` (null at the top level); returns its outputs' names. */
  model(topology: Topology, inputs: string[] | null, depth: number): string[] {
    if (depth > LIMITS.depth)
      throw new Error(`the model nests models more than ${LIMITS.depth} deep`);
    const layers = kerasLayers(topology);
    return topology.class_name === 'Sequential'
      ? this.sequential(layers, inputs, depth)
      : this.functional(topology, layers, inputs, depth);
  }

  private sequential(layers: KerasLayerJson[], inputs: string[] | null, depth: number): string[] {
    let previous = inputs?.[0];
    for (const layer of layers) {
      const name = layerName(layer);
      if (layer.class_name === 'InputLayer') {
        if (previous !== undefined) this.name(name, previous);
        else previous = this.add(layer, []);
        continue;
      }
      if (previous === undefined) {
        // A top-level Sequential without an InputLayer: its first layer gives the input shape.
        const shape = declaredInputShape(layer);
        if (!shape) {
          throw new ImportError(
            name,
            'the first layer of a Sequential model must give its input shape (batch_input_shape)',
          );
        }
        previous = this.add(
          { class_name: 'InputLayer', config: { name: 'input', batch_input_shape: shape } },
          [],
        );
      }
      previous = this.layer(layer, [previous], depth);
    }
    if (previous === undefined) throw new Error('the model has no layers');
    return [previous];
  }

  private functional(
    topology: Topology,
    layers: KerasLayerJson[],
    inputs: string[] | null,
    depth: number,
  ): string[] {
    const config = topology.config as {
      input_layers?: unknown[][];
      output_layers?: unknown[][];
    };
    const inputNames = (config.input_layers ?? []).map((e) => String(e[0]));
    for (const layer of layers) {
      const name = layerName(layer);
      if (layer.class_name === 'InputLayer') {
        if (inputs === null) this.add(layer, []);
        else {
          const i = inputNames.indexOf(name);
          if (i < 0 || i >= inputs.length)
            throw new ImportError(name, 'an input of a nested model that nothing feeds');
          this.name(name, inputs[i]);
        }
        continue;
      }
      this.layer(
        layer,
        inboundNames(layer).map((n) => this.resolve(n)),
        depth,
      );
    }
    const outputs = (config.output_layers ?? []).map((e) => this.resolve(String(e[0])));
    if (outputs.length === 0) {
      const last = layers.at(-1);
      if (!last) throw new Error('the model has no layers');
      outputs.push(this.resolve(layerName(last)));
    }
    return outputs;
  }

  /** A layer, or a nested model opened in place; returns the name carrying its output. */
  private layer(layer: KerasLayerJson, inbound: string[], depth: number): string {
    if (!MODEL_CLASSES.has(layer.class_name)) return this.add(layer, inbound);
    const name = layerName(layer);
    const outputs = this.model(layer, inbound, depth + 1);
    if (outputs.length !== 1) {
      throw new ImportError(
        name,
        `a nested model with ${outputs.length} outputs (${outputs.join(', ')}); the studio can follow one`,
      );
    }
    this.name(name, outputs[0]);
    return outputs[0];
  }

  private add(layer: KerasLayerJson, inbound: string[]): string {
    const name = layerName(layer);
    this.claim(name);
    if (this.layers.length >= LIMITS.layers) {
      throw new Error(
        `the model has more than ${formatLimit(LIMITS.layers)} layers, the studio's limit for a network`,
      );
    }
    this.layers.push({ className: layer.class_name, name, config: layer.config ?? {}, inbound });
    return name;
  }

  private name(name: string, target: string): void {
    this.claim(name);
    this.alias.set(name, target);
  }

  private claim(name: string): void {
    if (this.names.has(name))
      throw new ImportError(
        name,
        'two layers of the model (or of models inside it) share this name',
      );
    this.names.add(name);
  }
}

/** The input shape a model's first layer declares (looking into a nested model's first layer). */
function declaredInputShape(layer: KerasLayerJson): unknown {
  const own = layer.config?.batch_input_shape ?? layer.config?.batch_shape;
  if (own || !MODEL_CLASSES.has(layer.class_name)) return own;
  const inner = kerasLayers(layer);
  const first = inner.find((l) => l.class_name === 'InputLayer') ?? inner[0];
  return first ? declaredInputShape(first) : undefined;
}

/** The layers feeding a functional model's layer (Keras 2's inbound_nodes, or Keras 3's keras_history). */
function inboundNames(layer: KerasLayerJson): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1)
    throw new ImportError(
      layerName(layer),
      'it is used more than once (shared layer); the studio has one node per use',
    );
  const node = nodes[0];
  if (Array.isArray(node)) return node.map((entry) => String((entry as unknown[])[0]));
  const names: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const history = (value as { keras_history?: unknown[] }).keras_history;
      if (Array.isArray(history)) names.push(String(history[0]));
      else Object.values(value).forEach(visit);
    }
  };
  visit((node as { args?: unknown }).args ?? node);
  return names;
}

/** Keras weights of one layer by their short name ('kernel', 'gamma', …). */
function layerWeights(keras: Map<string, NamedTensor>, name: string): Map<string, NamedTensor> {
  const own = new Map<string, NamedTensor>();
  for (const [full, tensor] of keras) {
    if (full.startsWith(`${name}/`))
      own.set(full.slice(name.length + 1).replace(/(_\d+)?(:\d+)?$/, ''), tensor);
  }
  return own;
}

/** The studio's own export: its project, if every primitive's Keras layer is there. */
function restoreStudioProject(
  project: Project,
  layers: FlatLayer[],
  keras: Map<string, NamedTensor>,
): ImportedTfjsModel | null {
  const names = new Set(layers.map((l) => l.name));
  const inference = inferGraph(project, { batch: 1 });
  if (inference.issues.length > 0) return null;
  if (!inference.primitives.every((p) => names.has(kerasName(p.id)))) return null;
  const weights: TensorMap = new Map();
  for (const node of inference.primitives) {
    const converted = torchWeights(node, layerWeights(keras, kerasName(node.id)), {});
    for (const [name, t] of converted) weights.set(`${stateKey(node.id)}.${name}`, t);
  }
  return {
    project,
    weights,
    notes: ['restored the ConvNet Studio project stored in the export, blocks included'],
  };
}

/** A type's reader, looked up by a type only known at run time. */
function readerOf(type: PrimitiveType): KerasReader<PrimitiveType> {
  return kerasReaders[type] as KerasReader<PrimitiveType>;
}

/** A primitive's PyTorch weights from its Keras layer's, by its type's reader. */
function torchWeights(
  node: PrimitiveNode,
  own: KerasWeights,
  ctx: WeightContext,
): Map<string, NamedTensor> {
  // The lookup by node.type loses the link between the type and its reader's node type.
  return readerOf(node.type).weights?.(own, node as never, ctx) ?? new Map();
}

/** Keras class → the studio types that read it, in catalog order. */
const typesByClass = new Map<string, PrimitiveType[]>();
/** Keras activation name → the studio type that reads it. */
const typeByActivation = new Map<string, PrimitiveType>();
for (const type of Object.keys(kerasReaders) as PrimitiveType[]) {
  const reader = readerOf(type);
  for (const className of reader.classes)
    typesByClass.set(className, [...(typesByClass.get(className) ?? []), type]);
  for (const name of reader.activations ?? []) typeByActivation.set(name, type);
}

/** What a Keras layer became: the studio node carrying its value, and anything pending on it. */
interface Produced {
  node: string;
  /** A ZeroPadding2D not yet taken by the layer after it as its own padding (else a ZeroPad2d). */
  padding?: { value: Padding; layer: FlatLayer };
  /** A Permute to channels-first, valid only before Flatten. */
  channelsFirst?: boolean;
}

/** The studio graph being built, with what the Keras layers left pending. */
class GraphBuilder extends ImportGraph {
  readonly produced = new Map<string, Produced>();
  /** Studio node id → its Keras layer (weights), and Flatten nodes that keep Keras's H,W,C order. */
  readonly kerasOf = new Map<string, string>();
  readonly hwcFlatten = new Set<string>();
  /** How many layers read each Keras layer's output. */
  readonly uses = new Map<string, number>();
  /** ZeroPadding2D layers made ZeroPad2d nodes, by Keras name. */
  private readonly padNodes = new Map<string, string>();

  /** A pending padding as a ZeroPad2d node (one per ZeroPadding2D, however many read it). */
  padNode(input: Produced): string {
    const { layer, value } = input.padding!;
    let id = this.padNodes.get(layer.name);
    if (id === undefined) {
      const [[top, bottom], [left, right]] = value;
      id = this.add(
        this.id(layer.name),
        'ZeroPad2d',
        { padding: [left, right, top, bottom] },
        [input.node],
        layer.name,
      );
      this.padNodes.set(layer.name, id);
    }
    return id;
  }
}

/** Keras layers that can take a ZeroPadding2D before them as their own (symmetric) padding. */
const TAKES_PADDING = new Set(['Conv2D', 'TorchConv2D', 'DepthwiseConv2D', 'AveragePooling2D']);

/**
 * Each pending ZeroPadding2D is left for the layer to take as its own padding
 * where it can (symmetric, before a convolution or average pooling that is
 * its only reader); otherwise it becomes a ZeroPad2d node, which computes
 * exactly what Keras does (before a max pooling too: zeros can win there).
 */
function settlePadding(g: GraphBuilder, layer: FlatLayer, inputs: Produced[]): Produced[] {
  return inputs.map((input) => {
    if (!input.padding) return input;
    const [[top, bottom], [left, right]] = input.padding.value;
    const takes =
      inputs.length === 1 &&
      TAKES_PADDING.has(layer.className) &&
      layer.config.padding !== 'same' &&
      top === bottom &&
      left === right &&
      (g.uses.get(input.padding.layer.name) ?? 0) === 1;
    return takes ? input : { node: g.padNode(input) };
  });
}

/**
 * A strided 'same' convolution pads as TF does (the odd pixel after), which
 * PyTorch's padding='same' (stride 1 only) cannot say: the padding becomes
 * explicit, as if a ZeroPadding2D came first, and the convolution 'valid'.
 */
function explicitSame(
  layer: FlatLayer,
  inputs: Produced[],
  shape: () => number[],
): [FlatLayer, Produced[]] {
  const cfg = layer.config;
  const convolution = layer.className === 'Conv2D' || layer.className === 'DepthwiseConv2D';
  if (!convolution || cfg.padding !== 'same' || inputs[0].padding) return [layer, inputs];
  const kernel = pair(cfg.kernel_size, 'kernel_size', layer.name);
  const stride = pair(cfg.strides ?? 1, 'strides', layer.name);
  if (stride[0] === 1 && stride[1] === 1) return [layer, inputs];
  const [, , h, w] = shape();
  const value = tfSamePadding(
    [h, w],
    kernel,
    stride,
    pair(cfg.dilation_rate ?? 1, 'dilation_rate', layer.name),
  );
  const padLayer: FlatLayer = {
    className: 'ZeroPadding2D',
    name: `${layer.name}_pad`,
    config: {},
    inbound: [],
  };
  return [
    { ...layer, config: { ...cfg, padding: 'valid' } },
    [{ node: inputs[0].node, padding: { value, layer: padLayer } }],
  ];
}

function convertKerasGraph(
  layers: FlatLayer[],
  output: string,
  keras: Map<string, NamedTensor>,
  name: string,
): ImportedTfjsModel {
  const g = new GraphBuilder(name);
  for (const layer of layers)
    for (const source of layer.inbound) g.uses.set(source, (g.uses.get(source) ?? 0) + 1);
  for (const layer of layers) {
    const inputs = layer.inbound.map((i) => {
      const p = g.produced.get(i);
      if (!p)
        throw new ImportError(
          layer.name,
          `its input '${i}' is not a layer of the model (or comes later)`,
        );
      return p;
    });
    convertLayer(g, layer, inputs);
  }
  const project = g.finish(g.produced.get(output)!.node);
  const inference = inferValidGraph(project, { batch: 1 });
  const weights: TensorMap = new Map();
  for (const node of inference.primitives) {
    const kerasLayer = g.kerasOf.get(node.id);
    if (!kerasLayer || node.weights.length === 0) continue;
    const source = node.inputs[0];
    const ctx: WeightContext = {};
    if (g.hwcFlatten.has(source)) {
      const [, c, h, w] = inference.primitives.find((p) => p.id === source)!.inputShapes[0];
      ctx.flattenedHwc = [h, w, c];
    }
    for (const [wname, t] of torchWeights(node, layerWeights(keras, kerasLayer), ctx)) {
      weights.set(`${stateKey(node.id)}.${wname}`, t);
    }
  }
  for (const id of g.hwcFlatten) {
    const consumers = project.edges.filter((e) => e.source === id);
    const kept = project.nodes.some((n) => n.id === id);
    if (
      kept &&
      (consumers.length === 0 ||
        consumers.some((e) => project.nodes.find((n) => n.id === e.target)?.type !== 'Linear'))
    ) {
      throw new ImportError(
        id,
        'a Flatten of an image (Keras flattens H,W,C) is the output or feeds something other than a Dense layer, so its order cannot be converted to PyTorch’s C,H,W',
      );
    }
  }
  if ([...g.hwcFlatten].some((id) => g.nodes.some((n) => n.id === id))) {
    g.notes.push(
      'reordered the Dense weights after Flatten from Keras’s H,W,C order to PyTorch’s C,H,W order',
    );
  }
  return { project, weights, notes: g.notes };
}

/** A Keras layer as the readers see it, noting whether its reader took a pending ZeroPadding2D. */
function kerasLayerIn(
  g: GraphBuilder,
  layer: FlatLayer,
  inputs: Produced[],
): KerasLayerIn & { paddingTaken: boolean } {
  const view = {
    name: layer.name,
    className: layer.className,
    cfg: layer.config,
    paddingTaken: false,
    inputShape: () => g.shapeOf(inputs[0].node),
    takePadding: () => {
      view.paddingTaken = true;
      return inputs[0]?.padding?.value;
    },
  };
  return view;
}

/** Refuses what a pending ZeroPadding2D or Permute cannot precede. */
function checkPending(lname: string, inputs: Produced[], paddingTaken: boolean, flatten: boolean) {
  for (const input of inputs) {
    if (input.padding && !paddingTaken)
      throw new ImportError(
        lname,
        'it follows a ZeroPadding2D, which only a Conv2D or AveragePooling2D can absorb',
      );
    if (input.channelsFirst && !flatten)
      throw new ImportError(
        lname,
        'it follows a Permute, which the studio supports only before Flatten',
      );
  }
}

/** Keras layers that only pad, reorder, reshape or name an activation: folded into studio nodes. */
const STRUCTURAL = new Set(['ZeroPadding2D', 'Permute', 'Reshape', 'Activation']);

function convertLayer(g: GraphBuilder, given: FlatLayer, feeding: Produced[]): void {
  const lname = given.name;
  let layer = given;
  let inputs = feeding;
  if (layer.className === 'InputLayer') {
    const params = kerasReaders.Input.params(kerasLayerIn(g, layer, inputs));
    g.produced.set(lname, { node: g.add(g.id(lname), 'Input', params, [], lname) });
    return;
  }
  if (inputs.length === 0) throw new ImportError(lname, 'nothing feeds it');
  if (STRUCTURAL.has(layer.className)) {
    convertStructural(g, layer, inputs);
    return;
  }
  const candidates = typesByClass.get(layer.className);
  if (!candidates) {
    throw new ImportError(lname, `Keras layer ${layer.className} has no studio equivalent`);
  }
  [layer, inputs] = explicitSame(layer, inputs, () => g.shapeOf(inputs[0].node));
  if (inputs[0].padding?.layer.name === `${layer.name}_pad`) g.uses.set(`${layer.name}_pad`, 1);
  inputs = settlePadding(g, layer, inputs);
  const view = kerasLayerIn(g, layer, inputs);
  const type = candidates.find((t) => readerOf(t).accepts?.(view) ?? true);
  if (!type) {
    throw new ImportError(
      lname,
      `${layer.className} ${describeConfig(layer)}on an input of shape ${view.inputShape().join('×')} has no studio equivalent`,
    );
  }
  const reader = readerOf(type);
  const params = reader.params(view);
  checkPending(lname, inputs, view.paddingTaken, type === 'Flatten');
  let id = addFlattenAware(g, g.id(lname), type, params, inputs, lname);
  g.kerasOf.set(id, lname);
  for (const [after, afterParams] of reader.followedBy?.(view) ?? []) {
    id = g.add(g.id(lname, `_${after.toLowerCase()}`), after, afterParams, [id], lname);
  }
  // A fused activation (Conv2D, Dense) becomes its own node after the layer.
  const fused = typeof layer.config.activation === 'string' ? layer.config.activation : 'linear';
  if (fused !== 'linear') id = addActivation(g, fused, lname, id, `_${fused}`);
  g.produced.set(lname, { node: id });
}

/** The detail that made no reader accept the layer (a noise shape, a cap), for the message. */
function describeConfig(layer: FlatLayer): string {
  const { noise_shape: shape, max_value: cap } = layer.config;
  if (Array.isArray(shape)) return `with noise_shape ${JSON.stringify(shape)} `;
  return cap != null ? `with max_value ${cap} (ReLU6's is 6) ` : '';
}

/** Adds a node; a Flatten of an H×W×C map (not after Permute) is marked as Keras-ordered. */
function addFlattenAware(
  g: GraphBuilder,
  id: string,
  type: PrimitiveType,
  params: Record<string, unknown>,
  inputs: Produced[],
  lname: string,
): string {
  const added = g.add(
    id,
    type,
    params,
    inputs.map((i) => i.node),
    lname,
  );
  if (type === 'Flatten' && !inputs[0].channelsFirst) {
    const shape = g.shapeOf(inputs[0].node);
    if (shape.length === 4 && shape[1] > 1 && shape[2] * shape[3] > 1) g.hwcFlatten.add(added);
  }
  return added;
}

/** An activation by its Keras name, as a node after `from`; returns its id. */
function addActivation(
  g: GraphBuilder,
  act: string,
  lname: string,
  from: string,
  suffix = '',
): string {
  const type = typeByActivation.get(act);
  if (!type) {
    throw new ImportError(
      lname,
      `activation '${act}' has no studio layer (${[...typeByActivation.keys()].join(', ')} are supported)`,
    );
  }
  const params = readerOf(type).params({
    name: lname,
    className: 'Activation',
    cfg: { activation: act },
    inputShape: () => g.shapeOf(from),
    takePadding: () => undefined,
  });
  const id = g.add(g.id(lname, suffix), type, params, [from], lname);
  g.kerasOf.set(id, lname);
  return id;
}

/** Keras layers that only pad, reorder, reshape or name an activation. */
function convertStructural(g: GraphBuilder, layer: FlatLayer, inputs: Produced[]): void {
  const cfg = layer.config;
  const lname = layer.name;
  const [input] = inputs;
  const plain = () => {
    checkPending(lname, inputs, false, false);
    return input.node;
  };
  switch (layer.className) {
    case 'ZeroPadding2D': {
      // Pending until the layer after it says whether it takes it as its own padding.
      const [from] = settlePadding(g, layer, inputs);
      g.produced.set(lname, {
        node: from.node,
        padding: { value: kerasPadding(cfg.padding, lname), layer },
      });
      return;
    }
    case 'Activation': {
      const act = String(cfg.activation);
      const from = plain();
      g.produced.set(lname, {
        node: act === 'linear' ? from : addActivation(g, act, lname, from),
      });
      return;
    }
    case 'Permute': {
      const dims = cfg.dims as number[];
      if (!Array.isArray(dims) || dims.join() !== '3,1,2')
        throw new ImportError(
          lname,
          `Permute ${JSON.stringify(dims)} has no studio layer (only [3, 1, 2] before Flatten)`,
        );
      g.produced.set(lname, { node: plain(), channelsFirst: true });
      return;
    }
    case 'Reshape': {
      const target = (cfg.target_shape as number[]) ?? [];
      const shape = g.shapeOf(input.node);
      const [, c] = shape;
      const perImage = shape.slice(1).reduce((a, b) => a * b, 1);
      // Reshape to [1, 1, C] after global pooling (and its Flatten) keeps the pooled map.
      if (target.length === 3 && target[0] === 1 && target[1] === 1 && target[2] === perImage) {
        const node = g.nodes.find((n) => n.id === input.node);
        const pooled = g.edges.find((e) => e.target === input.node)?.source;
        const gap = g.nodes.find((n) => n.id === pooled);
        if (node?.type === 'Flatten' && gap?.type === 'AdaptiveAvgPool2d') {
          g.produced.set(lname, { node: gap.id });
          return;
        }
        if (shape.length === 4 && shape[2] === 1 && shape[3] === 1 && c === perImage) {
          g.produced.set(lname, { node: plain() });
          return;
        }
      }
      // Reshape to [features] is a Flatten (in Keras's H,W,C order, which Flatten handles).
      if (target.length === 1 && (target[0] === perImage || target[0] === -1)) {
        checkPending(lname, inputs, false, true);
        const id = addFlattenAware(g, g.id(lname), 'Flatten', {}, inputs, lname);
        g.produced.set(lname, { node: id });
        return;
      }
      throw new ImportError(
        lname,
        `Reshape of ${shape.slice(1).join('×')} to ${JSON.stringify(target)} has no studio layer (only flattening, and global pooling's [1, 1, C])`,
      );
    }
  }
}
