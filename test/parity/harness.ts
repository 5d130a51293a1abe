/**
 * PyTorch parity harness: builds a studio graph, runs it through the compiled
 * tfjs model, runs the same graph with the same weights and input in real
 * PyTorch (torch_graph.py, all cases in one process, each layer the nn module
 * the PyTorch export writes for it), and returns both sides in PyTorch layout
 * for comparison.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type * as tfc from '@tensorflow/tfjs-core';
import { compileModel, type InitScheme } from '../../src/core/compile/model';
import { inferValidGraph } from '../../src/core/infer';
import type { TF } from '../../src/core/layers/types';
import type { Shape } from '../../src/core/shape';
import type { TensorMap } from '../../src/core/weights/safetensors';
import { torchModuleOf } from '../../src/exporters/pytorch/export';
import { PYTHON } from '../support/requirements';

export interface PlainTensor {
  shape: number[];
  data: number[];
}

/** A graph as shape inference takes it: nodes, edges and the project's own blocks. */
export type GraphSpec = Parameters<typeof inferValidGraph>[0];

export interface ParityCase {
  name: string;
  graph: GraphSpec;
  /** [N, C, H, W] */
  input: Shape;
  training?: boolean;
  init?: InitScheme;
  seed?: number;
  /** Input values drawn uniformly from this range (default [-1, 1]). */
  range?: [number, number];
  /** Class labels: also compare the gradients of the mean cross-entropy. */
  labels?: number[];
}

export interface SideResult {
  output: PlainTensor;
  /** Every weight and buffer after the run (BatchNorm running stats move in training). */
  state: Record<string, PlainTensor>;
  grads?: Record<string, PlainTensor>;
  loss?: number;
}

export interface ParityResult {
  studio: SideResult;
  torch: SideResult | { error: string };
}

/** A chain Input → layers…, ids l1, l2, … unless given. */
export function chain(
  input: Shape,
  ...layers: { type: string; params?: Record<string, unknown>; id?: string }[]
): GraphSpec {
  const [, c, h, w] = input;
  const nodes = [
    { id: 'input', type: 'Input', params: { channels: c, height: h, width: w } },
    ...layers.map((l, i) => ({ id: l.id ?? `l${i + 1}`, type: l.type, params: l.params ?? {} })),
  ];
  const edges = nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id }));
  return { nodes, edges };
}

/** Reads a tensor asynchronously (tfjs's WebGPU backend cannot read synchronously in Node) and disposes it. */
async function plain(t: tfc.Tensor): Promise<PlainTensor> {
  const data = Array.from(await t.data());
  t.dispose();
  return { shape: [...t.shape], data };
}

const plainMap = (m: TensorMap) =>
  Object.fromEntries([...m].map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }]));

/** Runs one case through the studio on tf's current backend; `spec` is what PyTorch needs to run it too. */
export async function runInStudio(tf: TF, c: ParityCase) {
  const inference = inferValidGraph(c.graph, { inputShape: c.input });
  // Compiled as training compiles it: weights kept in the layout the ops take.
  const model = compileModel(tf, inference, {
    init: c.init ?? 'pytorch',
    seed: c.seed ?? 1,
    layout: 'kernel',
  });
  const initialWeights = await model.readWeights();
  const [lo, hi] = c.range ?? [-1, 1];
  const inputNCHW = tf.randomUniform(c.input, lo, hi, 'float32', 7);
  const x = tf.transpose(inputNCHW, [0, 2, 3, 1]) as tfc.Tensor4D;
  // NHWC (tfjs) → NCHW (PyTorch); vectors unchanged.
  const torchLayout = (t: tfc.Tensor) => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t);
  let output: tfc.Tensor;
  let loss: tfc.Scalar | undefined;
  const grads: Record<string, tfc.Tensor> = {};
  if (c.labels) {
    const onehot = tf.oneHot(tf.tensor1d(c.labels, 'int32'), inference.outputShape![1]);
    const result = tf.variableGrads(() => {
      const logits = model.forward(x, c.training ?? true);
      output = tf.keep(torchLayout(logits));
      return tf.mean(tf.sum(tf.mul(tf.neg(onehot), tf.logSoftmax(logits)), -1)) as tfc.Scalar;
    }, model.trainable);
    loss = result.value;
    const keyOf = new Map([...model.weights].map(([key, v]) => [v.name, key]));
    for (const [name, g] of Object.entries(result.grads)) grads[keyOf.get(name)!] = g;
    onehot.dispose();
  } else {
    output = tf.tidy(() => torchLayout(model.forward(x, c.training ?? false)));
  }
  const side: SideResult = {
    output: await plain(output!),
    state: plainMap(await model.readWeights()),
  };
  if (loss) {
    side.loss = (await plain(loss)).data[0];
    side.grads = {};
    for (const [key, g] of Object.entries(grads)) {
      const { shape, data } = await plain(g);
      const torchGrad = model.toPyTorch(key, { shape, data: Float32Array.from(data) });
      side.grads[key] = { shape: torchGrad.shape, data: Array.from(torchGrad.data) };
    }
  }
  const input = await plain(inputNCHW);
  x.dispose();
  const spec = {
    name: c.name,
    primitives: inference.primitives.map((p) => ({
      id: p.id,
      type: p.type,
      params: p.params,
      inputs: p.inputs,
      inputShapes: p.inputShapes,
      module: torchModuleOf(p),
    })),
    inputId: inference.inputId,
    outputId: inference.outputId,
    input,
    weights: plainMap(initialWeights),
    training: c.training ?? c.labels !== undefined,
    labels: c.labels,
  };
  model.dispose();
  return { studio: side, spec };
}

/** Runs every case through the studio and, in one Python process, through PyTorch. */
export async function runParity(tf: TF, cases: ParityCase[]): Promise<Map<string, ParityResult>> {
  const studio: Awaited<ReturnType<typeof runInStudio>>[] = [];
  for (const c of cases) studio.push(await runInStudio(tf, c));
  const script = fileURLToPath(new URL('./torch_graph.py', import.meta.url));
  const stdout = execFileSync(PYTHON, [script], {
    input: JSON.stringify({ cases: studio.map((s) => s.spec) }),
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const torch = JSON.parse(stdout).results as Record<string, SideResult | { error: string }>;
  return new Map(cases.map((c, i) => [c.name, { studio: studio[i].studio, torch: torch[c.name] }]));
}

/**
 * max|a − b| / max|b|: the error relative to the reference's scale. Tensors
 * that should be zero (a bias before BatchNorm has zero gradient) are judged
 * against a scale of 1e-3 instead, i.e. an absolute error of 1e-7.
 */
export function relativeError(actual: PlainTensor, expected: PlainTensor): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(
      `shape ${actual.shape.join('×')} differs from PyTorch's ${expected.shape.join('×')}`,
    );
  }
  let diff = 0;
  let scale = 0;
  expected.data.forEach((e, i) => {
    diff = Math.max(diff, Math.abs(actual.data[i] - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return diff / Math.max(scale, 1e-3);
}
