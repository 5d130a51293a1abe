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
import { formatIssue } from '../../core/issues';
import type { PrimitiveType } from '../../core/layers/registry';
import type { NamedTensor, TensorMap } from '../../core/weights/safetensors';
import { stateKey } from '../common';
import { kerasName } from './export';
import {
  ImportError,
  type KerasLayerIn,
  type KerasReader,
  type KerasWeights,
  kerasReaders,
  type Padding,
  type WeightContext,
} from './import-layers';

export { ImportError } from './import-layers';

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
    const converted = torchWeights(node, layerWeights(keras, kerasName(node.id)), {});
    for (const [name, t] of converted) weights.set(`${stateKey(node.id)}.${name}`, t);
  }
  return {
    project,
    weights,
    notes: ['restored the ConvNet Studio project stored in the export, blocks included'],
  };
}

/** A primitive's PyTorch weights from its Keras layer's, by its type's reader. */
function torchWeights(
  node: PrimitiveNode,
  own: KerasWeights,
  ctx: WeightContext,
): Map<string, NamedTensor> {
  // The lookup by node.type loses the link between the type and its reader's node type.
  const reader = kerasReaders[node.type] as KerasReader<PrimitiveType>;
  return reader.weights?.(own, node as never, ctx) ?? new Map();
}

/** A type's reader, looked up by a type only known at run time. */
function readerOf(type: PrimitiveType): KerasReader<PrimitiveType> {
  return kerasReaders[type] as KerasReader<PrimitiveType>;
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

/** Keras layers with no studio node of their own: folded into the layers around them. */
const STRUCTURAL = new Set(['ZeroPadding2D', 'Permute', 'Reshape', 'Activation']);

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

  constructor(readonly name: string) {}

  id(kerasLayer: string, suffix = ''): string {
    let id = `${kerasLayer.replace(/[^A-Za-z0-9_-]/g, '_')}${suffix}` || 'layer';
    while (this.used.has(id)) id += '_';
    this.used.add(id);
    return id;
  }
  add(id: string, type: PrimitiveType, params: Record<string, unknown>, from: string[]): string {
    this.nodes.push({ id, type, params });
    for (const source of from) this.edges.push({ source, target: id });
    return id;
  }
  project(): Project {
    return projectSchema.parse({
      format: PROJECT_FORMAT,
      version: PROJECT_VERSION,
      name: this.name,
      nodes: this.nodes,
      edges: this.edges,
    });
  }
  /** The output shape [N, C, H, W] (or [N, F]) of a node, from the graph so far. */
  shapeOf(nodeId: string): number[] {
    const inference = inferGraph(this.project(), { batch: 1 });
    const shape = inference.byId.get(nodeId)?.outputShape;
    if (!shape) {
      const issue = inference.issues[0];
      throw new ImportError(
        nodeId,
        `the layers up to it do not fit together in the studio (${issue ? formatIssue(issue) : 'no shape'})`,
      );
    }
    return shape;
  }
}

function convertKerasGraph(
  layers: KerasLayerJson[],
  sequential: boolean,
  output: string,
  keras: Map<string, NamedTensor>,
  name: string,
): ImportedTfjsModel {
  const g = new GraphBuilder(name);
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
      const params = kerasReaders.Input.params(kerasLayerIn(g, layer, lname, []));
      g.add(inputId, 'Input', params, []);
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
    );
    previous = lname;
  }
  const outputNode = g.produced.get(output)?.node;
  if (!outputNode) throw new ImportError(output, 'the model output is not among its layers');
  pruneDeadEnds(g, outputNode);
  const project = g.project();
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

/** A Keras layer as the readers see it, noting whether its reader took a pending ZeroPadding2D. */
function kerasLayerIn(
  g: GraphBuilder,
  layer: KerasLayerJson,
  lname: string,
  inputs: Produced[],
): KerasLayerIn & { paddingTaken: boolean } {
  const view = {
    name: lname,
    className: layer.class_name,
    cfg: layer.config,
    paddingTaken: false,
    inputShape: () => g.shapeOf(inputs[0].node),
    takePadding: () => {
      view.paddingTaken = true;
      return inputs[0]?.padding;
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

function convertLayer(
  g: GraphBuilder,
  layer: KerasLayerJson,
  lname: string,
  inputs: Produced[],
): void {
  if (STRUCTURAL.has(layer.class_name)) {
    convertStructural(g, layer, lname, inputs);
    return;
  }
  const candidates = typesByClass.get(layer.class_name);
  if (!candidates) {
    throw new ImportError(lname, `Keras layer ${layer.class_name} has no studio equivalent`);
  }
  const view = kerasLayerIn(g, layer, lname, inputs);
  const type = candidates.find((t) => readerOf(t).accepts?.(view) ?? true);
  if (!type) {
    throw new ImportError(
      lname,
      `${layer.class_name} on an input of shape ${view.inputShape().join('×')} has no studio equivalent (${candidates.join(' and ')} take other shapes)`,
    );
  }
  const reader = readerOf(type);
  const params = reader.params(view);
  checkPending(lname, inputs, view.paddingTaken, type === 'Flatten');
  let id = g.add(
    g.id(lname),
    type,
    params,
    inputs.map((i) => i.node),
  );
  g.kerasOf.set(id, lname);
  if (type === 'Flatten' && !inputs[0].channelsFirst) {
    const shape = g.shapeOf(inputs[0].node);
    if (shape.length === 4 && shape[1] > 1 && shape[2] * shape[3] > 1) g.hwcFlatten.add(id);
  }
  for (const [after, afterParams] of reader.followedBy?.(view) ?? []) {
    id = g.add(g.id(lname, `_${after.toLowerCase()}`), after, afterParams, [id]);
  }
  // A fused activation (Conv2D, Dense) becomes its own node after the layer.
  const fused = typeof layer.config.activation === 'string' ? layer.config.activation : 'linear';
  if (fused !== 'linear') id = addActivation(g, fused, lname, id, `_${fused}`);
  g.produced.set(lname, { node: id });
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
  const id = g.add(g.id(lname, suffix), type, params, [from]);
  g.kerasOf.set(id, lname);
  return id;
}

/** Keras layers that only pad, reorder or reshape: folded into the studio nodes around them. */
function convertStructural(
  g: GraphBuilder,
  layer: KerasLayerJson,
  lname: string,
  inputs: Produced[],
): void {
  const cfg = layer.config;
  const [input] = inputs;
  const plain = () => {
    checkPending(lname, inputs, false, false);
    return input.node;
  };
  switch (layer.class_name) {
    case 'ZeroPadding2D': {
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
      if (dims.join() !== '3,1,2')
        throw new ImportError(
          lname,
          `Permute ${JSON.stringify(dims)} has no studio layer (only [3, 1, 2] before Flatten)`,
        );
      g.produced.set(lname, { node: plain(), channelsFirst: true });
      return;
    }
    case 'Reshape': {
      // GlobalAveragePooling2D + Reshape([1, 1, C]) (the studio's own export) is AdaptiveAvgPool2d alone.
      const target = cfg.target_shape as number[];
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
