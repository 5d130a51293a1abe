/**
 * Finding a Python with PyTorch (Node only): CONVNET_STUDIO_PYTHON when set
 * (and then only it), else `python3` on PATH, then the system's
 * /usr/bin/python3 (where Debian's python3-torch lives; a pyenv or venv
 * python3 first on PATH often lacks torch). Each candidate is asked, in a
 * small Python program, for its torch version (and, for the backend list, its
 * devices); what was found, and why the others were passed over, is said to
 * the user.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';

/** The studio's PyTorch export needs this torch or newer (docs/export.md). */
export const MINIMUM_TORCH: [number, number] = [1, 13];

/** A Python with a torch the studio can use. */
export interface TorchPython {
  /** What to run: the command as found (a wrapper script stays a wrapper). */
  command: string;
  /** The Python executable it runs (its sys.executable), for people. */
  python: string;
  pythonVersion: string;
  torch: string;
  /** Candidates passed over on the way, for people ("python3 on PATH (…) has no torch"). */
  passedOver: string[];
}

/** What torch computes on (asking needs torch imported, which takes a second or more). */
export interface TorchDevices {
  /** torch.cuda.is_available() */
  cuda: boolean;
  /** Names of the CUDA GPUs torch sees. */
  gpus: string[];
  /** The CUDA version torch was built with, if any. */
  cudaVersion?: string;
  /** Intra-op threads torch uses by default. */
  threads: number;
  /** torch.distributed is built in (torchrun needs it). */
  distributed: boolean;
}

export type TorchInstall = TorchPython & TorchDevices;

/** No usable PyTorch: the message names every Python tried and what to do. */
export class TorchNotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchNotFound';
  }
}

interface Candidate {
  command: string;
  /** How the user would name it: "CONVNET_STUDIO_PYTHON (/opt/x/python)", "python3 on PATH". */
  origin: string;
}

/** What the probe program prints. */
interface ProbeReport {
  executable: string;
  version: string;
  torch?: string;
  importError?: string;
  cuda?: boolean;
  probeError?: string;
  gpus?: string[];
  cudaVersion?: string | null;
  threads?: number;
  distributed?: boolean;
}

/**
 * Prints what a Python offers. "version" mode reads torch's version from its
 * package metadata without importing it (tens of milliseconds; the training
 * engine asks torch itself once it runs); "devices" mode imports torch and
 * asks for its GPUs and threads.
 */
const PROBE = `
import json, sys
out = {"executable": sys.executable, "version": sys.version.split()[0]}
devices = sys.argv[1] == "devices"
try:
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        raise ModuleNotFoundError("No module named 'torch'")
    try:
        import importlib.metadata
        out["torch"] = importlib.metadata.version("torch")
    except Exception:
        devices = True  # no package metadata: import torch to read its version
    if devices:
        import torch
        out["torch"] = str(getattr(torch, "__version__", "unknown"))
except Exception as e:
    out["importError"] = f"{type(e).__name__}: {e}"
if devices and "torch" in out:
    try:  # an old or broken torch may lack any of these; its version is judged first
        out["cudaVersion"] = torch.version.cuda
        out["threads"] = torch.get_num_threads()
        out["distributed"] = torch.distributed.is_available()
        out["cuda"] = torch.cuda.is_available()
        out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if out["cuda"] else []
    except Exception as e:
        out["probeError"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
`;

/** Importing torch and asking CUDA can take seconds on a cold cache or a GPU machine. */
const PROBE_TIMEOUT_MS = 120_000;

const INSTALL_ADVICE =
  'Install PyTorch (https://pytorch.org/get-started/locally/; on Debian or Ubuntu: sudo apt-get install python3-torch), or name a Python that has it in CONVNET_STUDIO_PYTHON';

export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): Candidate[] {
  const chosen = env.CONVNET_STUDIO_PYTHON?.trim();
  if (chosen) return [{ command: chosen, origin: `CONVNET_STUDIO_PYTHON (${chosen})` }];
  if (process.platform === 'win32') {
    return [
      { command: 'python', origin: 'python on PATH' },
      { command: 'py', origin: 'the py launcher' },
    ];
  }
  return [
    { command: 'python3', origin: 'python3 on PATH' },
    { command: '/usr/bin/python3', origin: '/usr/bin/python3' },
  ];
}

type ProbeMode = 'version' | 'devices';

function runProbe(command: string, env: NodeJS.ProcessEnv, mode: ProbeMode): Promise<ProbeReport> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      ['-c', PROBE, mode],
      { env, timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') reject(new Error('is not there'));
          else if (code === 'EACCES') reject(new Error('cannot be run (permission denied)'));
          else if (error.killed)
            reject(new Error(`did not answer within ${PROBE_TIMEOUT_MS / 1000} s`));
          else {
            const why = `${stderr}`.trim().split('\n').at(-1) || error.message.split('\n')[0];
            reject(new Error(`could not run a Python program (${why})`));
          }
          return;
        }
        try {
          resolve(JSON.parse(`${stdout}`.trim().split('\n').at(-1) ?? '') as ProbeReport);
        } catch {
          reject(
            new Error(
              `is not a Python 3 that the studio can ask (it printed ${JSON.stringify(`${stdout}`.slice(0, 80))})`,
            ),
          );
        }
      },
    );
  });
}

