/**
 * What a training step costs the CPU to issue on WebGPU, apart from the GPU's
 * work: the bench's measure of the compiled step against tfjs's op-by-op
 * path. Measured without waiting for the GPU, so an emulated one (SwiftShader)
 * does not compete for the CPU: the compiled step encodes without
 * submitting; tfjs's path runs with its submissions dropped.
 */
import type { TF } from '../../core/layers/types';
import { flushTfjs, tfjsWebgpuBackend } from './device';

/**
 * The process's CPU time so far, in milliseconds (user and system): what
 * issuing costs, where wall time on a busy machine would also count the
 * turns other processes take. (No GPU work runs while it is measured.)
 */
export function cpuTimeMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface IssueCost {
  /** Compute dispatches one step issues. */
  dispatches: number;
  /** CPU milliseconds to issue one step. */
  issueMs: number;
}

/**
 * Runs tfjs's op-by-op step `repeats` times with submissions dropped,
 * counting the dispatches of one. The work never runs, so the weights hold
 * garbage afterwards: measure after everything else.
 */
export async function tfjsIssueCost(tf: TF, step: () => void, repeats: number): Promise<IssueCost> {
  const backend = tfjsWebgpuBackend(tf);
  if (!backend) throw new Error(`tfjs runs on ${tf.getBackend()}, not webgpu`);
  flushTfjs(backend);
  const { queue } = backend.device;
  await queue.onSubmittedWorkDone();
  const pass = GPUComputePassEncoder.prototype;
  const dispatch = pass.dispatchWorkgroups;
  let dispatches = 0;
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args) {
    dispatches++;
    return dispatch.apply(this, args);
  };
  queue.submit = () => undefined;
  try {
    step();
    flushTfjs(backend);
    const perStep = dispatches;
    const started = cpuTimeMs();
    for (let i = 0; i < repeats; i++) {
      step();
      flushTfjs(backend);
    }
    return { dispatches: perStep, issueMs: (cpuTimeMs() - started) / repeats };
  } finally {
    pass.dispatchWorkgroups = dispatch;
    // The instance's own property shadowed the prototype's method.
    delete (queue as { submit?: unknown }).submit;
  }
}
