/**
 * Runs every layer parity case on a chosen backend and on cpu and prints the
 * largest relative difference per case; exits 1 if any is above 1e-4. For
 * machines with a GPU (WebGPU), where CI cannot go:
 *   npx tsx test/parity/backend-check.ts webgpu
 * or bundled for the device machine with shared/tools/gpu-pack.
 */
// A bundler drops tfjs-backend-cpu's bare side-effect import (its package.json lists only
// its ESM files as side effects); importing an export keeps the module that registers it.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/engine/backends';
import type { BackendChoice } from '../../src/engine/protocol';
import { compareWithCpu } from './backend-compare';
import { layerCases } from './layer-cases';

const choice = (process.argv[2] ?? 'webgpu') as BackendChoice;
const { tf, backend, device, note } = await initBackend(choice);
console.log(`${backend} on ${device}${note ? ` (${note})` : ''}; tfjs-backend-cpu ${version_cpu}`);
if (backend === 'webgpu') {
  // WebGPU otherwise runs small ops on the CPU when their inputs live there.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
}
const differences = await compareWithCpu(tf, backend, layerCases);
for (const d of differences) {
  console.log(
    `${d.error < 1e-4 ? 'ok  ' : 'DIFF'} ${d.error.toExponential(2)}  ${d.name} (${d.where})`,
  );
}
process.exit(differences.every((d) => d.error < 1e-4) ? 0 : 1);