/** [major, minor] of "1.13.0a0", "2.11.0+cu130". */
export function torchVersionParts(version: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

export function isTorchTooOld(version: string): boolean {
  const parts = torchVersionParts(version);
  if (!parts) return false;
  const [major, minor] = parts;
  return major < MINIMUM_TORCH[0] || (major === MINIMUM_TORCH[0] && minor < MINIMUM_TORCH[1]);
}

/** The file a command runs: itself when it is a path, else the first match on PATH. */
function resolveCommand(command: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = command.includes(path.sep)
    ? [command]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, command));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return realpathSync(file);
    } catch {
      // not here
    }
  }
  return undefined;
}

async function search(env: NodeJS.ProcessEnv, mode: ProbeMode): Promise<ProbeReport & TorchPython> {
  const passedOver: string[] = [];
  const probed = new Set<string>();
  for (const candidate of pythonCandidates(env)) {
    // python3 on PATH is often /usr/bin/python3 itself: ask it once.
    const file = resolveCommand(candidate.command, env);
    if (file && probed.has(file)) continue;
    if (file) probed.add(file);
    let report: ProbeReport;
    try {
      report = await runProbe(candidate.command, env, mode);
    } catch (error) {
      passedOver.push(`${candidate.origin} ${(error as Error).message}`);
      continue;
    }
    const shown = candidate.command === report.executable ? '' : ` (${report.executable})`;
    const named = `${candidate.origin}${shown}, Python ${report.version},`;
    if (!report.torch) {
      passedOver.push(`${named} has no torch (${report.importError ?? 'import torch failed'})`);
      continue;
    }
    if (isTorchTooOld(report.torch)) {
      passedOver.push(
        `${named} has torch ${report.torch}, which is too old: the studio needs ${MINIMUM_TORCH.join('.')} or newer (upgrade it with: ${report.executable} -m pip install --upgrade torch)`,
      );
      continue;
    }
    if (report.probeError) {
      passedOver.push(
        `${named} has torch ${report.torch}, which does not work (${report.probeError})`,
      );
      continue;
    }
    return {
      ...report,
      command: candidate.command,
      python: report.executable,
      pythonVersion: report.version,
      torch: report.torch,
      passedOver,
    };
  }
  throw new TorchNotFound(`PyTorch was not found: ${passedOver.join('; ')}. ${INSTALL_ADVICE}.`);
}

/** Searches done, by mode, CONVNET_STUDIO_PYTHON and PATH. */
const searches = new Map<string, Promise<ProbeReport & TorchPython>>();

/**
 * A search is remembered for the process when it succeeds; a failure is
 * looked for again next time, so installing torch while the studio runs is
 * noticed.
 */
function remembered(env: NodeJS.ProcessEnv, mode: ProbeMode): Promise<ProbeReport & TorchPython> {
  const key = `${mode}\n${env.CONVNET_STUDIO_PYTHON ?? ''}\n${env.PATH ?? ''}`;
  let lookup = searches.get(key);
  if (!lookup) {
    lookup = search(env, mode);
    searches.set(key, lookup);
    lookup.catch(() => searches.delete(key));
  }
  return lookup;
}

/** The Python to train with and its torch version, quickly (torch is not imported). */
export async function locateTorch(env: NodeJS.ProcessEnv = process.env): Promise<TorchPython> {
  const { command, python, pythonVersion, torch, passedOver } = await remembered(env, 'version');
  return { command, python, pythonVersion, torch, passedOver };
}

/** The Python with torch, and the devices torch sees (imports torch: a second or more). */
export async function findTorch(env: NodeJS.ProcessEnv = process.env): Promise<TorchInstall> {
  const report = await remembered(env, 'devices');
  return {
    command: report.command,
    python: report.python,
    pythonVersion: report.pythonVersion,
    torch: report.torch,
    passedOver: report.passedOver,
    cuda: report.cuda === true,
    gpus: report.gpus ?? [],
    ...(report.cudaVersion ? { cudaVersion: report.cudaVersion } : {}),
    threads: report.threads ?? 1,
    distributed: report.distributed !== false,
  };
}

/** "CUDA (NVIDIA H100 80GB HBM3)", "CUDA (2 × NVIDIA A100)", "CPU, 16 threads". */
export function describeTorchDevices(install: TorchDevices): string {
  if (install.cuda && install.gpus.length > 0) {
    const first = install.gpus[0];
    const same = install.gpus.every((g) => g === first);
    const names = same
      ? `${install.gpus.length > 1 ? `${install.gpus.length} × ` : ''}${first}`
      : install.gpus.join(', ');
    return `CUDA (${names})`;
  }
  return `CPU, ${install.threads} thread${install.threads === 1 ? '' : 's'}`;
}

/** "torch 1.13.0a0 in /usr/bin/python3 (Python 3.11.2)". */
export function describeTorchInstall(install: TorchPython): string {
  return `torch ${install.torch} in ${install.python} (Python ${install.pythonVersion})`;
}

/** PyTorch as an entry of the backend list: its version, Python and device, or why it cannot run here. */
export async function pytorchAvailability(): Promise<{
  name: 'pytorch';
  available: boolean;
  reason?: string;
  device?: string;
}> {
  try {
    const install = await findTorch();
    return {
      name: 'pytorch',
      available: true,
      device: `${describeTorchDevices(install)}; ${describeTorchInstall(install)}`,
      ...(install.passedOver.length > 0
        ? { reason: `passed over: ${install.passedOver.join('; ')}` }
        : {}),
    };
  } catch (error) {
    return { name: 'pytorch', available: false, reason: (error as Error).message };
  }
}
