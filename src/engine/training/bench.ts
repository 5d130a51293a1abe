/**
 * Training throughput: a fixed number of SGD steps on a fixed random batch,
 * after one warm-up step (kernel compilation, first allocations), timed to the
 * last step's loss read back. Node only for the PyTorch side.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type * as tfc from '@tensorflow/tfjs-core';
import type { Execution } from '../../api/training-protocol';
import { type CompiledModel, compileModel } from '../../core/compile/model';
import type { Project } from '../../core/document/schema';
import { inferValidGraph } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import { findShippedFile } from '../../node/shipped-files';
import { CompiledStep, type StepInput, type StepMetrics } from '../webgpu/executor';
import { cpuTimeMs, tfjsIssueCost } from '../webgpu/issue-cost';
import { crossEntropy } from './losses';
import { createOptimizer, type Optimizer } from './optimizers';
import { trainStep } from './step';

export interface BenchCase {
  model: string;
  project: Project;
  /** [channels, height, width] fed to the model. */
  input: [number, number, number];
  batchSize: number;
  batches: number;
}

export interface BenchResult {
  model: string;
  batchSize: number;
  batches: number;
  seconds: number;
  samplesPerSec: number;
  execution: Execution;
  /** WebGPU: compute dispatches one step issues. */
  dispatchesPerStep?: number;
  /** WebGPU: CPU milliseconds to issue one step, without waiting for the GPU. */
  issueMs?: number;
  /** The compiled step: GPU milliseconds per kernel class of one step, where the adapter can time passes. */
  gpuMs?: Partial<Record<string, number>>;
}

/**
 * Steps timed to measure the CPU cost of issuing one (it does not depend on
 * the batch): tfjs's take milliseconds each, the compiled step's a tenth of
 * one for LeNet, so it repeats more to rise above the clock's grain.
 */
const ISSUE_REPEATS = 20;
const COMPILED_ISSUE_REPEATS = 200;

interface Bench {
  model: CompiledModel;
  images: Float32Array;
  labels: Int32Array;
  x: tfc.Tensor4D;
  y: tfc.Tensor1D;
}

async function setUp(tf: TF, c: BenchCase, execution: Execution): Promise<Bench> {
  const [channels, height, width] = c.input;
  const inference = inferValidGraph(c.project, {
    inputShape: [c.batchSize, channels, height, width],
  });
  // Op by op, weights kept as the ops take them (as training does); the compiled step takes PyTorch's.
  const layout = execution === 'compiled' ? 'pytorch' : 'kernel';
  const model = compileModel(tf, inference, { init: 'xavier', seed: 0, layout });
  const x = tf.randomUniform(
    [c.batchSize, height, width, channels],
    0,
    1,
    'float32',
    1,
  ) as tfc.Tensor4D;
  const labels = Int32Array.from({ length: c.batchSize }, (_, i) => i % 10);
  const y = tf.tensor1d(labels, 'int32');
  // Read asynchronously: WebGPU in Node cannot read tensors synchronously.
  return { model, images: (await x.data()) as Float32Array, labels, x, y };
}

/**
 * Throughput of `c.batches` SGD steps after one warm-up step; on the
 * compiled path (WebGPU) or op by op through tfjs. On WebGPU also the
 * dispatches per step and the CPU cost of issuing one, and for the compiled
 * step the GPU time per kernel class.
 */
export async function benchTraining(
  tf: TF,
  c: BenchCase,
  execution: Execution = 'op-by-op',
): Promise<BenchResult> {
  const bench = await setUp(tf, c, execution);
  const sgd = { name: 'sgd' as const, lr: 0.01 };
  try {
    if (execution === 'compiled') return await benchCompiled(tf, c, bench, sgd);
    const params = new Map([...bench.model.weights].filter(([, v]) => v.trainable));
    const optimizer = createOptimizer(tf, params, sgd, bench.model);
    try {
      return await benchOpByOp(tf, c, bench, optimizer);
    } finally {
      optimizer.dispose();
    }
  } finally {
    tf.dispose([bench.x, bench.y]);
    bench.model.dispose();
  }
}

const rate = (c: BenchCase, seconds: number) => ({
  model: c.model,
  batchSize: c.batchSize,
  batches: c.batches,
  seconds,
  samplesPerSec: (c.batchSize * c.batches) / seconds,
});

async function benchOpByOp(
  tf: TF,
  c: BenchCase,
  { model, x, y }: Bench,
  optimizer: Optimizer,
): Promise<BenchResult> {
  const lossOf = (logits: tfc.Tensor) => ({ loss: crossEntropy(tf, logits, y) });
  await trainStep(tf, model, optimizer, x, lossOf);
  const start = performance.now();
  // trainStep reads the loss back each step, so every step has finished when it returns.
  for (let i = 0; i < c.batches; i++) await trainStep(tf, model, optimizer, x, lossOf);
  const result: BenchResult = {
    ...rate(c, (performance.now() - start) / 1000),
    execution: 'op-by-op',
  };
  if (tf.getBackend() !== 'webgpu') return result;
  // The same step's forward, backward and update, issued without reading the loss.
  const keyOf = new Map([...model.weights].map(([key, v]) => [v.name, key]));
  const issue = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => crossEntropy(tf, model.forward(x, true), y));
      optimizer.step(
        Object.fromEntries(Object.entries(grads).map(([name, g]) => [keyOf.get(name), g])),
      );
    });
  const cost = await tfjsIssueCost(tf, issue, ISSUE_REPEATS);
  return { ...result, dispatchesPerStep: cost.dispatches, issueMs: cost.issueMs };
}

