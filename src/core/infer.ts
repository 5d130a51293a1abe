/**
 * Shape inference over a project graph: validates every node, expands blocks
 * into primitives, and computes each layer's output shape, parameters, cost,
 * receptive field and activation memory. It never throws for a user mistake;
 * problems come back as issues tied to the node, and shapes after a broken
 * node stay unknown, so the editor can show everything else.
 */
import {
  findCycle,
  inputsOf,
  outputsOf,
  structureIssues,
  topologicalOrder,
} from './graph/topology';
import { formatIssue, type GraphIssue, ProjectError } from './issues';
import { schemaOf } from './layers/fields';
import {
  getLayerDef,
  type LayerParams,
  layerRegistry,
  type PrimitiveType,
} from './layers/registry';
import type {
  BlockLayerDef,
  ExpandContext,
  InnerFix,
  InputLayerDef,
  PrimitiveLayerDef,
  SubgraphEdge,
  SubgraphNode,
  WeightSpec,
} from './layers/types';
import { formatLimit, LIMITS, LimitError } from './limits';
import { formatShape, numel, type Pair, type Shape, ShapeError } from './shape';

export interface NodeInfo {
  /** Path id: node ids from the top graph down, joined by '/'. */
  id: string;
  type: string;
  label?: string;
  /** Parameters with defaults filled in (absent when they failed to validate). */
  params?: Record<string, unknown>;
  inputShapes: Shape[];
  outputShape?: Shape;
  /** Trainable parameters (as PyTorch counts them), including everything inside a block. */
  paramCount: number;
  macs: number;
  /** Receptive field at this node's output, in input pixels [h, w]. */
  receptiveField?: Pair;
  /** Bytes of float32 activations this node produces (for blocks: everything inside). */
  memoryBytes: number;
  /** A block's inside, in order. */
  children?: NodeInfo[];
  /** A block's inside: the edges between its children's local ids, as its expansion made them. */
  childEdges?: SubgraphEdge[];
  /** Inspector explanation of the output size. */
  explain?: string[];
  error?: string;
  /** The error is only that nothing feeds it yet (a layer just added): the editor says so calmly. */
  unconnected?: true;
}

/** A primitive layer of the expanded graph, ready to compile, with its type's own parameters. */
interface TypedPrimitive<T extends PrimitiveType> {
  id: string;
  type: T;
  def: InputLayerDef | PrimitiveLayerDef;
  params: LayerParams<T>;
  /** Path ids of the primitives (or the graph input) feeding it, in order. */
  inputs: string[];
  inputShapes: Shape[];
  outputShape: Shape;
  weights: WeightSpec[];
}

/** A primitive of one of the given types (a union of each type's node, so `type` narrows `params`). */
export type PrimitiveNodeOf<T extends PrimitiveType> = T extends PrimitiveType
  ? TypedPrimitive<T>
  : never;

/** Any primitive: narrowing on `type` gives its parameters' type. */
export type PrimitiveNode = PrimitiveNodeOf<PrimitiveType>;

export interface GraphInference {
  /** Top-level nodes in topological order. */
  nodes: NodeInfo[];
  /** Every node at every depth, by path id. */
  byId: Map<string, NodeInfo>;
  /** Primitive layers in execution order (the Input first). */
  primitives: PrimitiveNode[];
  inputId?: string;
  outputId?: string;
  inputShape?: Shape;
  outputShape?: Shape;
  issues: GraphIssue[];
  totals: { params: number; macs: number; memoryBytes: number };
}

export interface InferOptions {
  /** Batch size N for the Input (default 1). */
  batch?: number;
  /** Overrides the Input node's C×H×W (and N) with [N, C, H, W]. */
  inputShape?: Shape;
}

interface GraphScope {
  nodes: SubgraphNode[];
  edges: SubgraphEdge[];
  fixes?: Record<string, InnerFix>;
}

interface Receptive {
  size: Pair;
  jump: Pair;
}

const BYTES_PER_FLOAT = 4;

