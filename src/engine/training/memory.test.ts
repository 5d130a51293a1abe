import { describe, expect, it } from 'vitest';
import { inferValidGraph } from '../../core/infer';
import { getPreset } from '../../core/presets';
import { backendLimits, MemoryError, memoryNeeds, planMemory } from './memory';

const GiB = 2 ** 30;
const sgd = { optimizer: 'sgd', momentum: 0 } as const;

/** The plan for a preset at an input size and batch on a backend. */
function plan(
  name: string,
  [batchSize, ...chw]: number[],
  backend: string,
  options: { optimizer: 'sgd' | 'adam'; momentum: number } = sgd,
  limits = backendLimits(backend),
) {
  const inference = inferValidGraph(getPreset(name)!.build(), { inputShape: [batchSize, ...chw] });
  const run = { ...options, batchSize };
  return planMemory(backend, memoryNeeds(inference, run), run, limits);
}

describe('memory plans', () => {
  it('splits a batch into micro-batches only where it would not fit in wasm’s heap', () => {
    expect(plan('resnet18', [128, 1, 96, 96], 'wasm')).toBe(32);
    expect(plan('resnet18', [128, 1, 96, 96], 'webgpu')).toBeUndefined();
    expect(plan('lenet', [128, 1, 28, 28], 'wasm')).toBeUndefined();
  });

  it('refuses VGG-11 at 224 on wasm before allocating anything, saying why and what would fit', () => {
    // Its 129 million weights with gradients and momentum take 1.4 GiB of wasm's 2.
    expect(() =>
      plan('vgg11', [512, 1, 224, 224], 'wasm', { optimizer: 'sgd', momentum: 0.9 }),
    ).toThrow(MemoryError);
    expect(() =>
      plan('vgg11', [512, 1, 224, 224], 'wasm', { optimizer: 'sgd', momentum: 0.9 }),
    ).toThrow(
      /does not fit in wasm's memory \(2\.0 GiB for training\): its weights, gradients and momentum take 1\.4 GiB, and training one image takes about 626\.8 MiB more\. Train on a GPU backend/,
    );
    // Without momentum it trains, one image per pass.
    expect(plan('vgg11', [512, 1, 224, 224], 'wasm')).toBe(1);
  });

  it('names a batch size that fits where a batch cannot be split', () => {
    const small = { totalBytes: 4 * GiB };
    expect(() => plan('resnet18', [4096, 1, 96, 96], 'cpu', sgd, small)).toThrow(
      /a batch of 4096 does not fit in this computer's memory \(4\.0 GiB for training\): its weights and gradients take 85\.3 MiB, and each image about 16\.9 MiB more; a batch size of 236 fits/,
    );
    const gpu = { tensorBytes: 512 * 2 ** 20 };
    expect(() => plan('vgg11', [512, 1, 224, 224], 'webgpu', sgd, gpu)).toThrow(
      'a batch of 512 needs a tensor of 6.1 GiB, more than the 512.0 MiB webgpu holds in one; a batch size of 41 fits',
    );
    expect(plan('vgg11', [32, 1, 224, 224], 'webgpu', sgd, gpu)).toBeUndefined();
    expect(() =>
      plan('vgg11', [32, 1, 224, 224], 'webgpu', sgd, { tensorBytes: 128 * 2 ** 20 }),
    ).toThrow(
      'the weights of fc1.weight take 392.0 MiB, more than the 128.0 MiB webgpu holds in one tensor',
    );
  });
});
