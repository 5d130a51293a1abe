/**
 * What every layer module of the catalog provides. A layer module exports one
 * (or a family of) `LayerDef` and is listed once in `registry.ts`.
 *
 * Primitive layers give a shape rule (`infer`), their weights (`weights`) and a
 * tfjs forward pass (`forward`); composite blocks give `expand`, a subgraph of
 * other catalog layers, so everything downstream only ever sees primitives.
 * Facts other parts need about a type (its id stem, whether it draws random
 * numbers, learns kernels, or is the user's own block) are declared here too.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Pair, Shape } from '../shape';
import type { Fields, ParamsOf } from './fields';

export type TF = typeof tfc;
export type Tensor = tfc.Tensor;

export type Category =
  | 'input'
  | 'convolution'
  | 'pooling'
  | 'normalization'
  | 'activation'
  | 'dense'
  | 'structure'
  | 'blocks';

export const categoryLabels: Record<Category, string> = {
  input: 'Input',
  convolution: 'Convolution',
  pooling: 'Pooling',
  normalization: 'Normalisation',
  activation: 'Activation',
  dense: 'Dense',
  structure: 'Structure',
  blocks: 'Blocks',
};

/** How one layer widens the receptive field; 'global' when it sees the whole input. */
export type ReceptiveStep = { kernel: Pair; stride: Pair; dilation?: Pair } | 'global';

export interface LayerInference {
  output: Shape;
  /** Multiply-accumulates for the whole batch. */
  macs: number;
  receptive?: ReceptiveStep;
}

export interface WeightSpec {
  /** PyTorch state_dict name within the module: 'weight', 'bias', 'running_mean', … */
  name: string;
  /** PyTorch layout, e.g. Conv2d weight [out, in/groups, kh, kw]. */
  shape: number[];
  /** false for buffers such as BatchNorm's running statistics. */
  trainable: boolean;
  /**
   * 'kernel' weights take the chosen scheme (PyTorch default or Xavier-uniform);
   * 'bias' is uniform in ±1/sqrt(fanIn) as PyTorch does; constants are fixed.
   */
  init:
    | { role: 'kernel' | 'bias'; fanIn: number; fanOut: number }
    | { role: 'zeros' }
    | { role: 'ones' };
  /** How the layer's tfjs ops take this weight, when not in PyTorch's layout. */
  kernelLayout?: KernelLayout;
}

/**
 * A weight's layout for the layer's tfjs ops: PyTorch's array reshaped to
 * `reshape` (when given), then its axes permuted by `perm` (a convolution's
 * [out, in, kh, kw] as tfjs's [kh, kw, in, out]: perm [2, 3, 1, 0]).
 */
export interface KernelLayout {
  reshape?: number[];
  perm: number[];
}

export interface ForwardContext {
  tf: TF;
  training: boolean;
  /** This node's weight by its WeightSpec name, in its kernelLayout (PyTorch's when it has none). */
  weight(name: string): Tensor;
  /** Stores a new value of a non-trainable weight (running statistics) after a training step. */
  setState(name: string, value: Tensor): void;
  /** A fresh seed for random ops (dropout), so seeded runs repeat. */
  nextSeed(): number;
}

export interface SubgraphNode {
  id: string;
  type: string;
  params?: Record<string, unknown>;
  label?: string;
}

export interface SubgraphEdge {
  source: string;
  target: string;
}

/** A block's inside: its entry is its node of type 'Input', its output its only sink. */
export interface Subgraph {
  nodes: SubgraphNode[];
  edges: SubgraphEdge[];
  /**
   * A catalog block's word on problems of its inner nodes (by inner id): which
   * of the block's own parameters fixes them, since the user cannot edit the
   * inner node itself.
   */
  fixes?: Record<string, InnerFix>;
}

/** Which of a block's own parameters fixes a problem of one of its inner nodes. */
export interface InnerFix {
  /** The inner node's field → the block's parameter that sets it. */
  fields?: Record<string, string>;
  /** Any other problem of the inner node: the block's parameter that fixes it, and how. */
  otherwise?: {
    field: string;
    /** The problem said in the block's terms, from the inner node's input shapes. */
    explain(inputShapes: Shape[]): string;
  };
}

