/**
 * Learning-rate schedules, stepped once per epoch as PyTorch's schedulers are
 * in the course's training loop.
 */
import type { ScheduleName } from '../../core/training/options';

/** StepLR's step size for a run of this length: three decays at most, ×0.1 each. */
export function stepSizeFor(epochs: number): number {
  return Math.max(1, Math.ceil(epochs / 3));
}

/**
 * The learning rate for a zero-based epoch.
 * - constant: the base rate throughout;
 * - step: torch.optim.lr_scheduler.StepLR(step_size=ceil(epochs/3), gamma=0.1);
 * - cosine: CosineAnnealingLR(T_max=epochs, eta_min=0), base rate in the first epoch.
 */
export function learningRateAt(
  schedule: ScheduleName,
  baseLr: number,
  epoch: number,
  epochs: number,
): number {
  switch (schedule) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * 0.1 ** Math.floor(epoch / stepSizeFor(epochs));
    case 'cosine':
      return (baseLr * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
    default:
      throw new Error(`unknown schedule "${schedule as string}"; use constant, step or cosine`);
  }
}
