/**
 * `convnet-studio bench [--models lenet,resnet18] [--backend …] [--batches N] [--pytorch] [--json]`:
 * training throughput of the course's LeNet-5 (28×28, batch 128) and
 * ResNet-18 (96×96, batch 32) on each available backend, optionally beside
 * PyTorch on the same device (the CPU with the same thread count, or the GPU).
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { Execution } from '../../api/training-protocol';
import { getPreset } from '../../core/presets';
import type { BackendChoice } from '../../core/training/options';
import { availableBackends, initBackend } from '../../engine/backends';
import { benchPyTorchEngine, type EngineBenchResult } from '../../engine/pytorch/bench';
import {
  type BenchCase,
  benchPyTorch,
  benchTraining,
  describeTorchLibraries,
  type PyTorchBenchResult,
  type PyTorchDevice,
} from '../../engine/training/bench';
import { CliError } from '../errors';
import { checkFlagValues } from '../option-flags';

/** Each model's input and batch size; ResNet-18 is ~100× costlier per image, so smaller and fewer batches. */
const MODELS: Record<
  string,
  { input: [number, number, number]; batchSize: number; batchShare: number }
> = {
  lenet: { input: [1, 28, 28], batchSize: 128, batchShare: 1 },
  resnet18: { input: [1, 96, 96], batchSize: 32, batchShare: 0.2 },
};

interface BenchFlags {
  models?: string;
  epochs?: string;
  backend?: string;
  batches: string;
  batchSize?: string;
  threads?: string;
  pytorch?: boolean;
  json?: boolean;
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new CliError(`--${flag} must be a whole number >= 1, got '${value}'`);
  }
  return n;
}

function modelsOf(list: string): string[] {
  const names = list.split(',').map((m) => m.trim());
  for (const name of names) {
    if (!MODELS[name]) {
      throw new CliError(
        `unknown model '${name}' for bench; use ${Object.keys(MODELS).join(', ')}`,
      );
    }
  }
  return names;
}

function batchSizeOf(flags: BenchFlags): number | undefined {
  const batchSize = flags.batchSize === undefined ? undefined : Number(flags.batchSize);
  if (batchSize !== undefined) checkFlagValues({ batchSize });
  return batchSize;
}

/** Columns padded to their widest cell: the named ones left-aligned, numbers right-aligned. */
function printTable(table: string[][], leftAligned: ReadonlySet<string>): void {
  const widths = table[0].map((_, col) => Math.max(...table.map((line) => line[col].length)));
  for (const line of table) {
    const cells = line.map((cell, col) =>
      leftAligned.has(table[0][col]) ? cell.padEnd(widths[col]) : cell.padStart(widths[col]),
    );
    process.stdout.write(`${cells.join('  ').trimEnd()}\n`);
  }
}