export interface ExpandContext {
  /** The project's own reusable blocks, by name. */
  blocks: Record<string, Subgraph & { label?: string }>;
  /** The shape entering the block, N×C×H×W (or N×F). */
  input: Shape;
}

/** What every layer type declares, whatever its kind. */
interface LayerBase<T extends string, P> {
  type: T;
  label: string;
  category: Category;
  /** One line on what it does, shown in the palette and inspector. */
  description: string;
  fields: Fields;
  /** How many incoming edges it takes. */
  inputs: { min: number; max: number };
  /** Ids of new nodes of this type read stem1, stem2, … (presets and the editor): 'conv' for Conv2d. */
  idStem: string;
  /** Lines explaining how the output size follows from the input and params (inspector). */
  explain?(inputs: Shape[], params: P): string[];
}

/** The graph's entry (a block's Input stands for whatever feeds the block). */
export interface InputLayerDef<T extends string = string, P = Record<string, unknown>>
  extends LayerBase<T, P> {
  kind: 'input';
}

/** A layer that computes: shape rule, weights and tfjs forward pass. */
export interface PrimitiveLayerDef<T extends string = string, P = Record<string, unknown>>
  extends LayerBase<T, P> {
  kind: 'primitive';
  /** Output shape and cost for the given (parsed) params. Throws ShapeError. */
  infer(inputs: Shape[], params: P): LayerInference;
  /** Weights in PyTorch layout and naming. */
  weights?(inputs: Shape[], params: P): WeightSpec[];
  /** The tfjs forward pass. Activations are NHWC here (tfjs's layout). */
  forward(ctx: ForwardContext, inputs: Tensor[], params: P, inputShapes: Shape[]): Tensor;
  /**
   * How many seeds one training forward pass draws from ForwardContext.nextSeed
   * (Dropout: one while 0 < p < 1), so a resumed run continues the same random stream.
   */
  seedsPerPass?(params: P): number;
  /** Its weights are learned kernels (Conv2d, Linear): the layers whose gradients the dashboard follows. */
  learnsKernels?: boolean;
}

/** A composite block: its inside, built from other catalog layers. */
export interface BlockLayerDef<T extends string = string, P = Record<string, unknown>>
  extends LayerBase<T, P> {
  kind: 'block';
  /** Its inside for these params and the shape entering it (run once per use by shape inference). */
  expand(params: P, ctx: ExpandContext): Subgraph;
  /**
   * Defined by the project rather than the catalog (the user's own blocks): the
   * palette offers one entry per project block and a card lists what it holds.
   */
  userDefined?: boolean;
  /** What a node of this type is called instead of its type (a user block: the block's name). */
  nameOf?(params: P): string;
}

export type LayerDef<T extends string = string, P = Record<string, unknown>> =
  | InputLayerDef<T, P>
  | PrimitiveLayerDef<T, P>
  | BlockLayerDef<T, P>;

type Definition<D, T extends string, F extends Fields> = Omit<D, 'type' | 'fields' | 'idStem'> & {
  type: T;
  fields: F;
  /** Defaults to the type in lower case. */
  idStem?: string;
};

/**
 * A layer module's definition. Its parameter type is derived from its fields,
 * so shape rules, forward passes and exporters read typed params.
 */
export function defineLayer<const T extends string, F extends Fields>(
  def: Definition<Omit<PrimitiveLayerDef<T, ParamsOf<F>>, 'kind'>, T, F>,
): PrimitiveLayerDef<T, ParamsOf<F>> {
  return { ...def, kind: 'primitive', idStem: def.idStem ?? def.type.toLowerCase() };
}

export function defineBlock<const T extends string, F extends Fields>(
  def: Definition<Omit<BlockLayerDef<T, ParamsOf<F>>, 'kind'>, T, F>,
): BlockLayerDef<T, ParamsOf<F>> {
  return { ...def, kind: 'block', idStem: def.idStem ?? def.type.toLowerCase() };
}

export function defineInput<const T extends string, F extends Fields>(
  def: Definition<Omit<InputLayerDef<T, ParamsOf<F>>, 'kind'>, T, F>,
): InputLayerDef<T, ParamsOf<F>> {
  return { ...def, kind: 'input', idStem: def.idStem ?? def.type.toLowerCase() };
}
