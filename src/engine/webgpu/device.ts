/**
 * The GPU device the compiled step shares with tfjs's webgpu backend, so
 * tfjs can wrap the step's weight buffers as the model's tensors
 * (evaluation, checkpoints, exports read them unchanged).
 */
import type { TF } from '../../core/layers/types';
import type { DeviceLimits } from './plan';

/** The parts of tfjs-backend-webgpu's WebGPUBackend the step relies on. */
interface TfjsWebgpuBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
  tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
}

export function tfjsWebgpuBackend(tf: TF): TfjsWebgpuBackend | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const backend = tf.backend() as unknown as Partial<TfjsWebgpuBackend>;
  return backend.device && typeof backend.submitQueue === 'function'
    ? (backend as TfjsWebgpuBackend)
    : undefined;
}

/**
 * Submits what tfjs has encoded but not yet submitted: commands on one queue
 * run in submission order, so tfjs's reads of a weight must go in before a
 * step that changes it.
 */
export function flushTfjs(backend: TfjsWebgpuBackend): void {
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

export function deviceLimits(device: GPUDevice): DeviceLimits {
  return {
    maxBufferSize: device.limits.maxBufferSize,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
  };
}

/** Why a device was lost, in words. */
export function lossReason(info: GPUDeviceLostInfo): string {
  return info.message || info.reason || 'unknown reason';
}

/**
 * Watches tfjs's WebGPU device (none on another backend): the returned
 * function says why it was lost, once it is. On the op-by-op path tfjs's
 * errors after a loss say little (an empty message), so the trainer asks.
 */
export function watchDeviceLoss(tf: TF): () => string | undefined {
  let reason: string | undefined;
  tfjsWebgpuBackend(tf)?.device.lost.then((info) => {
    reason = lossReason(info);
  });
  return () => reason;
}

/** The device's loss, as an error for the run to stop with. */
export class DeviceLost extends Error {
  constructor(readonly reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'DeviceLost';
  }
}
