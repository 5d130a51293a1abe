/**
 * The optimizer update of every trainable parameter at once: parameters,
 * gradients and optimizer slots live in arenas with one layout, so one
 * dispatch updates them all (PyTorch's rules, as optimizers.ts applies them
 * op by op). A step whose loss was not finite (metrics[2] = 0) changes nothing.
 * Momentum buffers start at zero: with dampening 0, PyTorch's first buffer
 * (the gradient itself) is the same value.
 */
import { type Kernel, MAIN_1D } from '../kernel';

export type OptimizerKind = 'sgd' | 'sgd-momentum' | 'adam' | 'adamw';

/** Slots per kind, in arena order, with PyTorch's state names. */
export const OPTIMIZER_SLOTS: Record<OptimizerKind, string[]> = {
  sgd: [],
  'sgd-momentum': ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
};

const UPDATE: Record<OptimizerKind, string> = {
  sgd: `
  let g = grads[i] + p.weightDecay * w;
  params[i] = w - step.lr * g;`,
  'sgd-momentum': `
  let g = grads[i] + p.weightDecay * w;
  let b = p.momentum * slot0[i] + g;
  slot0[i] = b;
  params[i] = w - step.lr * b;`,
  adam: `
  let g = grads[i] + p.weightDecay * w;
  let m = p.beta1 * slot0[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * slot1[i] + (1.0 - p.beta2) * g * g;
  slot0[i] = m; slot1[i] = v;
  let denom = sqrt(v) / sqrt(step.biasCorrection2) + p.eps;
  params[i] = w - (step.lr / step.biasCorrection1) * (m / denom);`,
  adamw: `
  let g = grads[i];
  let decayed = w * (1.0 - step.lr * p.weightDecay);
  let m = p.beta1 * slot0[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * slot1[i] + (1.0 - p.beta2) * g * g;
  slot0[i] = m; slot1[i] = v;
  let denom = sqrt(v) / sqrt(step.biasCorrection2) + p.eps;
  params[i] = decayed - (step.lr / step.biasCorrection1) * (m / denom);`,
};

export function optimizerKernel(kind: OptimizerKind): Kernel {
  const slots = OPTIMIZER_SLOTS[kind];
  return {
    key: `optimizer:${kind}`,
    class: 'optimizer',
    params: [
      ['count', 'u32'],
      ['weightDecay', 'f32'],
      ['momentum', 'f32'],
      ['beta1', 'f32'],
      ['beta2', 'f32'],
      ['eps', 'f32'],
    ],
    usesStep: true,
    storage: [
      { name: 'metrics', access: 'read' },
      { name: 'params', access: 'read_write' },
      { name: 'grads', access: 'read' },
      ...slots.map((_, i) => ({ name: `slot${i}`, access: 'read_write' as const })),
    ],
    body: `
${MAIN_1D}
  if (i >= p.count || metrics[2] == 0.0) { return; }
  let w = params[i];${UPDATE[kind]}
}`,
  };
}
