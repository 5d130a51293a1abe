/**
 * Picks and starts a TensorFlow.js backend (Node only). Best first:
 * tensorflow (tfjs-node-gpu, then tfjs-node: optional dependencies),
 * webgpu (Dawn from the `webgpu` package), wasm (with the training kernels
 * it lacks, see training-kernels.ts), cpu. tfjs falls back to cpu
 * silently when a backend fails to start, so every start is checked with
 * tf.getBackend() and every fallback comes with a note saying why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// Named, so that bundlers keep the module (its package marks the Node build side-effect free).
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers op gradients only through a deep ESM import that Node
// cannot resolve; tfjs-layers' Node bundle registers them all.
import '@tensorflow/tfjs-layers';
import type { BackendChoice } from '../../core/training/options';
import { pytorchAvailability } from '../pytorch/python';
import { registerDilatedConvolutionGradients } from './dilated-gradients';
import { SimdKernels } from './simd-kernels';
import { registerFastFilterGradient, registerWasmTrainingKernels } from './training-kernels';
import { findThreadedBuild, MAX_WASM_THREADS, withThreadedBuild } from './wasm-threads';

export type TF = typeof tf;

export interface BackendRuntime {
  tf: TF;
  /** The backend tfjs runs on (tf.getBackend()). */
  backend: string;
  /** What it runs on, for people: "wasm SIMD, 1 thread", "Dawn/Vulkan NVIDIA H100". */
  device: string;
  /** Why this is not the backend asked for, or what was not as asked. */
  note?: string;
  /** CPU threads the backend computes with, where it says. */
  threads?: number;
}

export interface BackendAvailability {
  name: Exclude<BackendChoice, 'auto'>;
  available: boolean;
  /** Why it is not available; or, when it is, what to know (auto passes a software GPU by). */
  reason?: string;
  /** What it computes on, when available ("wasm SIMD, 1 thread", "torch 2.11 … CUDA (NVIDIA H100)"). */
  device?: string;
}

/** The TensorFlow.js backends; PyTorch is an engine of its own (engine/pytorch). */
type Concrete = Exclude<BackendChoice, 'auto' | 'pytorch'>;
type Started = { ok: true; device: string; threads?: number; note?: string };
type Failed = { ok: false; reason: string };

/** Best first. */
export const BACKEND_ORDER: Concrete[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

// Not named `require`: electron-vite declares one in the ES modules it builds, and two do not parse.
const requireHere = createRequire(import.meta.url);

/**
 * Switches tfjs to a backend and checks that it runs. tfjs reports a failed
 * initialisation only as a console warning (outside PROD mode) and returns
 * false; that warning is caught and kept as the reason.
 */
async function setAndVerify(name: string): Promise<Failed | null> {
  const warnings: string[] = [];
  const warn = console.warn;
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', false);
  console.warn = (...args: unknown[]) => {
    // A stack's first line is the error itself.
    warnings.push(
      args.map((a) => (a instanceof Error ? a.message : String(a)).split('\n')[0]).join(' '),
    );
  };
  let set = false;
  try {
    set = await tf.setBackend(name);
  } catch (error) {
    return { ok: false, reason: `tfjs could not start it: ${(error as Error).message}` };
  } finally {
    console.warn = warn;
    tf.env().set('PROD', prod);
  }
  if (!set) {
    const why = warnings.filter((w) => !/^Initialization of backend/.test(w)).join('; ');
    return { ok: false, reason: `tfjs could not initialise it${why ? `: ${why}` : ''}` };
  }
  if (tf.getBackend() !== name) {
    return { ok: false, reason: `tfjs runs ${tf.getBackend()} instead` };
  }
  return null;
}

async function startTensorflow(): Promise<Started | Failed> {
  const reasons: string[] = [];
  for (const [pkg, device] of [
    ['@tensorflow/tfjs-node-gpu', 'TensorFlow C library, CUDA GPU'],
    ['@tensorflow/tfjs-node', 'TensorFlow C library, CPU'],
  ] as const) {
    try {
      // A variable keeps bundlers and the type checker off these optional packages.
      const specifier: string = pkg;
      await import(/* @vite-ignore */ specifier);
    } catch (error) {
      const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      reasons.push(
        missing
          ? `${pkg} is not installed (it downloads libtensorflow when installed)`
          : `${pkg} failed to load: ${(error as Error).message.split('\n')[0]}`,
      );
      continue;
    }
    const failed = await setAndVerify('tensorflow');
    if (failed == null) return { ok: true, device };
    reasons.push(`${pkg}: ${failed.reason}`);
  }
  return { ok: false, reason: reasons.join('; ') };
}

const VULKAN_LOADER_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
];

