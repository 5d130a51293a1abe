/**
 * Turns an inferred graph into a runnable tfjs model: one variable per weight
 * (state-dict names; PyTorch's layout, or for training the layout the layer's
 * ops take), a forward pass over the primitives in execution order, and weight
 * import/export (always in PyTorch's layout). Pure: it takes `tf` as a
 * parameter, so it runs on whatever backend the caller has set up.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { GraphInference, PrimitiveNode } from '../infer';
import { ProjectError } from '../issues';
import type { ForwardContext, Tensor, TF, WeightSpec } from '../layers/types';
import { formatShape, shapesEqual } from '../shape';
import type { NamedTensor, TensorMap } from '../weights/safetensors';
import { toKernelLayout, toPyTorchLayout } from './weight-layout';

export type InitScheme = 'pytorch' | 'xavier';

export interface CompileOptions {
  /** 'pytorch' (default): PyTorch's Conv2d/Linear defaults; 'xavier': the course's init_cnn. */
  init?: InitScheme;
  /** Same seed, same initial weights (default 0). Also seeds dropout. */
  seed?: number;
  /** Start from these weights instead (state-dict keys, PyTorch layout). */
  weights?: TensorMap;
  /**
   * 'pytorch' (default): variables in PyTorch's layout, rearranged for the ops
   * in every forward pass. 'kernel': variables in the layout the layer's ops
   * take (WeightSpec.kernelLayout), as training wants: no step rearranges a
   * weight. Weights read and written through the model are PyTorch's either way.
   */
  layout?: 'pytorch' | 'kernel';
}

export interface CompiledModel {
  inference: GraphInference;
  /**
   * By state-dict key, including BatchNorm running stats (non-trainable); in
   * PyTorch's layout unless compiled with layout 'kernel' (see toPyTorch).
   */
  weights: Map<string, tfc.Variable>;
  trainable: tfc.Variable[];
  /** x is NHWC, values as fed; returns logits [N, F] (or NHWC for a 4-D output). */
  forward(x: tfc.Tensor4D, training: boolean): tfc.Tensor;
  /** Every primitive's output by path id (NHWC for feature maps); the caller disposes them. */
  forwardAll(x: tfc.Tensor4D, training: boolean): Map<string, tfc.Tensor>;
  /**
   * Synchronous read: fine on cpu and wasm, but tfjs's WebGPU backend cannot
   * read GPU data synchronously outside a browser (it needs OffscreenCanvas):
   * use readWeights there.
   */
  getWeights(): TensorMap;
  /** The same as getWeights, read asynchronously: works on every backend. */
  readWeights(): Promise<TensorMap>;
  /** Throws naming missing, unexpected or mis-shaped keys. */
  setWeights(weights: TensorMap): void;
  /**
   * Values shaped as the variable of weight `key` is kept (an optimizer's
   * slot, say), in PyTorch's layout; fromPyTorch is the way back.
   */
  toPyTorch(key: string, t: NamedTensor): NamedTensor;
  fromPyTorch(key: string, t: NamedTensor): NamedTensor;
  dispose(): void;
}

/** State-dict key of a primitive's weight: path id with '/' → '.', then '.name'. */
export function weightKey(primitiveId: string, name: string): string {
  return `${primitiveId.replace(/\//g, '.')}.${name}`;
}

/**
 * Uniform bound for a weight under a scheme:
 * - PyTorch's Conv2d/Linear default (kaiming_uniform with a=√5) is ±1/√fanIn,
 *   and their bias is ±1/√fanIn too;
 * - Xavier-uniform (the course's init_cnn) is ±√(6/(fanIn+fanOut)) for kernels;
 *   init_cnn leaves biases at PyTorch's default.
 */
export function initBound(init: WeightSpec['init'], scheme: InitScheme): number {
  if (init.role !== 'kernel' && init.role !== 'bias') return 0;
  if (init.role === 'kernel' && scheme === 'xavier')
    return Math.sqrt(6 / (init.fanIn + init.fanOut));
  return 1 / Math.sqrt(init.fanIn);
}

