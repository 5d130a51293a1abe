/**
 * What every layer module of the catalog provides. A layer module exports one
 * (or a family of) `LayerDef` and is listed once in `registry.ts`.
 *
 * Primitive layers give a shape rule (`infer`), their weights (`weights`) and a
 * tfjs forward pass (`forward`); composite blocks give `expand`, a subgraph of
 * other catalog layers, so everything downstream only ever sees primitives.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Pair, Shape } from '../shape';
import type { Fields } from './fields';

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

/** A block's inside: its entry is its node of type 'Input', its output its only sink. */
export interface Subgraph {
  nodes: SubgraphNode[];
  edges: { source: string; target: string }[];
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
}

export interface LayerDef {
  type: string;
  label: string;
  category: Category;
  /** One line on what it does, shown in the palette and inspector. */
  description: string;
  fields: Fields;
  /** How many incoming edges it takes. */
  inputs: { min: number; max: number };
  /** Primitive layers: output shape and cost for the given (parsed) params. Throws ShapeError. */
  infer?(inputs: Shape[], params: Record<string, unknown>): LayerInference;
  /** Primitive layers: weights in PyTorch layout and naming. */
  weights?(inputs: Shape[], params: Record<string, unknown>): WeightSpec[];
  /** Primitive layers: the tfjs forward pass. Activations are NHWC here (tfjs's layout). */
  forward?(
    ctx: ForwardContext,
    inputs: Tensor[],
    params: Record<string, unknown>,
    inputShapes: Shape[],
  ): Tensor;
  /** Composite blocks: their inside, built from other catalog layers. */
  expand?(params: Record<string, unknown>, ctx: ExpandContext): Subgraph;
  /** Lines explaining how the output size follows from the input and params (inspector). */
  explain?(inputs: Shape[], params: Record<string, unknown>): string[];
}

/** A layer definition written against its own parsed parameter type. */
export interface TypedLayerDef<P>
  extends Pick<LayerDef, 'type' | 'label' | 'category' | 'description' | 'fields' | 'inputs'> {
  infer?(inputs: Shape[], params: P): LayerInference;
  weights?(inputs: Shape[], params: P): WeightSpec[];
  forward?(ctx: ForwardContext, inputs: Tensor[], params: P, inputShapes: Shape[]): Tensor;
  expand?(params: P, ctx: ExpandContext): Subgraph;
  explain?(inputs: Shape[], params: P): string[];
}

/** Lets a module type its params once; the registry stores it untyped. */
export function defineLayer<P>(def: TypedLayerDef<P>): LayerDef {
  return def as unknown as LayerDef;
}