export function inferGraph(
  graph: GraphScope & { blocks?: ExpandContext['blocks'] },
  options: InferOptions = {},
): GraphInference {
  const result: GraphInference = {
    nodes: [],
    byId: new Map(),
    primitives: [],
    issues: [],
    totals: { params: 0, macs: 0, memoryBytes: 0 },
  };
  const tooLarge = sizeIssue(graph);
  if (tooLarge) {
    result.issues.push(tooLarge);
    return result;
  }
  const inputNodes = graph.nodes.filter((n) => n.type === 'Input');
  if (inputNodes.length !== 1) {
    result.issues.push({
      nodeId: inputNodes[1]?.id,
      message:
        inputNodes.length === 0
          ? 'the graph has no Input node; add one from the palette (Input) and connect it to the first layer'
          : `the graph has ${inputNodes.length} Input nodes (${inputNodes.map((n) => n.id).join(', ')}); a network takes one input`,
    });
  }
  const scope = new ScopeInference(result, graph.blocks ?? {}, options);
  try {
    result.nodes = scope.run(graph, '', null, 0);
  } catch (err) {
    if (!(err instanceof LimitError)) throw err;
    result.issues.push({ nodeId: err.nodeId, message: err.message });
    return result;
  }
  const top = result.nodes;
  const sinks = sinksOf(graph);
  if (sinks.length > 1 && result.issues.length === 0) {
    result.issues.push({
      nodeId: sinks[1],
      message: `the graph has ${sinks.length} outputs (${sinks.join(', ')}); a network must end in one layer: connect them or delete the extras`,
    });
  }
  const sinkInfo = top.find((n) => n.id === sinks[0]);
  result.outputShape = sinkInfo?.outputShape;
  result.outputId = sinks[0] !== undefined ? scope.resolved.get(sinks[0]) : undefined;
  for (const n of top) {
    result.totals.params += n.paramCount;
    result.totals.macs += n.macs;
    result.totals.memoryBytes += n.memoryBytes;
  }
  if (result.totals.params > LIMITS.params) {
    result.issues.push({
      message: `the network has ${result.totals.params.toLocaleString('en-US')} parameters; the studio trains at most ${LIMITS.params.toLocaleString('en-US')} (4 GiB of float32 weights, before gradients and optimizer state); use fewer channels or features`,
    });
  }
  return result;
}

/** The project's own graph or blocks past the limits: refused before anything is expanded. */
function sizeIssue(graph: GraphScope & { blocks?: ExpandContext['blocks'] }): GraphIssue | null {
  const graphs: [string, GraphScope][] = [
    ['the graph', graph],
    ...Object.entries(graph.blocks ?? {}).map(([name, b]): [string, GraphScope] => [
      `block '${name}'`,
      b,
    ]),
  ];
  const layers = graphs.reduce((sum, [, g]) => sum + g.nodes.length, 0);
  if (layers > LIMITS.layers) {
    return {
      message: `the project has ${formatLimit(layers)} layers, more than the studio's limit of ${formatLimit(LIMITS.layers)} (the largest classic networks have about 1,000); remove layers`,
    };
  }
  for (const [name, g] of graphs) {
    if (g.edges.length > LIMITS.edges) {
      return {
        message: `${name} has ${formatLimit(g.edges.length)} edges, more than the studio's limit of ${formatLimit(LIMITS.edges)}; remove duplicate or needless edges`,
      };
    }
  }
  return null;
}

/** Like inferGraph, but a project with any issue is an error (for the CLI, compile and export). */
export function inferValidGraph(
  graph: Parameters<typeof inferGraph>[0],
  options: InferOptions = {},
): GraphInference {
  const inference = inferGraph(graph, options);
  if (inference.issues.length > 0) throw new ProjectError(inference.issues);
  return inference;
}

/**
 * One primitive layer's output shape for the given input shapes, its params
 * validated with defaults filled in: for building a graph layer by layer
 * (an importer) without inferring the whole graph at each step. Throws
 * ShapeError naming the field at fault.
 */
export function inferLayerShape(
  type: string,
  params: Record<string, unknown>,
  inputs: Shape[],
): Shape {
  const def = getLayerDef(type);
  if (!def || def.kind === 'block') throw new ShapeError(`'${type}' is not a primitive layer type`);
  const parsed = schemaOf(def.fields).safeParse(params);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first.path.length > 0 ? String(first.path[0]) : undefined;
    throw new ShapeError(`${field ?? 'params'} ${first.message}`, field);
  }
  if (def.kind === 'input') {
    const { channels, height, width } = parsed.data as LayerParams<'Input'>;
    return [1, channels, height, width];
  }
  if (inputs.length < def.inputs.min || inputs.length > def.inputs.max)
    throw new ShapeError(`${type} takes ${def.inputs.min} to ${def.inputs.max} inputs`);
  const { output } = def.infer(inputs, parsed.data);
  const weights = def.weights?.(inputs, parsed.data) ?? [];
  checkSizes(type, output, weights);
  return output;
}

