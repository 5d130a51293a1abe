/**
 * Every primitive layer against real PyTorch: same weights, same input, the
 * outputs (and BatchNorm's running statistics, and gradients) must agree to
 * within 1e-4 relative error.
 */
import { beforeAll, expect, it } from 'vitest';
import { registerDilatedConvolutionGradients } from '../../src/engine/backends/dilated-gradients';
import { describeWith, pytorch } from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';
import { type ParityResult, relativeError, runParity } from './harness';
import { layerCases } from './layer-cases';

const TOLERANCE = 1e-4;
const cases = layerCases;

describeWith([pytorch], 'primitive layers match PyTorch', () => {
  let results: Map<string, ParityResult>;
  beforeAll(async () => {
    // As the studio trains: tfjs-core cannot differentiate dilated convolutions by itself.
    registerDilatedConvolutionGradients();
    results = await runParity(await cpuTf(), cases);
  });

  const torchSide = (name: string) => {
    const r = results.get(name)!;
    if ('error' in r.torch) throw new Error(`PyTorch failed on this case: ${r.torch.error}`);
    return { studio: r.studio, torch: r.torch };
  };

  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const { studio, torch } = torchSide(name);
    expect(relativeError(studio.output, torch.output)).toBeLessThan(TOLERANCE);
    if (c.training) {
      // Running statistics (and every other weight) after the step.
      for (const [key, value] of Object.entries(torch.state)) {
        expect(relativeError(studio.state[key], value), key).toBeLessThan(TOLERANCE);
      }
    }
    if (c.labels) {
      expect(studio.loss).toBeCloseTo(torch.loss!, 5);
      const keys = Object.keys(torch.grads!);
      expect(Object.keys(studio.grads!).sort()).toEqual(keys.sort());
      for (const key of keys) {
        expect(relativeError(studio.grads![key], torch.grads![key]), key).toBeLessThan(TOLERANCE);
      }
    }
  });

  it('running statistics really moved in training mode', () => {
    const { studio } = torchSide('BatchNorm2d training (output and running stats)');
    const mean = studio.state['l2.running_mean'].data;
    expect(mean.some((v) => Math.abs(v) > 0.01)).toBe(true);
  });
});
