/**
 * The compiled step as the trainer's step and optimizer (training/step.ts's
 * seam): batches go in as raw rows (a resize runs on the GPU), the numbers
 * come back a few steps behind, and the optimizer's learning rate and state
 * (for schedules and checkpoints) are the compiled step's.
 */

import type { OptimizerName } from '../../core/training/options';
import type { Split } from '../data';
import type { Optimizer } from '../training/optimizers';
import { batchValues, type TrainingStep } from '../training/step';
import type { CompiledStep } from './executor';

/** Steps under way before the trainer reads the oldest one's numbers. */
const STEPS_IN_FLIGHT = 2;

export function compiledTrainingStep(step: CompiledStep): TrainingStep {
  return {
    execution: 'compiled',
    inFlight: STEPS_IN_FLIGHT,
    async run(split, rows, { layerStats, augment }) {
      const { metrics } = await step.step(batchValues(split, rows, augment), { layerStats });
      return { result: metrics };
    },
    evaluate: (split, batches) => step.evaluate(inputsOf(split, batches)),
    dispose: () => step.dispose(),
  };
}

/** Each batch's values as the evaluation reaches it (not the whole split at once). */
function* inputsOf(split: Split, batches: Int32Array[]) {
  for (const rows of batches) yield batchValues(split, rows);
}

/** The compiled step's update rule, seen as the run's optimizer. */
export function compiledOptimizer(step: CompiledStep, name: OptimizerName): Optimizer {
  return {
    name,
    get lr() {
      return step.lr;
    },
    set lr(value: number) {
      step.lr = value;
    },
    step() {
      throw new Error('the compiled WebGPU step updates the weights itself');
    },
    getState: () => step.getOptimizerState(),
    setState: (state) => step.setOptimizerState(state),
    dispose() {},
  };
}