function sinksOf(graph: GraphScope): string[] {
  const outputs = outputsOf(graph);
  return graph.nodes.filter((n) => (outputs.get(n.id) ?? []).length === 0).map((n) => n.id);
}

class ScopeInference {
  /** Path id → the primitive path id that carries its value. */
  readonly resolved = new Map<string, string>();
  private readonly receptive = new Map<string, Receptive>();
  private readonly shapes = new Map<string, Shape>();
  /** Nodes met so far at every depth, checked against LIMITS.layers as blocks expand. */
  private layers = 0;

  constructor(
    private readonly result: GraphInference,
    private readonly blocks: ExpandContext['blocks'],
    private readonly options: InferOptions,
  ) {}

  /**
   * Infers one graph level. `entry` is the outer input's path id for a block's
   * inside (null at the top level, where the Input node is the graph input).
   */
  run(graph: GraphScope, prefix: string, entry: string | null, depth: number): NodeInfo[] {
    const blockId = prefix.replace(/\/$/, '');
    this.layers += graph.nodes.length;
    if (this.layers > LIMITS.layers) {
      throw new LimitError(
        `the network expands to more than ${formatLimit(LIMITS.layers)} layers, the studio's limit (the largest classic networks have about 1,000)${blockId ? `; it passes the limit inside this block: blocks that use other blocks multiply their layers` : ''}; use fewer or smaller blocks`,
        blockId || undefined,
      );
    }
    if (graph.edges.length > LIMITS.edges) {
      throw new LimitError(
        `a graph inside this block has ${formatLimit(graph.edges.length)} edges, more than the studio's limit of ${formatLimit(LIMITS.edges)}`,
        blockId || undefined,
      );
    }
    const structural = structureIssues(graph, prefix);
    for (const issue of structural) this.result.issues.push(issue); // no spread: there may be very many
    if (structural.length > 0) return [];
    const { order, cyclic } = topologicalOrder(graph);
    if (cyclic.length > 0) {
      const loop = findCycle(graph, cyclic);
      this.result.issues.push({
        nodeId: prefix + loop[0],
        message: `the graph has a cycle: ${loop.join(' → ')}; data must flow one way, so remove one of these edges`,
      });
      return [];
    }
    if (depth > LIMITS.depth) {
      this.result.issues.push({
        nodeId: blockId,
        message: `blocks are nested more than ${LIMITS.depth} deep; a block probably contains itself`,
      });
      return [];
    }
    const inputs = inputsOf(graph);
    const byLocalId = new Map(graph.nodes.map((n) => [n.id, n]));
    const infos: NodeInfo[] = [];
    for (const localId of order) {
      const node = byLocalId.get(localId)!;
      const info = this.inferNode(
        node,
        prefix,
        (inputs.get(localId) ?? []).map((s) => prefix + s),
        entry,
        depth,
      );
      infos.push(info);
      this.result.byId.set(info.id, info);
    }
    return infos;
  }

  private fail(info: NodeInfo, message: string, field?: string): NodeInfo {
    info.error = message;
    this.result.issues.push({ nodeId: info.id, field, message });
    return info;
  }

  private inferNode(
    node: SubgraphNode,
    prefix: string,
    inputIds: string[],
    entry: string | null,
    depth: number,
  ): NodeInfo {
    const id = prefix + node.id;
    const info: NodeInfo = {
      id,
      type: node.type,
      label: node.label,
      inputShapes: [],
      paramCount: 0,
      macs: 0,
      memoryBytes: 0,
    };
    const def = getLayerDef(node.type);
    if (!def) {
      return this.fail(
        info,
        `unknown layer type '${node.type}'; known types are ${[...layerRegistry.keys()].join(', ')}`,
        'type',
      );
    }
    const parsed = schemaOf(def.fields).safeParse(node.params ?? {});
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const field = first.path.length > 0 ? String(first.path[0]) : undefined;
      const message =
        first.code === 'unrecognized_keys'
          ? `${def.type} has no parameter ${first.keys.map((k) => `'${k}'`).join(', ')}; its parameters are ${Object.keys(def.fields).join(', ')}`
          : `${field ?? 'params'} ${first.message}`;
      return this.fail(
        info,
        message,
        field ?? (first.code === 'unrecognized_keys' ? first.keys[0] : undefined),
      );
    }
    const params = parsed.data;
    info.params = params;
    if (def.kind === 'input') return this.inferInput(info, def, params, entry, inputIds);

