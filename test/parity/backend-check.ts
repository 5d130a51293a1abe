/**
 * Runs every layer parity case on a chosen backend and on cpu and prints the
 * largest relative difference per case; exits 1 if any is above 1e-4. With
 * --presets it also runs every preset network at a small input. For machines with a GPU (WebGPU),
 * where CI cannot go:
 *   npx tsx test/parity/backend-check.ts webgpu --presets
 * or bundled for a GPU machine without Node with scripts/gpu-bench.sh.
 */
// A bundler drops tfjs-backend-cpu's bare side-effect import (its package.json lists only
// its ESM files as side effects); importing an export keeps the module that registers it.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { inferValidGraph } from '../../src/core/infer';
import { presets } from '../../src/core/presets';
import type { BackendChoice } from '../../src/core/training/options';
import { initBackend } from '../../src/engine/backends';
import { compareWithCpu } from './backend-compare';
import type { ParityCase } from './harness';
import { layerCases } from './layer-cases';

/** Height and width each preset's layout needs at least (AlexNet and NiN downsample most). */
const presetSize = (name: string) => ({ lenet: 28, alexnet: 67, nin: 67 })[name] ?? 32;

/**
 * A training step (output and every gradient) for networks without BatchNorm;
 * BatchNorm networks are compared in evaluation mode, because at these small
 * sizes training-mode BatchNorm sees 2 values per channel in its last layers
 * and amplifies rounding differences between backends beyond any tolerance.
 */
const presetCases = presets.map((preset): ParityCase => {
  const graph = preset.build();
  const size = presetSize(preset.name);
  const input = [2, 1, size, size];
  const batchNorm = inferValidGraph(graph, { inputShape: input }).primitives.some(
    (p) => p.type === 'BatchNorm2d',
  );
  return batchNorm
    ? { name: `preset ${preset.name}, evaluation`, graph, input, training: false }
    : { name: `preset ${preset.name}, training step`, graph, input, labels: [3, 7] };
});

const choice = (process.argv.slice(2).find((a) => !a.startsWith('--')) ??
  'webgpu') as BackendChoice;
const cases = process.argv.includes('--presets') ? [...layerCases, ...presetCases] : layerCases;
const { tf, backend, device, note } = await initBackend(choice);
console.log(`${backend} on ${device}${note ? ` (${note})` : ''}; tfjs-backend-cpu ${version_cpu}`);
if (backend === 'webgpu') {
  // WebGPU otherwise runs small ops on the CPU when their inputs live there.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
}
const differences = await compareWithCpu(tf, backend, cases);
for (const d of differences) {
  console.log(
    `${d.error < 1e-4 ? 'ok  ' : 'DIFF'} ${d.error.toExponential(2)}  ${d.name} (${d.where})`,
  );
}
process.exit(differences.every((d) => d.error < 1e-4) ? 0 : 1);
