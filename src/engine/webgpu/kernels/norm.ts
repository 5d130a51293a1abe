/**
 * BatchNorm (1d and 2d: both normalise the columns of a [rows, C] matrix)
 * in training and evaluation, with PyTorch's running statistics and the
 * closed-form gradient of norm.ts (core):
 *   forward (training): per-channel mean and biased variance (one Welford
 *   pass), running_mean/var moved by momentum (unbiased variance), then
 *   y = (x − mean)·invstd·γ + β;
 *   backward: s1 = Σdy, s2 = Σdy·(x − mean); dβ = s1, dγ = s2·invstd;
 *   dx = k·dy − k·dβ/n − (x − mean)·k·invstd·dγ/n with k = γ·invstd.
 */
import { type Kernel, MAIN_1D } from '../kernel';
import { ACTIVATIONS, type ActivationKind, type GradWrite } from './elementwise';
import type { ColumnReduction } from './reduce';

/**
 * Training statistics: writes stats = [mean (C), invstd (C)] and moves the
 * running statistics.
 */
export const BATCH_NORM_STATISTICS: ColumnReduction = {
  key: 'bn-stats',
  class: 'normalisation',
  accumulator: 'welford',
  inputs: [{ name: 'x', access: 'read' }],
  value: 'let v = x[i];',
  outputs: [
    { name: 'stats', access: 'read_write' },
    { name: 'running_mean', access: 'read_write' },
    { name: 'running_var', access: 'read_write' },
  ],
  params: [
    ['eps', 'f32'],
    ['momentum', 'f32'],
  ],
  finish: `
  let variance = m2 / n;
  stats[c] = mean;
  stats[p.C + c] = inverseSqrt(variance + p.eps);
  running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
  running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * variance * n / (n - 1.0);`,
};

/**
 * The gradient that reaches the BatchNorm: dy, or when an activation was
 * fused into it, dy times the activation's slope at its output y (so the
 * activation's own backward pass is this one).
 */
const incoming = (activation?: ActivationKind) =>
  activation ? `dy[i] * (${ACTIVATIONS[activation].slope('y[i]')})` : 'dy[i]';

/**
 * Backward sums; writes dγ and dβ, and coef = [mean, k, −k·dβ/n, −k·invstd·dγ/n]
 * (each C long) for the input gradient.
 */
export const batchNormGradient = (activation?: ActivationKind): ColumnReduction => ({
  key: `bn-grad${activation ? `:${activation}` : ''}`,
  class: 'normalisation',
  accumulator: 'sum2',
  inputs: [
    { name: 'dy', access: 'read' },
    { name: 'x', access: 'read' },
    { name: 'stats', access: 'read' },
    ...(activation ? [{ name: 'y', access: 'read' as const }] : []),
  ],
  value: `let v = ${incoming(activation)}; let v2 = v * (x[i] - stats[c]);`,
  outputs: [
    { name: 'stats_in', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'grad_gamma', access: 'read_write' },
    { name: 'grad_beta', access: 'read_write' },
    { name: 'coef', access: 'read_write' },
  ],
  finish: `
  let invstd = stats_in[p.C + c];
  let dBeta = s1;
  let dGamma = s2 * invstd;
  grad_gamma[c] = dGamma;
  grad_beta[c] = dBeta;
  let k = gamma[c] * invstd;
  coef[c] = stats_in[c];
  coef[p.C + c] = k;
  coef[2u * p.C + c] = -k * dBeta / rows;
  coef[3u * p.C + c] = -k * invstd * dGamma / rows;`,
});

const PER_CHANNEL_PARAMS: [string, 'u32' | 'f32'][] = [
  ['count', 'u32'],
  ['C', 'u32'],
  ['eps', 'f32'],
  ['slope', 'f32'],
];

/** y = (x − mean)·invstd·γ + β with the batch statistics (then an activation, when fused). */
export function batchNormApply(activation?: ActivationKind): Kernel {
  return {
    key: `bn-apply${activation ? `:${activation}` : ''}`,
    class: 'normalisation',
    params: PER_CHANNEL_PARAMS,
    storage: [
      { name: 'x_in', access: 'read' },
      { name: 'stats', access: 'read' },
      { name: 'gamma', access: 'read' },
      { name: 'beta', access: 'read' },
      { name: 'y', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  let c = i % p.C;
  let x = (x_in[i] - stats[c]) * stats[p.C + c] * gamma[c] + beta[c];
  y[i] = ${activation ? ACTIVATIONS[activation].forward : 'x'};
}`,
  };
}

/** Evaluation: y = (x − running_mean)/√(running_var + eps)·γ + β (then an activation, when fused). */
export function batchNormEval(activation?: ActivationKind): Kernel {
  return {
    key: `bn-eval${activation ? `:${activation}` : ''}`,
    class: 'normalisation',
    params: PER_CHANNEL_PARAMS,
    storage: [
      { name: 'x_in', access: 'read' },
      { name: 'running_mean', access: 'read' },
      { name: 'running_var', access: 'read' },
      { name: 'gamma', access: 'read' },
      { name: 'beta', access: 'read' },
      { name: 'y', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  let c = i % p.C;
  let x = (x_in[i] - running_mean[c]) * inverseSqrt(running_var[c] + p.eps) * gamma[c] + beta[c];
  y[i] = ${activation ? ACTIVATIONS[activation].forward : 'x'};
}`,
  };
}

/** dx from the coefficients batchNormGradient wrote. */
export function batchNormInputGradient(mode: GradWrite, activation?: ActivationKind): Kernel {
  return {
    key: `bn-dx:${mode}${activation ? `:${activation}` : ''}`,
    class: 'normalisation',
    params: PER_CHANNEL_PARAMS,
    storage: [
      { name: 'dy', access: 'read' },
      { name: 'x', access: 'read' },
      { name: 'coef', access: 'read' },
      { name: 'dx', access: 'read_write' },
      ...(activation ? [{ name: 'y', access: 'read' as const }] : []),
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  let c = i % p.C;
  let g = coef[p.C + c] * ${incoming(activation)} + coef[2u * p.C + c] + (x[i] - coef[c]) * coef[3u * p.C + c];
  dx[i] ${mode === 'accumulate' ? '+=' : '='} g;
}`,
  };
}