    if (inputIds.length < def.inputs.min || inputIds.length > def.inputs.max) {
      if (inputIds.length === 0) info.unconnected = true;
      const wanted =
        def.inputs.min === def.inputs.max
          ? `${def.inputs.min}`
          : `${def.inputs.min} to ${def.inputs.max === Infinity ? 'any number of' : def.inputs.max}`;
      return this.fail(
        info,
        `${def.type} takes ${wanted} input${def.inputs.max === 1 ? '' : 's'} but ${inputIds.length === 0 ? 'nothing is connected to it' : `${inputIds.length} are connected`}`,
      );
    }
    const inputShapes = inputIds.map((i) => this.shapes.get(i));
    if (inputShapes.some((s) => s === undefined)) return info; // an earlier node failed; already reported
    info.inputShapes = inputShapes as Shape[];
    const producers = inputIds.map((i) => this.resolved.get(i)!);
    const incoming = inputIds.map((i) => this.receptive.get(i)!);

    if (def.kind === 'block') return this.inferBlock(info, def, params, inputIds, depth);

    try {
      const inference = def.infer(info.inputShapes, params);
      const weights = def.weights?.(info.inputShapes, params) ?? [];
      checkSizes(def.type, inference.output, weights);
      info.outputShape = inference.output;
      info.macs = inference.macs;
      info.paramCount = weights
        .filter((w) => w.trainable)
        .reduce((sum, w) => sum + numel(w.shape), 0);
      info.memoryBytes = numel(inference.output) * BYTES_PER_FLOAT;
      info.explain = def.explain?.(info.inputShapes, params);
      const rf = stepReceptive(incoming, inference.receptive, this.inputSpatial());
      info.receptiveField = rf.size;
      this.receptive.set(id, rf);
      this.shapes.set(id, inference.output);
      this.resolved.set(id, id);
      this.result.primitives.push({
        id,
        type: def.type,
        def,
        params,
        inputs: producers,
        inputShapes: info.inputShapes,
        outputShape: inference.output,
        weights,
      } as PrimitiveNode);
      return info;
    } catch (err) {
      if (err instanceof ShapeError) return this.fail(info, err.message, err.field);
      throw err;
    }
  }

  private inferInput(
    info: NodeInfo,
    def: InputLayerDef,
    params: Record<string, unknown>,
    entry: string | null,
    inputIds: string[],
  ): NodeInfo {
    if (inputIds.length > 0)
      return this.fail(info, 'an Input node takes no incoming edges; remove the edges into it');
    if (entry !== null) {
      // A block's Input stands for whatever feeds the block.
      const shape = this.shapes.get(entry)!;
      this.shapes.set(info.id, shape);
      this.resolved.set(info.id, this.resolved.get(entry)!);
      this.receptive.set(info.id, this.receptive.get(entry)!);
      info.outputShape = shape;
      info.receptiveField = this.receptive.get(entry)!.size;
      return info;
    }
    const override = this.options.inputShape;
    const { channels, height, width } = params as LayerParams<'Input'>;
    const shape: Shape = override ?? [this.options.batch ?? 1, channels, height, width];
    try {
      checkSizes('Input', shape, []);
    } catch (err) {
      if (err instanceof ShapeError) return this.fail(info, err.message, err.field);
      throw err;
    }
    this.result.inputId = info.id;
    this.result.inputShape = shape;
    info.outputShape = shape;
    info.memoryBytes = 0;
    info.receptiveField = [1, 1];
    this.shapes.set(info.id, shape);
    this.resolved.set(info.id, info.id);
    this.receptive.set(info.id, { size: [1, 1], jump: [1, 1] });
    this.result.primitives.push({
      id: info.id,
      type: 'Input',
      def,
      params: params as LayerParams<'Input'>,
      inputs: [],
      inputShapes: [],
      outputShape: shape,
      weights: [],
    });
    return info;
  }

  private inferBlock(
    info: NodeInfo,
    def: BlockLayerDef,
    params: Record<string, unknown>,
    inputIds: string[],
    depth: number,
  ): NodeInfo {
    let inside: GraphScope;
    try {
      inside = def.expand(params, { blocks: this.blocks, input: info.inputShapes[0] });
    } catch (err) {
      if (err instanceof ShapeError) return this.fail(info, err.message, err.field);
      throw err;
    }
    const issuesBefore = this.result.issues.length;
    const children = this.run(inside, `${info.id}/`, inputIds[0], depth + 1);
    info.children = children;
    info.childEdges = inside.edges;
    if (this.result.issues.length > issuesBefore) {
      const inner = this.result.issues.splice(issuesBefore);
      const said: string[] = [];
      for (const issue of inner) {
        const own = inside.fixes ? this.ownIssue(info.id, issue, inside.fixes) : issue;
        this.result.issues.push(own);
        said.push(own.nodeId === info.id ? own.message : formatIssue(own));
      }
      info.error = said.join('; ');
      return info;
    }
    const sinks = sinksOf(inside);
    const sink = `${info.id}/${sinks[sinks.length - 1]}`;
    const out = this.shapes.get(sink);
    if (!out) return info;
    info.outputShape = out;
    for (const child of children) {
      info.paramCount += child.paramCount;
      info.macs += child.macs;
      info.memoryBytes += child.memoryBytes;
    }
    info.receptiveField = this.receptive.get(sink)?.size;
    this.shapes.set(info.id, out);
    this.resolved.set(info.id, this.resolved.get(sink)!);
    this.receptive.set(info.id, this.receptive.get(sink)!);
    return info;
  }

  /**
   * A problem of a catalog block's inner node, said as the block's own
   * parameter that fixes it (where the block says which), so the user is sent
   * to a field they can change rather than to a node they cannot edit.
   */
  private ownIssue(
    blockId: string,
    issue: GraphIssue,
    fixes: Record<string, InnerFix>,
  ): GraphIssue {
    const local = issue.nodeId?.slice(blockId.length + 1) ?? '';
    const fix = fixes[local];
    const field = issue.field && fix?.fields?.[issue.field];
    if (field)
      return {
        nodeId: blockId,
        field,
        message: `${issue.message} (in ${local}, whose ${issue.field} is the block's ${field})`,
      };
    const inner = this.result.byId.get(issue.nodeId ?? '');
    if (fix?.otherwise && inner)
      return {
        nodeId: blockId,
        field: fix.otherwise.field,
        message: fix.otherwise.explain(inner.inputShapes),
      };
    return issue;
  }

  private inputSpatial(): Pair {
    const s = this.result.inputShape;
    return s && s.length === 4 ? [s[2], s[3]] : [1, 1];
  }
}

