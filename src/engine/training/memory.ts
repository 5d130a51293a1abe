/**
 * Whether a run fits in what its backend can hold, decided from the graph's
 * sizes before anything is allocated: the weights with their gradients and
 * optimizer state, and the activations a training pass keeps for its
 * backward pass. A run that cannot fit is refused with the numbers and what
 * would fit (a batch size, another backend); one whose whole batch does not
 * fit in wasm's heap is split into parts (a micro-batch) that do.
 */
import os from 'node:os';
import type { GraphInference } from '../../core/infer';
import { numel } from '../../core/shape';
import { formatBytes } from '../../core/summary';
import type { TrainOptions } from '../../core/training/options';

const GiB = 2 ** 30;

/**
 * What tfjs's wasm heap can hold: 4 GiB of address space, of which tfjs
 * reaches about half before "memory access out of bounds".
 */
const WASM_HEAP_BYTES = 2 * GiB;
/**
 * Heap a training pass takes per byte of its forward activations (they are
 * kept for the backward pass, which makes as many gradients and temporaries).
 * Measured: ResNet-18 at 96×96 (90 MiB of weights and gradients) trains on
 * wasm with 32 images per pass (181 MiB of activations) and fails with 64
 * (362 MiB): about 10.
 */
const WASM_PASS_FACTOR = 10;
/** The same on backends in the computer's memory (cpu, tensorflow): tfjs there frees as it goes. */
const RAM_PASS_FACTOR = 3;
/** Of the computer's memory, what a run may plan to use. */
const RAM_SHARE = 0.8;

export interface MemoryNeeds {
  /** Weights, their gradients and the optimizer's slots. */
  stateBytes: number;
  /** Forward activations of one image. */
  activationsPerImage: number;
  /** The largest single activation tensor of one image, and the largest weight tensor. */
  largestActivationPerImage: number;
  largestWeight: { id: string; bytes: number };
}

/** Optimizer slots per trainable weight: momentum buffers, Adam's two moments. */
function slotsPerWeight(options: Pick<TrainOptions, 'optimizer' | 'momentum'>): number {
  if (options.optimizer === 'sgd') return options.momentum > 0 ? 1 : 0;
  return 2;
}

/** What a run of this graph (inferred at the run's batch size) needs. */
export function memoryNeeds(
  inference: GraphInference,
  options: Pick<TrainOptions, 'optimizer' | 'momentum' | 'batchSize'>,
): MemoryNeeds {
  let weights = 0;
  let trainable = 0;
  let largestActivation = 0;
  let largestWeight = { id: '', bytes: 0 };
  for (const node of inference.primitives) {
    largestActivation = Math.max(largestActivation, numel(node.outputShape) * 4);
    for (const spec of node.weights) {
      const bytes = numel(spec.shape) * 4;
      weights += bytes;
      if (spec.trainable) trainable += bytes;
      if (bytes > largestWeight.bytes) largestWeight = { id: `${node.id}.${spec.name}`, bytes };
    }
  }
  return {
    stateBytes: weights + trainable * (1 + slotsPerWeight(options)),
    activationsPerImage: inference.totals.memoryBytes / options.batchSize,
    largestActivationPerImage: largestActivation / options.batchSize,
    largestWeight,
  };
}

/** What the backend can hold, as far as it tells. */
export interface BackendLimits {
  /** The most memory the run may use in all (wasm's heap, the computer's memory). */
  totalBytes?: number;
  /** The largest one tensor may be (a WebGPU storage buffer). */
  tensorBytes?: number;
}

/** A run that cannot fit; the message gives the numbers and what would fit. */
export class MemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryError';
  }
}

const optimizerWords = (options: Pick<TrainOptions, 'optimizer' | 'momentum'>) =>
  ({
    0: 'weights and gradients',
    1: 'weights, gradients and momentum',
    2: `weights, gradients and ${options.optimizer === 'adam' ? 'Adam' : 'AdamW'}'s two moments`,
  })[slotsPerWeight(options)];

/**
 * Checks the run against the backend; returns the micro-batch (rows per
 * training pass) when a whole batch does not fit in wasm's heap but parts
 * of it do, undefined when the batch fits. Throws a MemoryError otherwise.
 */
export function planMemory(
  backend: string,
  needs: MemoryNeeds,
  options: Pick<TrainOptions, 'optimizer' | 'momentum' | 'batchSize'>,
  limits: BackendLimits,
): number | undefined {
  const { stateBytes, activationsPerImage, largestActivationPerImage, largestWeight } = needs;
  const { batchSize } = options;
  const state = `its ${optimizerWords(options)} take ${formatBytes(stateBytes)}`;
  if (limits.tensorBytes !== undefined) {
    if (largestWeight.bytes > limits.tensorBytes) {
      throw new MemoryError(
        `the weights of ${largestWeight.id} take ${formatBytes(largestWeight.bytes)}, more than the ${formatBytes(limits.tensorBytes)} ${backend} holds in one tensor; make that layer smaller or train on another backend`,
      );
    }
    const fits = Math.floor(limits.tensorBytes / largestActivationPerImage);
    if (fits < batchSize) {
      throw new MemoryError(
        fits >= 1
          ? `a batch of ${batchSize} needs a tensor of ${formatBytes(largestActivationPerImage * batchSize)}, more than the ${formatBytes(limits.tensorBytes)} ${backend} holds in one; a batch size of ${fits} fits`
          : `one image needs a tensor of ${formatBytes(largestActivationPerImage)}, more than the ${formatBytes(limits.tensorBytes)} ${backend} holds in one; resize the images smaller or train on another backend`,
      );
    }
  }
  if (limits.totalBytes === undefined) return undefined;
  const factor = backend === 'wasm' ? WASM_PASS_FACTOR : RAM_PASS_FACTOR;
  const room = limits.totalBytes - stateBytes;
  const perImage = factor * activationsPerImage;
  const where = `${backend === 'wasm' ? "wasm's memory" : "this computer's memory"} (${formatBytes(limits.totalBytes)} for training)`;
  if (room < perImage) {
    throw new MemoryError(
      `this network does not fit in ${where}: ${state}, and training one image takes about ${formatBytes(perImage)} more. Train on a GPU backend (webgpu, tensorflow), resize the images smaller${slotsPerWeight(options) > 0 ? ', use SGD without momentum' : ''} or make the network smaller`,
    );
  }
  if (room >= perImage * batchSize) return undefined;
  if (backend === 'wasm') {
    // Equal parts, each no larger than what fits: their gradients are summed into one step.
    const parts = Math.ceil(batchSize / Math.floor(room / perImage));
    return Math.ceil(batchSize / parts);
  }
  const fits = Math.floor(room / perImage);
  throw new MemoryError(
    `a batch of ${batchSize} does not fit in ${where}: ${state}, and each image about ${formatBytes(perImage)} more; a batch size of ${fits} fits`,
  );
}

/** What a started backend can hold: wasm's heap, a WebGPU device's buffer limit, the computer's memory. */
export function backendLimits(
  backend: string,
  gpuLimits?: { maxStorageBufferBindingSize?: number },
): BackendLimits {
  switch (backend) {
    case 'wasm':
      return { totalBytes: WASM_HEAP_BYTES };
    case 'webgpu':
      return { tensorBytes: gpuLimits?.maxStorageBufferBindingSize };
    default:
      return { totalBytes: os.totalmem() * RAM_SHARE };
  }
}