/** A 31-bit seed from the model seed and a weight key, so each weight's values depend only on those two. */
function seedFor(seed: number, key: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

function initialValue(tf: TF, key: string, spec: WeightSpec, scheme: InitScheme, seed: number) {
  switch (spec.init.role) {
    case 'zeros':
      return tf.zeros(spec.shape);
    case 'ones':
      return tf.ones(spec.shape);
    default: {
      const bound = initBound(spec.init, scheme);
      return tf.randomUniform(spec.shape, -bound, bound, 'float32', seedFor(seed, key));
    }
  }
}

export function compileModel(
  tf: TF,
  inference: GraphInference,
  options: CompileOptions = {},
): CompiledModel {
  if (inference.issues.length > 0) throw new ProjectError(inference.issues);
  const { primitives, inputId, outputId, inputShape } = inference;
  if (inputId === undefined || outputId === undefined || inputShape === undefined) {
    throw new Error('the graph has no input or no output to compile');
  }
  const scheme = options.init ?? 'pytorch';
  const seed = options.seed ?? 0;
  const keepKernelLayout = options.layout === 'kernel';

  const weights = new Map<string, tfc.Variable>();
  const specs = new Map<string, WeightSpec>();
  /** The layout a variable is kept in, where that is not PyTorch's. */
  const kept = (key: string) => (keepKernelLayout ? specs.get(key)?.kernelLayout : undefined);
  /** A tensor in PyTorch's layout, as weight `key`'s variable is kept. */
  const asKept = (key: string, t: tfc.Tensor): tfc.Tensor => {
    const layout = kept(key);
    if (!layout) return t;
    return tf.transpose(layout.reshape ? tf.reshape(t, layout.reshape) : t, layout.perm);
  };
  for (const node of primitives) {
    for (const spec of node.weights) {
      const key = weightKey(node.id, spec.name);
      specs.set(key, spec);
      // Drawn in PyTorch's layout, so a seed gives the same weights in either layout.
      const initial = tf.tidy(() => asKept(key, initialValue(tf, key, spec, scheme, seed)));
      // Unnamed: tfjs makes variable names unique, so several models can coexist.
      weights.set(key, tf.variable(initial, spec.trainable));
      initial.dispose();
    }
  }
  const toPyTorch = (key: string, t: NamedTensor): NamedTensor => {
    const layout = kept(key);
    return layout ? toPyTorchLayout(t, specs.get(key)!.shape, layout) : t;
  };
  const fromPyTorch = (key: string, t: NamedTensor): NamedTensor => {
    const layout = kept(key);
    return layout ? toKernelLayout(t, layout) : t;
  };
  const trainable = [...weights].filter(([key]) => specs.get(key)!.trainable).map(([, v]) => v);
  let dropoutSeed = seed;

  const expectInput = (x: tfc.Tensor) => {
    const [, c, h, w] = inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new Error(
        `the model takes N×${h}×${w}×${c} images (NHWC) but got ${formatShape(x.shape)}; resize the images or change the Input node`,
      );
    }
  };

  /** Runs the primitives in order, handing each output to `keep`; returns the graph output. */
  const run = (x: tfc.Tensor4D, training: boolean, keep: (id: string, t: Tensor) => void) => {
    expectInput(x);
    const values = new Map<string, Tensor>();
    for (const node of primitives) {
      const value = node.id === inputId ? x : evaluate(node, values, training);
      values.set(node.id, value);
      keep(node.id, value);
    }
    return values.get(outputId)!;
  };

  const evaluate = (node: PrimitiveNode, values: Map<string, Tensor>, training: boolean) => {
    const ctx: ForwardContext = {
      tf,
      training,
      weight: (name) => {
        const key = weightKey(node.id, name);
        const w = weights.get(key);
        if (!w) throw new Error(`${node.type} '${node.id}' has no weight '${name}'`);
        const layout = specs.get(key)!.kernelLayout;
        if (!layout || kept(key)) return w;
        return tf.transpose(layout.reshape ? tf.reshape(w, layout.reshape) : w, layout.perm);
      },
      setState: (name, value) => {
        weights.get(weightKey(node.id, name))!.assign(value);
      },
      nextSeed: () => {
        dropoutSeed = (dropoutSeed + 1) % 0x7fffffff;
        return dropoutSeed;
      },
    };
    if (node.def.kind !== 'primitive')
      throw new Error(`${node.type} '${node.id}' computes nothing`);
    const inputs = node.inputs.map((id) => values.get(id)!);
    return node.def.forward(ctx, inputs, node.params, node.inputShapes);
  };

  const model: CompiledModel = {
    inference,
    weights,
    trainable,
    forward: (x, training) => tf.tidy(() => run(x, training, () => {})),
    forwardAll(x, training) {
      const outputs: Record<string, Tensor> = {};
      tf.tidy(() => {
        run(x, training, (id, t) => {
          outputs[id] = t === x ? t.clone() : t;
          tf.keep(outputs[id]);
        });
      });
      return new Map(Object.entries(outputs));
    },
    getWeights() {
      const out: TensorMap = new Map();
      for (const [key, v] of weights) {
        out.set(key, toPyTorch(key, { shape: [...v.shape], data: v.dataSync() as Float32Array }));
      }
      return out;
    },
    async readWeights() {
      const entries = [...weights];
      const data = await Promise.all(entries.map(([, v]) => v.data() as Promise<Float32Array>));
      return new Map(
        entries.map(([key, v], i) => [key, toPyTorch(key, { shape: [...v.shape], data: data[i] })]),
      );
    },
    setWeights(given) {
      const problems: string[] = [];
      for (const [key, v] of weights) {
        const t = given.get(key);
        const shape = specs.get(key)!.shape;
        if (!t) problems.push(`missing '${key}' (${formatShape(shape)})`);
        else if (!shapesEqual(t.shape, shape))
          problems.push(
            `'${key}' is ${formatShape(t.shape)} but the model needs ${formatShape(shape)}`,
          );
        else if (t.data.length !== v.size)
          problems.push(`'${key}' has ${t.data.length} values for shape ${formatShape(t.shape)}`);
      }
      for (const key of given.keys()) {
        // PyTorch's BatchNorm counter carries nothing the studio uses.
        if (!weights.has(key) && !key.endsWith('.num_batches_tracked'))
          problems.push(`unexpected '${key}' (no such weight in this model)`);
      }
      if (problems.length > 0) {
        throw new Error(
          `the weights do not fit this model: ${problems.join('; ')}. Were they saved from a different graph?`,
        );
      }
      for (const [key, v] of weights) {
        const t = given.get(key)!;
        tf.tidy(() => v.assign(asKept(key, tf.tensor(t.data, t.shape))));
      }
    },
    toPyTorch,
    fromPyTorch,
    dispose() {
      for (const v of weights.values()) v.dispose();
    },
  };
  if (options.weights) model.setWeights(options.weights);
  return model;
}