/** A layer whose output or weights no machine here could hold (a 2^31-channel Conv2d). */
function checkSizes(layer: string, output: Shape, weights: WeightSpec[]): void {
  const perImage = numel(output.slice(1));
  if (perImage > LIMITS.activationValues) {
    throw new ShapeError(
      `${layer} would output ${formatShape(output.slice(1))} = ${formatLimit(perImage)} values per image, more than the studio's limit of ${formatLimit(LIMITS.activationValues)} (1 GiB of float32); use fewer channels or a smaller size`,
    );
  }
  for (const w of weights) {
    const values = numel(w.shape);
    if (values > LIMITS.tensorValues) {
      throw new ShapeError(
        `${layer}'s ${w.name} would be ${formatShape(w.shape)} = ${formatLimit(values)} values, more than the studio's limit of ${formatLimit(LIMITS.tensorValues)} per tensor (1 GiB of float32); use fewer channels or features`,
      );
    }
  }
}

/**
 * Receptive field after one layer: size grows by (k−1)·dilation·jump, jump
 * multiplies by the stride. Merges take the widest input.
 */
function stepReceptive(incoming: Receptive[], step: LayerDefStep, inputSpatial: Pair): Receptive {
  const widest = incoming.reduce<Receptive>(
    (a, b) => (b.size[0] * b.size[1] > a.size[0] * a.size[1] ? b : a),
    incoming[0] ?? { size: [1, 1], jump: [1, 1] },
  );
  if (step === undefined) return widest;
  if (step === 'global') return { size: inputSpatial, jump: widest.jump };
  const dilation = step.dilation ?? [1, 1];
  const size: Pair = [0, 1].map((a) =>
    Math.min(inputSpatial[a], widest.size[a] + (step.kernel[a] - 1) * dilation[a] * widest.jump[a]),
  ) as Pair;
  const jump: Pair = [widest.jump[0] * step.stride[0], widest.jump[1] * step.stride[1]];
  return { size, jump };
}
type LayerDefStep = import('./layers/types').ReceptiveStep | undefined;