async function benchCompiled(
  tf: TF,
  c: BenchCase,
  { model, images, labels }: Bench,
  optimizer: { name: 'sgd'; lr: number },
): Promise<BenchResult> {
  const step = await CompiledStep.create(tf, model, { optimizer, batch: c.batchSize });
  try {
    const input: StepInput = { images, labels };
    await (await step.step(input)).metrics;
    const start = performance.now();
    // Steps are submitted without waiting for each one's loss, as training does; the last is read.
    const pending: Promise<StepMetrics>[] = [];
    for (let i = 0; i < c.batches; i++) pending.push((await step.step(input)).metrics);
    await Promise.all(pending);
    const seconds = (performance.now() - start) / 1000;
    const profile = await step.profile(input);
    step.issueOnly(input);
    const issueStart = cpuTimeMs();
    for (let i = 0; i < COMPILED_ISSUE_REPEATS; i++) step.issueOnly(input);
    const issueMs = (cpuTimeMs() - issueStart) / COMPILED_ISSUE_REPEATS;
    await step.settle();
    return {
      ...rate(c, seconds),
      execution: 'compiled',
      dispatchesPerStep: step.dispatchesPerStep,
      issueMs,
      ...(profile.gpuMs ? { gpuMs: profile.gpuMs } : {}),
    };
  } finally {
    step.dispose();
  }
}

const TORCH_SCRIPT = 'test/parity/torch_train.py';

/** Debian's python3-torch lives with the system Python; CONVNET_STUDIO_PYTHON names another. */
export const PYTHON = process.env.CONVNET_STUDIO_PYTHON ?? '/usr/bin/python3';

/** Where PyTorch computes: the CPU with a thread count, or a CUDA GPU when it sees one. */
/** On 'gpu', `threads` is what PyTorch computes with on the CPU where it finds no CUDA GPU. */
export type PyTorchDevice = { kind: 'cpu' | 'gpu'; threads: number };

/** What PyTorch computes with, from torch.__config__. */
export interface TorchLibraries {
  /** The BLAS of matrix products on the CPU ("generic" is the reference BLAS, "mkl", …), or cuBLAS. */
  matmul: string;
  /** "oneDNN 2.6.3", "cuDNN 91002", or ATen's own im2col and BLAS. */
  convolutions: string;
  /** The vector instructions of ATen's CPU kernels (AVX2, AVX512). */
  cpuCapability: string;
  /** ATen's thread pool (OpenMP, native) or CUDA. */
  parallel: string;
}

export interface PyTorchBenchResult extends BenchResult {
  threads: number;
  torch: string;
  /** "cpu" or the CUDA device's name. */
  device: string;
  libraries: TorchLibraries;
}

/**
 * One line on what the PyTorch of a comparison computes with. Debian's
 * build multiplies matrices with the reference BLAS, several times slower
 * than an optimised one, which flatters a ratio where dense layers weigh.
 */
export function describeTorchLibraries(r: PyTorchBenchResult): string {
  const { matmul, convolutions, cpuCapability, parallel } = r.libraries;
  const reference =
    matmul === 'generic'
      ? ' (the reference BLAS: slow matrix products, so slow dense layers, which flatters the ratio of networks where they weigh, such as LeNet)'
      : '';
  return `PyTorch ${r.torch} on ${r.device === 'cpu' ? 'the CPU' : r.device}: matrix products with BLAS ${matmul}${reference}; convolutions with ${convolutions}; CPU kernels ${cpuCapability}; threads by ${parallel}`;
}

/** The same models and batches in PyTorch. */
export async function benchPyTorch(
  cases: Pick<BenchCase, 'model' | 'batchSize' | 'batches'>[],
  device: PyTorchDevice,
): Promise<PyTorchBenchResult[]> {
  const placement = [
    '--threads',
    String(device.threads),
    '--device',
    device.kind === 'cpu' ? 'cpu' : 'auto',
  ];
  const results: PyTorchBenchResult[] = [];
  for (const c of cases) {
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(
        PYTHON,
        [
          findShippedFile(TORCH_SCRIPT) ?? TORCH_SCRIPT,
          'bench',
          '--models',
          c.model,
          '--batches',
          String(c.batches),
          `--${c.model === 'lenet' ? 'lenet' : 'resnet'}-batch`,
          String(c.batchSize),
          ...placement,
        ],
        { maxBuffer: 1 << 20 },
      ));
    } catch (error) {
      throw new Error(
        `PyTorch could not run the benchmark with ${PYTHON} (${(error as Error).message.split('\n')[0]}); install it with: sudo apt-get install -y python3-torch, or name a Python that has torch in CONVNET_STUDIO_PYTHON`,
      );
    }
    results.push(JSON.parse(stdout.trim().split('\n').at(-1) as string));
  }
  return results;
}
