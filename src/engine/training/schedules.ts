/**
 * Learning-rate schedules, stepped once per epoch as PyTorch's schedulers are
 * in the course's training loop.
 */
import type { TrainOptions } from '../../core/training/options';

/** What a schedule reads of a run's options. */
export type ScheduleOptions = Pick<
  TrainOptions,
  'schedule' | 'lr' | 'epochs' | 'stepSize' | 'gamma' | 'etaMin'
>;

/** StepLR's step size when none is given: a third of the run (three drops at most). */
export function stepSizeFor(epochs: number): number {
  return Math.max(1, Math.ceil(epochs / 3));
}

/**
 * The learning rate for a zero-based epoch.
 * - constant: the base rate throughout;
 * - step: torch.optim.lr_scheduler.StepLR(step_size, gamma), step_size by default a third of the run;
 * - cosine: CosineAnnealingLR(T_max=epochs, eta_min), the base rate in the first epoch.
 */
export function learningRateAt(options: ScheduleOptions, epoch: number): number {
  const { schedule, lr, epochs } = options;
  switch (schedule) {
    case 'constant':
      return lr;
    case 'step':
      return lr * options.gamma ** Math.floor(epoch / (options.stepSize ?? stepSizeFor(epochs)));
    case 'cosine':
      return (
        options.etaMin + ((lr - options.etaMin) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2
      );
    default:
      throw new Error(`unknown schedule "${schedule as string}"; use constant, step or cosine`);
  }
}
