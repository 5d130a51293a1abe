/**
 * Dropout in training draws random masks, so its outputs cannot be compared
 * value by value with PyTorch's (layers-parity covers eval mode and p = 0, 1).
 * What must agree is what is dropped and how the rest is scaled: on an input
 * of ones, Dropout zeroes single values and Dropout2d whole N×C maps, the
 * survivors become 1/(1−p), and about a share p is dropped, in the studio and
 * in real PyTorch alike.
 */
import { execFileSync } from 'node:child_process';
import type * as tfc from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { compileModel } from '../../src/core/compile/model';
import { inferValidGraph } from '../../src/core/infer';
import { describeWith, PYTHON, pytorch } from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';
import { chain } from './harness';

const SHAPE = [8, 64, 5, 5];
const P = 0.3;

interface DropStats {
  /** Distinct output values (rounded to 1e-5). */
  values: number[];
  /** Share of dropped values (Dropout) or maps (Dropout2d). */
  dropped: number;
  /** Whether every N×C map is all dropped or all kept. */
  wholeMaps: boolean;
}

function statsOf(out: Float32Array, perMap: number): DropStats {
  const values = [...new Set(Array.from(out, (v) => Math.round(v * 1e5) / 1e5))].sort();
  let zeros = 0;
  let wholeMaps = true;
  for (let m = 0; m < out.length / perMap; m++) {
    const map = out.subarray(m * perMap, (m + 1) * perMap);
    const mapZeros = map.filter((v) => v === 0).length;
    zeros += mapZeros;
    if (mapZeros !== 0 && mapZeros !== perMap) wholeMaps = false;
  }
  return { values, dropped: zeros / out.length, wholeMaps };
}

async function studioStats(type: 'Dropout' | 'Dropout2d'): Promise<DropStats> {
  const tf = await cpuTf();
  const [n, c, h, w] = SHAPE;
  const graph = chain(SHAPE, { type, params: { p: P } });
  const model = compileModel(tf, inferValidGraph(graph, { inputShape: SHAPE }), { seed: 5 });
  // NHWC → NCHW so that each map's values are contiguous.
  const out = tf.tidy(
    () =>
      tf
        .transpose(model.forward(tf.ones([n, h, w, c]) as tfc.Tensor4D, true), [0, 3, 1, 2])
        .dataSync() as Float32Array,
  );
  model.dispose();
  return statsOf(out, h * w);
}

function torchStats(type: 'Dropout' | 'Dropout2d'): DropStats {
  const script = `
import json, torch
torch.manual_seed(5)
out = torch.nn.${type}(${P}).train()(torch.ones(${SHAPE.join(', ')}))
print(json.dumps(out.reshape(-1).tolist()))`;
  const out = Float32Array.from(
    JSON.parse(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' })),
  );
  return statsOf(out, SHAPE[2] * SHAPE[3]);
}

describeWith([pytorch], 'dropout in training drops what PyTorch drops', () => {
  it.each(['Dropout', 'Dropout2d'] as const)('%s', async (type) => {
    const studio = await studioStats(type);
    const torch = torchStats(type);
    const kept = Math.round((1 / (1 - P)) * 1e5) / 1e5;
    for (const side of [studio, torch]) {
      expect(side.values).toEqual([0, kept]);
      // 512 maps or 12,800 values: a share within 0.08 of p is 4 standard deviations or more.
      expect(Math.abs(side.dropped - P)).toBeLessThan(0.08);
    }
    expect(studio.wholeMaps).toBe(type === 'Dropout2d');
    expect(torch.wholeMaps).toBe(type === 'Dropout2d');
  });
});
