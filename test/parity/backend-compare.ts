/**
 * Runs the layer parity cases on another tfjs backend (wasm, webgpu) and on
 * the cpu backend, which the PyTorch parity test holds to PyTorch, and reports
 * the largest relative error per case over outputs, updated state and gradients.
 */
import type { TF } from '../../src/core/layers/types';
import {
  type ParityCase,
  type PlainTensor,
  relativeError,
  runInStudio,
  type SideResult,
} from './harness';

export interface BackendDifference {
  name: string;
  /** Largest relative error over everything compared, and where it was. */
  error: number;
  where: string;
}

function worst(a: SideResult, b: SideResult): { error: number; where: string } {
  const pairs: [string, PlainTensor, PlainTensor][] = [
    ['output', a.output, b.output],
    ...Object.keys(b.state).map((k): [string, PlainTensor, PlainTensor] => [
      `state ${k}`,
      a.state[k],
      b.state[k],
    ]),
    ...Object.keys(b.grads ?? {}).map((k): [string, PlainTensor, PlainTensor] => [
      `grad ${k}`,
      a.grads![k],
      b.grads![k],
    ]),
  ];
  let result = { error: 0, where: 'output' };
  for (const [where, x, y] of pairs) {
    const error = relativeError(x, y);
    if (!(error <= result.error)) result = { error, where }; // NaN counts as worst
  }
  return result;
}

/** Compares `backend` (already registered and started) with cpu on every case. */
export async function compareWithCpu(
  tf: TF,
  backend: string,
  cases: ParityCase[],
): Promise<BackendDifference[]> {
  await tf.setBackend('cpu');
  const reference: SideResult[] = [];
  for (const c of cases) reference.push((await runInStudio(tf, c)).studio);
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    throw new Error(`the ${backend} backend did not start (tfjs runs on ${tf.getBackend()})`);
  }
  const differences: BackendDifference[] = [];
  for (const [i, c] of cases.entries()) {
    try {
      differences.push({ name: c.name, ...worst((await runInStudio(tf, c)).studio, reference[i]) });
    } catch (err) {
      differences.push({
        name: c.name,
        error: Number.POSITIVE_INFINITY,
        where: `failed: ${(err as Error).message}`,
      });
    }
  }
  return differences;
}