/** Whether Linux can load the Vulkan loader, which Dawn needs there. */
function vulkanLoaderPresent(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    ...VULKAN_LOADER_DIRS,
  ];
  if (dirs.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')))) return true;
  try {
    return execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/**
 * Finds a GPU adapter through Dawn and loads tfjs-backend-webgpu, once: Dawn's
 * navigator.gpu must exist before that module is evaluated, as it registers
 * itself only then.
 */
async function prepareWebgpu(): Promise<{ ok: true; adapter: GPUAdapter } | Failed> {
  if (process.platform === 'linux' && !vulkanLoaderPresent()) {
    return {
      ok: false,
      reason:
        "WebGPU (Dawn) needs Linux's Vulkan loader libvulkan.so.1, which is not installed (sudo apt-get install libvulkan1, plus the GPU's Vulkan driver)",
    };
  }
  let gpu: GPU;
  let adapter: GPUAdapter | null;
  try {
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    gpu = webgpu.create([]);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter?.info.isFallbackAdapter) {
      // A CPU renderer (SwiftShader) turns the zeroing of a shader's workgroup memory into
      // seconds of compilation per pipeline; the studio's kernels and tfjs's write workgroup
      // memory before reading it, so Dawn may leave it out.
      gpu = webgpu.create(['enable-dawn-features=disable_workgroup_init']);
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    }
  } catch (error) {
    return { ok: false, reason: `the webgpu package failed to load: ${(error as Error).message}` };
  }
  if (adapter == null) {
    return {
      ok: false,
      reason:
        'Dawn (the webgpu package) found no GPU adapter: no GPU with a Vulkan, Metal or Direct3D 12 driver is visible (software Vulkan such as an old lavapipe is refused)',
    };
  }
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav == null) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  } else if (nav.gpu == null) {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    return {
      ok: false,
      reason: `@tensorflow/tfjs-backend-webgpu failed to load: ${(error as Error).message}`,
    };
  }
  return { ok: true, adapter };
}

/** Dawn's graphics API on each platform (its default order). */
const DAWN_API: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'Vulkan',
  darwin: 'Metal',
  win32: 'D3D12',
};

