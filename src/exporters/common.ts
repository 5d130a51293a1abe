/**
 * What every exporter shares: the input (a valid project's expanded graph and
 * its weights in PyTorch layout), the output (files, not yet written, so the
 * studio can list them before writing), and the error that names the node a
 * format cannot express.
 */
import type { Project } from '../core/document/schema';
import type { GraphInference, PrimitiveNode, PrimitiveNodeOf } from '../core/infer';
import type { PrimitiveType } from '../core/layers/registry';
import type { NamedTensor, TensorMap } from '../core/weights/safetensors';

export const exportFormats = ['tfjs', 'onnx', 'pytorch'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export const formatLabels: Record<ExportFormat, string> = {
  tfjs: 'TensorFlow.js Layers (model.json + weights.bin)',
  onnx: 'ONNX (opset 13, NCHW)',
  pytorch: 'PyTorch package (model.py, weights.safetensors, train.py)',
};

export interface ExportInput {
  project: Project;
  /** `inferValidGraph(project)`: primitives in execution order, with shapes and weight specs. */
  inference: GraphInference;
  /** By state-dict key, PyTorch layout (compileModel(...).getWeights()). */
  weights: TensorMap;
}

export interface ExportFile {
  /** Relative to the export folder, '/' separated. */
  path: string;
  contents: Uint8Array | string;
  /** One line for the file list the studio shows. */
  description: string;
}

export interface ExportBundle {
  format: ExportFormat;
  files: ExportFile[];
}

/** A graph the format cannot express: names the node and the reason. */
export class ExportError extends Error {
  constructor(
    readonly format: ExportFormat,
    readonly nodeId: string,
    readonly reason: string,
  ) {
    super(`cannot export to ${format}: node '${nodeId}': ${reason}`);
    this.name = 'ExportError';
  }
}

/**
 * One emitter per primitive layer type, each reading its type's own
 * parameters: a type missing from a table is a compile error. A type a format
 * cannot express still has an entry, which throws an ExportError saying why.
 */
export type EmitterTable<Ctx, R = void> = {
  [T in PrimitiveType]: (node: PrimitiveNodeOf<T>, ctx: Ctx) => R;
};

/** Runs a node's entry of the table. */
export function emit<Ctx, R>(table: EmitterTable<Ctx, R>, node: PrimitiveNode, ctx: Ctx): R {
  // The lookup by node.type loses the link between the type and its entry's parameter type.
  const entry = table[node.type] as (node: PrimitiveNode, ctx: Ctx) => R;
  return entry(node, ctx);
}

/** State-dict key prefix of a primitive: its path id with '/' → '.'. */
export function stateKey(nodeId: string): string {
  return nodeId.replaceAll('/', '.');
}

/** A primitive's weight by its PyTorch name, checked against the shape the graph expects. */
export function weightOf(
  format: ExportFormat,
  input: ExportInput,
  node: PrimitiveNode,
  name: string,
): NamedTensor {
  const key = `${stateKey(node.id)}.${name}`;
  const tensor = input.weights.get(key);
  const spec = node.weights.find((w) => w.name === name);
  if (!tensor) throw new ExportError(format, node.id, `the weights have no tensor '${key}'`);
  if (spec && spec.shape.join('×') !== tensor.shape.join('×')) {
    throw new ExportError(
      format,
      node.id,
      `weight '${key}' has shape ${tensor.shape.join('×')} but the graph expects ${spec.shape.join('×')}; the weights belong to a different version of the project`,
    );
  }
  return tensor;
}

/** Reorders a tensor's axes (row-major), e.g. PyTorch [O,I,kh,kw] → Keras [kh,kw,I,O] with [2,3,1,0]. */
export function transposeTensor(t: NamedTensor, perm: number[]): NamedTensor {
  const shape = perm.map((axis) => t.shape[axis]);
  const rank = t.shape.length;
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let axis = rank - 1; axis >= 0; axis--) {
    inStrides[axis] = stride;
    stride *= t.shape[axis];
  }
  const permStrides = perm.map((axis) => inStrides[axis]);
  const out = new Float32Array(t.data.length);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let from = 0;
    for (let axis = 0; axis < rank; axis++) from += index[axis] * permStrides[axis];
    out[i] = t.data[from];
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return { shape, data: out };
}

/** A bundle's text file list, for the CLI and the dialog. */
export function describeBundle(bundle: ExportBundle): string[] {
  return bundle.files.map((f) => `${f.path}  ${f.description}`);
}

export function byteLength(file: ExportFile): number {
  return typeof file.contents === 'string'
    ? new TextEncoder().encode(file.contents).length
    : file.contents.length;
}
