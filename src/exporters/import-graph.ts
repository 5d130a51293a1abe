/**
 * What the importers (TF.js, ONNX) share: building a studio graph node by node
 * with each node's shape inferred as it is added (so a layer that does not
 * fit is named at once), readable unique ids, keeping only what feeds the
 * chosen output, and the final Softmax that training would apply twice.
 */
import {
  PROJECT_FORMAT,
  PROJECT_VERSION,
  type Project,
  type ProjectEdge,
  type ProjectNode,
  projectSchema,
} from '../core/document/schema';
import { inferLayerShape } from '../core/infer';
import type { PrimitiveType } from '../core/layers/registry';
import { type Shape, ShapeError } from '../core/shape';
import type { TensorMap } from '../core/weights/safetensors';

/** A model the studio cannot express: names the model's layer (Keras) or node (ONNX) and why. */
export class ImportError extends Error {
  constructor(
    readonly layer: string,
    reason: string,
    noun: 'layer' | 'node' = 'layer',
  ) {
    super(`cannot import ${noun} '${layer}': ${reason}`);
    this.name = 'ImportError';
  }
}

/** A model with several outputs and none chosen: the caller asks the user which to keep. */
export class OutputChoiceError extends Error {
  constructor(readonly outputs: string[]) {
    super(
      `the model has ${outputs.length} outputs (${outputs.join(', ')}) and a studio network has one: choose the output to keep (command line: --output NAME)`,
    );
    this.name = 'OutputChoiceError';
  }
}

/** What an import produced: an editable project, its weights by state-dict key, and notes. */
export interface ImportedModel {
  project: Project;
  weights: TensorMap;
  /** What the import did that the user should know. */
  notes: string[];
}

export class ImportGraph {
  readonly nodes: ProjectNode[] = [];
  readonly edges: ProjectEdge[] = [];
  readonly notes: string[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly used = new Set<string>();

  /** `noun`: what the model calls its parts in messages ('layer' in Keras, 'node' in ONNX). */
  constructor(
    readonly name: string,
    private readonly noun: 'layer' | 'node' = 'layer',
  ) {}

  /** A unique node id from a model's own name for the layer ('features.0' → features_0). */
  id(name: string, suffix = ''): string {
    let id = `${name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '')}${suffix}` || 'layer';
    while (this.used.has(id)) id += '_';
    this.used.add(id);
    return id;
  }

  /** Adds a node, its shape inferred at once so a misfit names the model's layer; returns its id. */
  add(
    id: string,
    type: PrimitiveType,
    params: Record<string, unknown>,
    from: string[],
    layer: string,
  ): string {
    try {
      this.shapes.set(
        id,
        inferLayerShape(
          type,
          params,
          from.map((f) => this.shapeOf(f)),
        ),
      );
    } catch (err) {
      if (err instanceof ShapeError)
        throw new ImportError(layer, `as a studio ${type}: ${err.message}`, this.noun);
      throw err;
    }
    this.nodes.push({ id, type, params });
    for (const source of from) this.edges.push({ source, target: id });
    return id;
  }

  /** A node's output shape, [N, C, H, W] or [N, F] (N = 1). */
  shapeOf(nodeId: string): Shape {
    return this.shapes.get(nodeId)!;
  }

  /** Keeps only the nodes that feed `output`; returns how many were left out. */
  keepFeeding(output: string): number {
    const needed = new Set([output]);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const id = this.nodes[i].id;
      if (!needed.has(id)) continue;
      for (const e of this.edges) if (e.target === id) needed.add(e.source);
    }
    const before = this.nodes.length;
    const kept = this.nodes.filter((n) => needed.has(n.id));
    const keptEdges = this.edges.filter((e) => needed.has(e.source) && needed.has(e.target));
    this.nodes.splice(0, this.nodes.length, ...kept);
    this.edges.splice(0, this.edges.length, ...keptEdges);
    return before - kept.length;
  }

  /**
   * A network ending in Softmax would have softmax applied twice in training,
   * whose cross-entropy takes logits (as PyTorch's CrossEntropyLoss): the last
   * Softmax goes, with a note. Returns the node that is the output now.
   */
  dropFinalSoftmax(output: string): string {
    const last = this.nodes.find((n) => n.id === output);
    if (last?.type !== 'Softmax') return output;
    const edge = this.edges.findIndex((e) => e.target === output);
    const feeding = this.edges[edge].source;
    this.nodes.splice(this.nodes.indexOf(last), 1);
    this.edges.splice(edge, 1);
    this.notes.push(
      `removed the final Softmax ('${output}'): training applies cross-entropy to the network's outputs (logits), as PyTorch's CrossEntropyLoss does, so the network and its exports now output logits; apply softmax to them for probabilities (the predicted class is the same)`,
    );
    return feeding;
  }

  /** The project: one Input, the chosen output's ancestors, its final Softmax removed. */
  finish(output: string): Project {
    const inputs = this.nodes.filter((n) => n.type === 'Input');
    if (inputs.length !== 1) {
      throw new Error(
        `the model has ${inputs.length} inputs (${inputs.map((n) => n.id).join(', ')}); a studio network takes one image`,
      );
    }
    this.keepFeeding(this.dropFinalSoftmax(output));
    if (this.nodes.length < 2) {
      throw new Error('the model has no layers between its input and its output: nothing to train');
    }
    return projectSchema.parse({
      format: PROJECT_FORMAT,
      version: PROJECT_VERSION,
      name: this.name,
      nodes: this.nodes,
      edges: this.edges,
    });
  }
}