/** E.g. "Dawn/Vulkan nvidia hopper (NVIDIA: 580.159.04)"; Dawn's description is the driver's. */
function describeAdapter(info: GPUAdapterInfo): string {
  const api = DAWN_API[process.platform];
  const gpu = [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'GPU';
  return `Dawn${api ? `/${api}` : ''} ${gpu}${info.description ? ` (${info.description})` : ''}`;
}

let webgpuPrepared: ReturnType<typeof prepareWebgpu> | null = null;

/**
 * Starts WebGPU. A software adapter (SwiftShader renders on the CPU, far
 * slower than wasm) runs only when asked for by name, and says what it is;
 * `auto` passes it by.
 */
async function startWebgpu(choice: BackendChoice): Promise<Started | Failed> {
  webgpuPrepared ??= prepareWebgpu();
  const prepared = await webgpuPrepared;
  if (!prepared.ok) return prepared;
  const info = prepared.adapter.info;
  const software = info.isFallbackAdapter
    ? `its only adapter, ${describeAdapter(info)}, renders on the CPU: far slower than wasm, so auto does not choose it`
    : undefined;
  if (choice === 'auto' && software) return { ok: false, reason: software };
  registerFastFilterGradient('webgpu');
  const failed = await setAndVerify('webgpu');
  if (failed) return failed;
  return { ok: true, device: describeAdapter(info), ...(software ? { note: software } : {}) };
}

/** tfjs-backend-wasm's package folder, or null when bundled (its files then lie beside the bundle). */
function wasmPackage(): string | null {
  try {
    return path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  } catch {
    return null;
  }
}

const bundleDirectory = () => path.dirname(fileURLToPath(import.meta.url));

/** The folder holding tfjs-backend-wasm's .wasm files, with the trailing slash tfjs needs. */
function wasmDirectory(): string {
  const pkg = wasmPackage();
  return `${pkg ? path.join(pkg, 'dist') : bundleDirectory()}/`;
}

/** Where the threaded build's JavaScript may be: the package's wasm-out/, or beside a bundle. */
function threadedBuildCandidates(): string[] {
  const pkg = wasmPackage();
  return pkg ? [path.join(pkg, 'wasm-out')] : [bundleDirectory()];
}

/** Cores not busy with other programs (this process's own work counts as idle) over a short sample. */
async function idleCores(sampleMs = 250): Promise<{ idle: number; cores: number }> {
  const ticks = () =>
    cpus().map(({ times }) => ({
      idle: times.idle,
      all: times.user + times.nice + times.sys + times.idle + times.irq,
    }));
  const before = ticks();
  const started = performance.now();
  const ownBefore = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const own = process.cpuUsage(ownBefore);
  const elapsedMs = performance.now() - started;
  const after = ticks();
  let idle = (own.user + own.system) / 1000 / elapsedMs;
  after.forEach((t, i) => {
    const all = t.all - (before[i]?.all ?? 0);
    if (all > 0) idle += (t.idle - before[i].idle) / all;
  });
  const cores = availableParallelism();
  return { idle: Math.min(idle, cores), cores };
}

export interface ThreadChoice {
  threads: number;
  /** Why fewer than the cores, for people. */
  why?: string;
}

let defaultChoice: Promise<ThreadChoice> | null = null;

/**
 * The CPU threads to compute with when none is asked for: the cores that are
 * idle when the process first asks (all of them on a quiet machine). Threads
 * that compete with other programs for a core make a step slower, not faster
 * (docs/backends.md, "Threads").
 */
export function defaultThreads(): Promise<ThreadChoice> {
  defaultChoice ??= chooseThreads();
  return defaultChoice;
}

async function chooseThreads(): Promise<ThreadChoice> {
  const { idle, cores } = await idleCores();
  const threads = Math.max(1, Math.min(cores, Math.round(idle)));
  if (threads === cores) return { threads };
  return {
    threads,
    why: `${(cores - idle).toFixed(1)} of the ${cores} cores were busy with other programs as it started (--threads ${cores} uses them all)`,
  };
}

let wasmConfigured = false;
/** The thread count the wasm backend started with; it is fixed until the backend restarts. */
let wasmThreads: number | null = null;
const WASM_PRIORITY = 2;

/**
 * Drops the started wasm backend (and every tensor on it) so that the next
 * start reads a new thread count: tfjs fixes the count when the backend starts.
 */
function discardWasmBackend(): void {
  const factory = tf.findBackendFactory('wasm');
  if (factory == null) return;
  const started = tf.findBackend('wasm') as BackendWasm | null;
  if (started) SimdKernels.of(started)?.dispose();
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

async function startWasm(threads?: number): Promise<Started | Failed> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return {
      ok: false,
      reason: `@tensorflow/tfjs-backend-wasm failed to load: ${(error as Error).message}`,
    };
  }
  if (!wasmConfigured) {
    wasm.setWasmPaths(wasmDirectory());
    registerWasmTrainingKernels();
    wasmConfigured = true;
  }
  const chosen = threads == null ? await defaultThreads() : undefined;
  const asked = threads ?? (chosen as ThreadChoice).threads;
  const usable = Math.min(asked, MAX_WASM_THREADS);
  const build = usable > 1 ? findThreadedBuild(threadedBuildCandidates()) : null;
  const count = build ? usable : 1;
  if (wasmThreads !== null && wasmThreads !== count) discardWasmBackend();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', build != null);
  wasm.setThreadsCount(count);
  let failed = build
    ? await withThreadedBuild(build, count, () => setAndVerify('wasm')).catch(
        (error: Error): Failed => ({ ok: false, reason: error.message }),
      )
    : await setAndVerify('wasm');
  // Where the threaded build cannot start (its workers cannot load, say), one thread still can.
  const threadedFailure = build && failed ? failed.reason : undefined;
  if (threadedFailure) {
    discardWasmBackend();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setThreadsCount(1);
    failed = await setAndVerify('wasm');
  }
  if (failed) return failed;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const actual = wasm.getThreadsCount();
  wasmThreads = actual;
  const backend = tf.findBackend('wasm') as BackendWasm;
  const kernels = SimdKernels.of(backend) ?? (await SimdKernels.start(backend, actual));
  let note: string | undefined;
  if (actual !== asked) {
    const why =
      asked > MAX_WASM_THREADS && actual === MAX_WASM_THREADS
        ? `tfjs-backend-wasm's thread pool holds at most ${MAX_WASM_THREADS}`
        : threadedFailure
          ? `its threaded build did not start (${threadedFailure})`
          : build == null && usable > 1
            ? `the threaded build's files (${threadedBuildCandidates().join(', ')}: tfjs-backend-wasm-threaded-simd.js and .worker.js) are missing`
            : 'tfjs-backend-wasm did not start more';
    note = `wasm runs ${plural(actual, 'thread')}, not ${asked}: ${why}`;
  } else if (chosen?.why) {
    note = `wasm runs ${plural(actual, 'thread')}: ${chosen.why}`;
  }
  if (!kernels) {
    const why = `the studio's wasm convolution kernels need relaxed SIMD (Node 20 or later, Electron), which this ${process.release.name} ${process.version} lacks: convolutions run slower, through tfjs's own kernels`;
    note = note ? `${note}. ${why}` : why;
  }
  return {
    ok: true,
    device: `wasm${simd ? ' SIMD' : ''}, ${plural(actual, 'thread')}`,
    threads: actual,
    note,
  };
}