/** `bench --backend pytorch`: the studio-driven PyTorch engine against the exported train.py alone. */
async function benchEngine(flags: BenchFlags): Promise<void> {
  const epochs = wholeNumber('epochs', flags.epochs ?? '1');
  const batches = flags.batches === undefined ? undefined : wholeNumber('batches', flags.batches);
  // Both sides are torch in a child process, which takes its CPU thread count from OpenMP's variable.
  if (flags.threads !== undefined)
    process.env.OMP_NUM_THREADS = String(wholeNumber('threads', flags.threads));
  const results: EngineBenchResult[] = [];
  for (const model of modelsOf(flags.models ?? 'lenet')) {
    const batchSize = batchSizeOf(flags) ?? MODELS[model].batchSize;
    const images = batches === undefined ? undefined : batches * batchSize;
    const result = await benchPyTorchEngine({
      model,
      project: getPreset(model)!.build(),
      epochs,
      batchSize,
      limitTrain: images,
      limitVal: images === undefined ? undefined : Math.min(10_000, images),
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  if (flags.json) return;
  const rate = (values: number[]) =>
    values.length > 0 ? Math.round(values.reduce((a, b) => a + b) / values.length).toString() : '?';
  process.stdout.write(
    `PyTorch ${results[0].torch} (${results[0].python}); each side from start to end, train.py first\n`,
  );
  printTable(
    [
      [
        'model',
        'device',
        'epochs×images',
        'train.py alone',
        'studio-driven',
        'overhead',
        'samples/s alone',
        'samples/s studio',
      ],
      ...results.map((r) => [
        r.model,
        r.device,
        `${r.epochs}×${r.trainImages}`,
        `${r.standaloneSeconds.toFixed(1)} s`,
        `${r.studioSeconds.toFixed(1)} s`,
        `${r.overhead >= 0 ? '+' : ''}${(r.overhead * 100).toFixed(1)}%`,
        rate(r.standaloneSamplesPerSec),
        rate(r.studioSamplesPerSec),
      ]),
    ],
    new Set(['model', 'device']),
  );
}

/** "1 thr." on the CPU, the GPU's name on CUDA. */
function describeTorchDevice(result: PyTorchBenchResult): string {
  return result.device === 'cpu' ? `${result.threads} thr.` : result.device;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Measure training speed (samples/s) per backend, optionally against PyTorch')
    .option(
      '--models <list>',
      'comma-separated: lenet, resnet18 (default: both; with --backend pytorch: lenet)',
    )
    .option(
      '--backend <name>',
      'one backend instead of every available one (auto, tensorflow, webgpu, wasm, cpu); pytorch: the studio-driven PyTorch engine against the exported train.py',
    )
    .option(
      '--batches <N>',
      'timed LeNet batches (ResNet-18 runs a fifth as many, at least 1); with --backend pytorch, batches per epoch (default: the whole training set)',
    )
    .option(
      '--batch-size <N>',
      'images per step for every model (default: 128 for LeNet, 32 for ResNet-18)',
    )
    .option('--epochs <N>', 'with --backend pytorch: epochs each side trains', '1')
    .option(
      '--threads <T>',
      'CPU threads for wasm and PyTorch (default: the idle cores, at most 8 for wasm)',
    )
    .option(
      '--pytorch',
      'also time the same models in PyTorch (python3-torch) and print the ratio; on the GPU (CUDA) beside a GPU backend, else on the CPU with the same threads',
    )
    .option('--json', 'print one JSON object per measurement')
    .addHelpText(
      'after',
      `
Each measurement is one warm-up step, then the timed steps on a fixed random
batch (SGD, cross-entropy), the loss read back after every step. On WebGPU
both paths are timed, the compiled step and tfjs op by op, each with the
compute dispatches one step issues and the CPU time to issue it (the
process's CPU time, measured without waiting for the GPU), and for the
compiled step the GPU time per kernel class where the adapter can time
passes.

With --backend pytorch it times real training on Fashion-MNIST twice, from start
to end: driven by the studio (--backend pytorch: the Python lookup, the data
handed over, events, a checkpoint every epoch) and as the exported train.py run
alone, same network, weights and settings; the difference is the studio's
overhead.

Examples:
  $ npx convnet-studio bench --models lenet --batches 10
  $ npx convnet-studio bench --backend wasm --pytorch
  $ npx convnet-studio bench --backend webgpu --models lenet,resnet18 --batch-size 2
  $ npx convnet-studio bench --backend pytorch --epochs 2`,
    )
    .action(async (flags: BenchFlags) => {
      if (flags.backend === 'pytorch') {
        await benchEngine(flags);
        return;
      }
      const names = modelsOf(flags.models ?? 'lenet,resnet18');
      const batches = wholeNumber('batches', flags.batches ?? '20');
      // Without --threads the backend chooses (the idle cores) and PyTorch gets the same count.
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
        throw new CliError(`--threads must be a whole number >= 1, got '${flags.threads}'`);
      }
      if (flags.backend) checkFlagValues({ backend: flags.backend as BackendChoice });
      const batchSize = batchSizeOf(flags);
      const cases: BenchCase[] = names.map((model) => {
        const spec = MODELS[model];
        return {
          model,
          project: getPreset(model)!.build(),
          input: spec.input,
          batchSize: batchSize ?? spec.batchSize,
          batches: Math.max(1, Math.round(batches * spec.batchShare)),
        };
      });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      let backends: BackendChoice[];
      if (flags.backend) {
        backends = [flags.backend as BackendChoice];
      } else {
        const listed = await availableBackends({ threads });
        // A software GPU (SwiftShader) is timed only when asked for by name, as auto passes it by.
        const software = (b: (typeof listed)[number]) =>
          b.name === 'webgpu' && b.available && b.reason;
        for (const b of listed) {
          if ((!b.available || software(b)) && !flags.json)
            out(
              `skipping ${b.name}: ${b.reason ?? 'not available here'}${software(b) ? '; time it with --backend webgpu' : ''}`,
            );
        }
        backends = listed.filter((b) => b.available && !software(b)).map((b) => b.name);
        // The pure-JavaScript cpu backend needs minutes per ResNet-18 step; time it only when asked.
        if (backends.length > 1 && backends.includes('cpu')) {
          backends = backends.filter((b) => b !== 'cpu');
          if (!flags.json) {
            out(
              'skipping cpu: the pure-JavaScript backend is far slower than the others; time it with --backend cpu',
            );
          }
        }
      }
      // PyTorch computes where the backend does: on the GPU beside a GPU backend, else on the CPU
      // with the backend's thread count.
      const references = new Map<string, PyTorchBenchResult[]>();
      const referenceFor = async (device: PyTorchDevice) => {
        const key = `${device.kind}:${device.threads}`;
        if (!references.has(key)) references.set(key, await benchPyTorch(cases, device));
        return references.get(key) ?? [];
      };
      const rows: string[][] = [];
      const gpuTimes: string[] = [];
      for (const backendChoice of backends) {
        const runtime = await initBackend(backendChoice, { threads });
        const { tf, backend, device, note } = runtime;
        if (note && !flags.json) out(`note (${backendChoice}): ${note}`);
        const backendThreads = runtime.threads ?? threads ?? availableParallelism();
        const onGpu = backend === 'webgpu' || /CUDA/.test(device);
        const reference = flags.pytorch
          ? await referenceFor({ kind: onGpu ? 'gpu' : 'cpu', threads: backendThreads })
          : [];
        // On WebGPU the compiled step, and tfjs op by op beside it for comparison.
        const executions: Execution[] =
          backend === 'webgpu' ? ['compiled', 'op-by-op'] : ['op-by-op'];
        for (const c of cases) {
          for (const execution of executions) {
            const result = await benchTraining(tf, c, execution);
            const torch = reference.find((r) => r.model === c.model);
            const ratio = torch ? result.samplesPerSec / torch.samplesPerSec : undefined;
            if (flags.json) {
              out(
                JSON.stringify({
                  ...result,
                  backend,
                  device,
                  ...(note ? { note } : {}),
                  threads: backendThreads,
                  ...(torch
                    ? {
                        pytorchSamplesPerSec: torch.samplesPerSec,
                        pytorchDevice: torch.device,
                        pytorchThreads: torch.threads,
                        pytorchLibraries: torch.libraries,
                        ratio,
                      }
                    : {}),
                }),
              );
              continue;
            }
            rows.push([
              c.model,
              `${backend} (${device})`,
              backend === 'webgpu' ? execution : '',
              `${c.batchSize}×${c.batches}`,
              result.samplesPerSec.toFixed(1),
              result.dispatchesPerStep?.toString() ?? '',
              result.issueMs?.toFixed(2) ?? '',
              torch ? `${torch.samplesPerSec.toFixed(1)} (${describeTorchDevice(torch)})` : '',
              ratio !== undefined ? ratio.toFixed(3) : '',
            ]);
            if (result.gpuMs) {
              const classes = Object.entries(result.gpuMs)
                .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
                .map(([name, ms]) => `${name} ${(ms ?? 0).toFixed(2)}`);
              gpuTimes.push(
                `${c.model} (${execution}, batch ${c.batchSize}): ${classes.join(', ')}`,
              );
            }
          }
        }
      }
      if (flags.json) return;
      const webgpu = rows.some((r) => r[2] !== '');
      const columns = [
        { title: 'model', show: true },
        { title: 'backend', show: true },
        { title: 'step', show: webgpu },
        { title: 'batch×steps', show: true },
        { title: 'samples/s', show: true },
        { title: 'dispatches/step', show: webgpu },
        { title: 'CPU ms to issue a step', show: webgpu },
        { title: 'PyTorch samples/s', show: flags.pytorch === true },
        { title: 'ratio', show: flags.pytorch === true },
      ];
      const shown = columns.map((c, i) => (c.show ? i : -1)).filter((i) => i >= 0);
      const table = [columns.map((c) => c.title), ...rows].map((line) => shown.map((i) => line[i]));
      printTable(table, new Set(['model', 'backend', 'step']));
      if (gpuTimes.length > 0) {
        out('GPU time of one step by kernel class (ms, from timestamp queries):');
        for (const line of gpuTimes) out(`  ${line}`);
      }
      for (const [first] of references.values()) if (first) out(describeTorchLibraries(first));
    });
}
