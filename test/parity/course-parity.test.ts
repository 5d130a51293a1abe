/**
 * Output parity of every block and every preset with the course's PyTorch
 * definitions (course_models.py): the studio compiles the graph, draws
 * weights (BatchNorm statistics randomised so inference-mode BatchNorm does
 * real work), runs a random input; PyTorch runs the course's model with the
 * same weights and input, all cases in one Python process. Outputs must agree
 * within 1e-4 relative error. Presets run on small inputs where their layout
 * allows, to stay fast.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compileModel } from '../../src/core/compile/model';
import { inferValidGraph } from '../../src/core/infer';
import type { TF } from '../../src/core/layers/types';
import { getPreset } from '../../src/core/presets/index';
import type { Shape } from '../../src/core/shape';
import { encodeSafetensors, type NamedTensor } from '../../src/core/weights/safetensors';
import { describeWith, PYTHON, pytorch } from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';
import { blockCases, blockGraph } from './course-cases';
import { type PlainTensor, relativeError } from './harness';

const TOLERANCE = 1e-4;

interface Case {
  name: string;
  graph: Parameters<typeof inferValidGraph>[0];
  model: { preset: string } | { block: string; params: Record<string, unknown> };
  input: Shape;
  /** Training-mode forward: BatchNorm uses the batch's statistics (no dropout in these cases). */
  training: boolean;
}

/** The smallest inputs (batch 2) each preset's layout takes. */
const presetInputs: Record<string, Shape> = {
  lenet: [2, 1, 28, 28],
  alexnet: [2, 1, 67, 67],
  vgg11: [2, 1, 32, 32],
  'vgg11-tiny': [2, 1, 32, 32],
  nin: [2, 1, 67, 67],
  googlenet: [2, 1, 32, 32],
  resnet18: [2, 1, 32, 32],
  resnext18: [2, 1, 32, 32],
  densenet: [2, 1, 32, 32],
};

const hasBatchNorm = (type: string) =>
  ['Residual', 'ResNeXtBlock', 'DenseBlock', 'TransitionBlock'].includes(type);

const cases: Case[] = [
  ...blockCases.flatMap((c) =>
    [false, ...(hasBatchNorm(c.type) ? [true] : [])].map((training) => ({
      name: `${c.type} ${JSON.stringify(c.params)}${training ? ' (training)' : ''}`,
      graph: blockGraph(c),
      model: { block: c.type, params: c.params },
      input: c.input,
      training,
    })),
  ),
  ...Object.entries(presetInputs).map(([name, input]) => ({
    name: `preset ${name}`,
    graph: getPreset(name)!.build(),
    model: { preset: name },
    input,
    training: false,
  })),
  {
    name: 'preset resnet18 (training)',
    graph: getPreset('resnet18')!.build(),
    model: { preset: 'resnet18' },
    // Batch statistics over few values are ill-conditioned (1×1 maps in b5 at 32×32): give BatchNorm 16 per channel.
    input: [4, 1, 64, 64],
    training: true,
  },
];

/** Runs the studio side, writes weights and input for PyTorch; returns the request entry and the studio's output. */
function runStudio(tf: TF, c: Case, file: string, seed: number) {
  const inference = inferValidGraph(c.graph, { inputShape: c.input });
  const model = compileModel(tf, inference, { init: 'pytorch', seed });
  const weights = model.getWeights();
  // Fresh BatchNorm is nearly the identity in inference mode; give it statistics and an affine part.
  let draw = seed;
  const uniform = (shape: number[], lo: number, hi: number): NamedTensor => {
    const t = tf.randomUniform(shape, lo, hi, 'float32', ++draw);
    const data = t.dataSync() as Float32Array;
    t.dispose();
    return { shape, data };
  };
  const modules: [string, string[]][] = [];
  for (const p of inference.primitives) {
    if (p.weights.length === 0) continue;
    const prefix = p.id.replaceAll('/', '.');
    modules.push([prefix, p.weights.map((w) => w.name)]);
    if (p.type !== 'BatchNorm2d') continue;
    const [channels] = p.weights[0].shape;
    weights.set(`${prefix}.weight`, uniform([channels], 0.5, 1.5));
    weights.set(`${prefix}.bias`, uniform([channels], -0.5, 0.5));
    weights.set(`${prefix}.running_mean`, uniform([channels], -0.5, 0.5));
    weights.set(`${prefix}.running_var`, uniform([channels], 0.5, 1.5));
  }
  model.setWeights(weights);
  let x: NamedTensor = { shape: c.input, data: new Float32Array() };
  let output: PlainTensor = { shape: [], data: [] };
  tf.tidy(() => {
    const xNCHW = tf.randomUniform(c.input, -1, 1, 'float32', seed + 1000);
    const y = model.forward(tf.transpose(xNCHW, [0, 2, 3, 1]) as tfc.Tensor4D, c.training);
    const yTorch = y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
    x = { shape: c.input, data: xNCHW.dataSync() as Float32Array };
    output = { shape: [...yTorch.shape], data: Array.from(yTorch.dataSync()) };
  });
  model.dispose();
  weights.set('x', x);
  writeFileSync(file, encodeSafetensors(weights));
  return { request: { name: c.name, model: c.model, file, modules, training: c.training }, output };
}

describeWith([pytorch], 'blocks and presets: same outputs as the course’s PyTorch models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'course-parity-'));
  const studio = new Map<string, PlainTensor>();
  let torch: Record<string, { output: PlainTensor } | { error: string }>;

  beforeAll(async () => {
    const tf = await cpuTf();
    const requests = cases.map((c, i) => {
      const { request, output } = runStudio(tf, c, join(dir, `case${i}.safetensors`), 10 + i);
      studio.set(c.name, output);
      return request;
    });
    const script = fileURLToPath(new URL('./course_parity.py', import.meta.url));
    const stdout = execFileSync(PYTHON, [script], {
      input: JSON.stringify({ cases: requests }),
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    torch = JSON.parse(stdout).results;
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of cases) {
    it(`${c.name} on ${c.input.join('×')}`, () => {
      const reference = torch[c.name];
      if ('error' in reference) throw new Error(`PyTorch could not run it: ${reference.error}`);
      const ours = studio.get(c.name)!;
      expect(ours.shape).toEqual(reference.output.shape);
      expect(relativeError(ours, reference.output)).toBeLessThan(TOLERANCE);
    });
  }
});
