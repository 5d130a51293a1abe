/**
 * Where a training step's time goes, per kernel: every kernel registered for
 * the backend is wrapped with a timer (wasm and cpu run kernels
 * synchronously, so wall time is kernel time), split into forward and
 * backward (tfjs runs the backward pass in a scope named 'backward'). A
 * kernel the studio composes of others (training-kernels.ts) is reported
 * with its own time excluding the kernels it calls ("self") and including
 * them ("total"). Usage:
 *   npx tsx scripts/profile-train-step.ts [model] [steps] [backend] [--threads=T] [--cpu] [--shapes]
 * (model: a preset name, default resnet18; the bench's input and batch size).
 * --cpu times with this process's CPU time instead of the clock: on a busy
 * machine that leaves out the time other programs held the core (with one
 * thread; with more it adds up every thread's time).
 */
import * as tf from '@tensorflow/tfjs-core';
import { compileModel } from '../src/core/compile/model';
import { inferValidGraph } from '../src/core/infer';
import { getPreset } from '../src/core/presets';
import type { BackendChoice } from '../src/core/training/options';
import { initBackend } from '../src/engine/backends';
import { crossEntropy } from '../src/engine/training/losses';
import { createOptimizer } from '../src/engine/training/optimizers';
import { trainStep } from '../src/engine/training/step';
import { cpuClock, now, positional, threads } from './measure-flags';

const withShapes = process.argv.includes('--shapes');
const modelName = positional[0] ?? 'resnet18';
const steps = Number(positional[1] ?? 2);
const SIZES: Record<string, { input: [number, number, number]; batch: number }> = {
  lenet: { input: [1, 28, 28], batch: 128 },
  resnet18: { input: [1, 96, 96], batch: 32 },
};
const size = SIZES[modelName] ?? SIZES.resnet18;
const runtime = await initBackend((positional[2] ?? 'wasm') as BackendChoice, { threads });
const backendName = runtime.backend;

interface Stat {
  calls: number;
  self: number;
  total: number;
}
const stats = new Map<string, Stat>();
let recording = false;
/** Time spent in child kernels of the kernel now running, one entry per nesting level. */
const childTime: number[] = [];

const inBackward = () => tf.engine().state.scopeStack.some((s) => s.name === 'backward');

for (const config of tf.getKernelsForBackend(backendName)) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, backendName);
  tf.registerKernel({
    ...config,
    kernelFunc: (a) => {
      if (!recording) return inner(a);
      const phase = inBackward() ? 'bwd' : 'fwd';
      childTime.push(0);
      const start = now();
      const out = inner(a);
      const elapsed = now() - start;
      const children = childTime.pop() as number;
      if (childTime.length > 0) childTime[childTime.length - 1] += elapsed;
      const shapes = withShapes
        ? ` ${Object.values(a.inputs)
            .filter((t) => t != null)
            .map((t) => (t as tf.TensorInfo).shape.join('×'))
            .join(', ')}`
        : '';
      const key = `${phase} ${config.kernelName}${shapes}`;
      const s = stats.get(key) ?? { calls: 0, self: 0, total: 0 };
      s.calls++;
      s.self += elapsed - children;
      s.total += elapsed;
      stats.set(key, s);
      return out;
    },
  });
}

const [channels, height, width] = size.input;
const inference = inferValidGraph(getPreset(modelName)!.build(), {
  inputShape: [size.batch, channels, height, width],
});
const model = compileModel(tf, inference, { init: 'xavier', seed: 0, layout: 'kernel' });
const optimizer = createOptimizer(tf, new Map([...model.weights].filter(([, v]) => v.trainable)), {
  name: 'sgd',
  lr: 0.01,
});
const x = tf.randomUniform([size.batch, height, width, channels], 0, 1, 'float32', 1);
const y = tf.tensor1d(
  Array.from({ length: size.batch }, (_, i) => i % 10),
  'int32',
);
const lossOf = (logits: tf.Tensor) => ({ loss: crossEntropy(tf, logits, y) });
await trainStep(tf, model, optimizer, x as tf.Tensor4D, lossOf);
recording = true;
const start = now();
for (let i = 0; i < steps; i++) await trainStep(tf, model, optimizer, x as tf.Tensor4D, lossOf);
const stepMs = (now() - start) / steps;
recording = false;

let kernelMs = 0;
for (const s of stats.values()) kernelMs += s.self;
console.log(
  `${modelName} on ${backendName} (${runtime.device}), batch ${size.batch}: ${stepMs.toFixed(0)} ms${cpuClock ? ' of CPU time' : ''} per step (${((size.batch * 1000) / stepMs).toFixed(2)} samples/s), ${(kernelMs / steps).toFixed(0)} ms in kernels`,
);
for (const phase of ['fwd', 'bwd']) {
  let sum = 0;
  for (const [k, s] of stats) if (k.startsWith(phase)) sum += s.self;
  console.log(`${phase}: ${(sum / steps).toFixed(0)} ms per step`);
}
console.log('phase kernel | calls/step | self ms/step | total ms/step | share of step');
const rows = [...stats].sort((a, b) => b[1].self - a[1].self);
for (const [k, s] of rows) {
  if (s.self / steps < 1 && !withShapes) continue;
  console.log(
    `${k} | ${s.calls / steps} | ${(s.self / steps).toFixed(1)} | ${(s.total / steps).toFixed(1)} | ${((100 * s.self) / steps / stepMs).toFixed(1)}%`,
  );
}