async function startCpu(): Promise<Started | Failed> {
  registerFastFilterGradient('cpu');
  const failed = await setAndVerify('cpu');
  return (
    failed ?? {
      ok: true,
      device: `JavaScript (tfjs-backend-cpu ${version_cpu}), 1 thread`,
      threads: 1,
    }
  );
}

function start(name: Concrete, choice: BackendChoice, threads?: number): Promise<Started | Failed> {
  switch (name) {
    case 'tensorflow':
      return startTensorflow();
    case 'webgpu':
      return startWebgpu(choice);
    case 'wasm':
      return startWasm(threads);
    case 'cpu':
      return startCpu();
  }
}

/** Why a thread count asked for does not change how `name` computes (wasm says so itself). */
function threadsNotTaken(name: Concrete, asked: number | undefined): string[] {
  if (asked == null || name === 'wasm') return [];
  const how = {
    cpu: "tfjs's JavaScript backend computes with 1 thread",
    tensorflow: 'the TensorFlow C library sizes its own thread pool',
    webgpu: 'it computes on the GPU',
  }[name];
  if (name === 'cpu' && asked === 1) return [];
  return [`the ${plural(asked, 'CPU thread')} asked for apply to wasm only; on ${name} ${how}`];
}

/**
 * Starts the chosen backend, or with 'auto' the best one that works. When
 * the choice cannot start, the next best runs and `note` says why.
 */
export async function initBackend(
  choice: BackendChoice = 'auto',
  opts: { threads?: number } = {},
): Promise<BackendRuntime> {
  if (choice === 'pytorch') {
    throw new Error(
      'pytorch is not a TensorFlow.js backend: PyTorch trains in a process of its own (engine/pytorch/run.ts), started by a training job with backend pytorch',
    );
  }
  if (choice !== 'auto' && !BACKEND_ORDER.includes(choice)) {
    throw new Error(
      `Unknown backend '${choice}'. Choose one of: auto, ${BACKEND_ORDER.join(', ')}.`,
    );
  }
  registerDilatedConvolutionGradients();
  // tfjs's console advice to install tfjs-node: the studio reports backends itself.
  tf.env().set('PROD', true);
  const candidates =
    choice === 'auto' ? BACKEND_ORDER : [choice, ...BACKEND_ORDER.filter((b) => b !== choice)];
  const skipped: string[] = [];
  for (const name of candidates) {
    // An explicit choice falls back only to slower backends, never to a faster one it did not ask for.
    if (choice !== 'auto' && name !== choice) {
      if (BACKEND_ORDER.indexOf(name) < BACKEND_ORDER.indexOf(choice)) continue;
    }
    const result = await start(name, choice, opts.threads);
    if (!result.ok) {
      skipped.push(`${name}: ${result.reason}`);
      continue;
    }
    const reasons = [
      ...(skipped.length > 0
        ? [
            choice === 'auto'
              ? `auto chose ${name}; not available: ${skipped.join('; ')}`
              : `${choice} could not start, running ${name} instead. ${skipped.join('; ')}`,
          ]
        : []),
      ...(result.note ? [result.note] : []),
      ...threadsNotTaken(name, opts.threads),
    ];
    return {
      tf,
      backend: name,
      device: result.device,
      threads: result.threads,
      note: reasons.length > 0 ? reasons.join('. ') : undefined,
    };
  }
  throw new Error(`No TensorFlow.js backend could start. ${skipped.join('; ')}`);
}

/**
 * Which backends can start here, best first, each with the reason where not.
 * Probing starts each backend (wasm with `threads`, as initBackend would);
 * the one running before is restored.
 */
export async function availableBackends(
  opts: { threads?: number } = {},
): Promise<BackendAvailability[]> {
  const before = tf.getBackend();
  const result: BackendAvailability[] = [];
  for (const name of BACKEND_ORDER) {
    // As if asked for by name: what auto would pass by (a software GPU) is there, with why.
    const started = await start(name, name, opts.threads);
    result.push(
      started.ok
        ? {
            name,
            available: true,
            device: started.device,
            ...(started.note ? { reason: started.note } : {}),
          }
        : { name, available: false, reason: started.reason },
    );
  }
  if (before) await tf.setBackend(before);
  return result;
}

/** The TensorFlow.js backends, then PyTorch (where a Python with torch is found): every engine this machine offers. */
export async function trainingBackends(): Promise<BackendAvailability[]> {
  return [...(await availableBackends()), await pytorchAvailability()];
}
