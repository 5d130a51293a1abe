/**
 * Training throughput: a fixed number of SGD steps on a fixed random batch,
 * after one warm-up step (kernel compilation, first allocations), timed to the
 * last step's loss read back. Node only for the PyTorch side.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type * as tfc from '@tensorflow/tfjs-core';
import { compileModel } from '../../core/compile/model';
import type { Project } from '../../core/document/schema';
import { inferValidGraph } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import { findShippedFile } from '../../node/shipped-files';
import { crossEntropy } from './losses';
import { createOptimizer } from './optimizers';
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
}

export async function benchTraining(tf: TF, c: BenchCase): Promise<BenchResult> {
  const [channels, height, width] = c.input;
  const inference = inferValidGraph(c.project, {
    inputShape: [c.batchSize, channels, height, width],
  });
  const model = compileModel(tf, inference, { init: 'xavier', seed: 0 });
  const params = new Map([...model.weights].filter(([, v]) => v.trainable));
  const optimizer = createOptimizer(tf, params, { name: 'sgd', lr: 0.01 });
  const x = tf.randomUniform(
    [c.batchSize, height, width, channels],
    0,
    1,
    'float32',
    1,
  ) as tfc.Tensor4D;
  const y = tf.tensor1d(
    Array.from({ length: c.batchSize }, (_, i) => i % 10),
    'int32',
  );
  const lossOf = (logits: tfc.Tensor) => ({ loss: crossEntropy(tf, logits, y) });
  try {
    await trainStep(tf, model, optimizer, x, lossOf);
    const start = performance.now();
    // trainStep reads the loss back each step, so every step has finished when it returns.
    for (let i = 0; i < c.batches; i++) await trainStep(tf, model, optimizer, x, lossOf);
    const seconds = (performance.now() - start) / 1000;
    return {
      model: c.model,
      batchSize: c.batchSize,
      batches: c.batches,
      seconds,
      samplesPerSec: (c.batchSize * c.batches) / seconds,
    };
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}

const TORCH_SCRIPT = 'test/parity/torch_train.py';

/** Debian's python3-torch lives with the system Python; CONVNET_STUDIO_PYTHON names another. */
export const PYTHON = process.env.CONVNET_STUDIO_PYTHON ?? '/usr/bin/python3';

/** Where PyTorch computes: the CPU with a thread count, or a CUDA GPU when it sees one. */
export type PyTorchDevice = { kind: 'cpu'; threads: number } | { kind: 'gpu' };

export interface PyTorchBenchResult extends BenchResult {
  threads: number;
  torch: string;
  /** "cpu" or the CUDA device's name. */
  device: string;
}

/** The same models and batches in PyTorch. */
export async function benchPyTorch(
  cases: Pick<BenchCase, 'model' | 'batchSize' | 'batches'>[],
  device: PyTorchDevice,
): Promise<PyTorchBenchResult[]> {
  const placement =
    device.kind === 'cpu'
      ? ['--threads', String(device.threads), '--device', 'cpu']
      : ['--device', 'auto'];
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
