/**
 * Optimizers with PyTorch's update rules (torch.optim.SGD, Adam, AdamW), so a
 * run here follows the course's numbers, and with state that can be written to
 * a checkpoint and read back (momentum buffers, Adam moments, step count).
 *
 * Parameters are named by their state-dict key; slots live in tf.Variables
 * keyed `<param>.<slot>` so a checkpoint is a plain TensorMap.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TF } from '../../core/layers/types';
import { checkTrainOptions, type OptimizerName } from '../../core/training/options';
import type { NamedTensor, TensorMap } from '../../core/weights/safetensors';

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** SGD only (PyTorch's `momentum`, dampening 0, no Nesterov). */
  momentum?: number;
  /** SGD and Adam: L2 added to the gradient; AdamW: decoupled decay of the weights. */
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
}

export interface OptimizerState {
  name: OptimizerName;
  /** Updates taken so far (Adam's bias correction needs it). */
  step: number;
  /** Slot tensors keyed `<param key>.<slot name>`. */
  slots: TensorMap;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /** The learning rate of the next step; schedules set it each epoch. */
  lr: number;
  /** One update of every parameter that has a gradient, by parameter key. */
  step(grads: Record<string, tfc.Tensor>): void;
  /** Read asynchronously: WebGPU in Node cannot read tensors synchronously. */
  getState(): Promise<OptimizerState>;
  setState(state: OptimizerState): void;
  dispose(): void;
}

/**
 * How the parameters' variables are kept, when not in PyTorch's layout (a
 * CompiledModel with layout 'kernel'): state is read and written in PyTorch's.
 */
export interface ParameterLayout {
  toPyTorch(key: string, t: NamedTensor): NamedTensor;
  fromPyTorch(key: string, t: NamedTensor): NamedTensor;
}

const PYTORCH_LAYOUT: ParameterLayout = { toPyTorch: (_, t) => t, fromPyTorch: (_, t) => t };

/** The parameter a slot `<param key>.<slot name>` belongs to. */
const paramOf = (slotId: string) => slotId.slice(0, slotId.lastIndexOf('.'));

/** PyTorch's defaults for the hyperparameters not given. */
const ADAM_DEFAULTS = { betas: [0.9, 0.999] as [number, number], eps: 1e-8 };

export function createOptimizer(
  tf: TF,
  params: Map<string, tfc.Variable>,
  config: OptimizerConfig,
  layout: ParameterLayout = PYTORCH_LAYOUT,
): Optimizer {
  const momentum = config.momentum ?? 0;
  const weightDecay = config.weightDecay ?? 0;
  checkTrainOptions(
    { optimizer: config.name, lr: config.lr, momentum, weightDecay },
    { partial: true },
  );
  const [beta1, beta2] = config.betas ?? ADAM_DEFAULTS.betas;
  const eps = config.eps ?? ADAM_DEFAULTS.eps;

  const slots = new Map<string, tfc.Variable>();
  let stepCount = 0;

  /** The slot variable for a parameter, created (as PyTorch does) on its first update. */
  const slot = (key: string, name: string, initial: () => tfc.Tensor): tfc.Variable => {
    const id = `${key}.${name}`;
    let v = slots.get(id);
    if (!v) {
      v = tf.variable(initial(), false);
      slots.set(id, v);
    }
    return v;
  };

  /** Updates one parameter in place with the given gradient, as torch.optim does. */
  const update = (key: string, p: tfc.Variable, grad: tfc.Tensor, lr: number): void => {
    const l2 = () => (weightDecay !== 0 ? tf.add(grad, tf.mul(p, weightDecay)) : grad);
    if (config.name === 'sgd') {
      let g = l2();
      if (momentum !== 0) {
        const fresh = !slots.has(`${key}.momentum_buffer`);
        const buf = slot(key, 'momentum_buffer', () => g);
        if (!fresh) buf.assign(tf.add(tf.mul(buf, momentum), g));
        g = buf;
      }
      p.assign(tf.sub(p, tf.mul(g, lr)));
    } else if (config.name === 'adam') {
      adamUpdate(key, p, l2(), lr);
    } else {
      if (weightDecay !== 0) p.assign(tf.mul(p, 1 - lr * weightDecay));
      adamUpdate(key, p, grad, lr);
    }
  };

  function adamUpdate(key: string, p: tfc.Variable, g: tfc.Tensor, lr: number): void {
    const m = slot(key, 'exp_avg', () => tf.zerosLike(p));
    const v = slot(key, 'exp_avg_sq', () => tf.zerosLike(p));
    m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
    v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
    const biasCorrection1 = 1 - beta1 ** stepCount;
    const biasCorrection2 = 1 - beta2 ** stepCount;
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(biasCorrection2)), eps);
    p.assign(tf.sub(p, tf.mul(tf.div(m, denom), lr / biasCorrection1)));
  }

  const optimizer: Optimizer = {
    name: config.name,
    lr: config.lr,
    step(grads) {
      stepCount++;
      tf.tidy(() => {
        for (const [key, g] of Object.entries(grads)) {
          const p = params.get(key);
          if (!p) throw new Error(`optimizer got a gradient for unknown parameter "${key}"`);
          update(key, p, g, optimizer.lr);
        }
      });
    },
    async getState() {
      const step = stepCount;
      const out: TensorMap = new Map();
      for (const [id, v] of slots) {
        const kept = { shape: [...v.shape], data: new Float32Array(await v.data()) };
        out.set(id, layout.toPyTorch(paramOf(id), kept));
      }
      return { name: config.name, step, slots: out };
    },
    setState(state) {
      if (state.name !== config.name) {
        throw new Error(
          `the checkpoint's optimizer is ${state.name} but this run uses ${config.name}; resume with --optimizer ${state.name}`,
        );
      }
      const kept = new Map<string, NamedTensor>();
      for (const [id, t] of state.slots) {
        const key = paramOf(id);
        const p = params.get(key);
        if (!p) throw new Error(`optimizer state names unknown parameter "${key}"`);
        // The parameter's shape in PyTorch's layout (no values needed for that).
        const pytorchShape = layout.toPyTorch(key, {
          shape: [...p.shape],
          data: new Float32Array(),
        }).shape;
        if (pytorchShape.join('×') !== t.shape.join('×')) {
          throw new Error(
            `optimizer state "${id}" has shape ${t.shape.join('×')} but the parameter is ${pytorchShape.join('×')}`,
          );
        }
        kept.set(id, layout.fromPyTorch(key, t));
      }
      for (const v of slots.values()) v.dispose();
      slots.clear();
      for (const [id, t] of kept) {
        slots.set(id, tf.variable(tf.tensor(t.data, t.shape), false));
      }
      stepCount = state.step;
    },
    dispose() {
      for (const v of slots.values()) v.dispose();
      slots.clear();
    },
  };
  return optimizer;
}
