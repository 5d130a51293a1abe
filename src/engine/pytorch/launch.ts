/**
 * Starting the PyTorch engine (resources/pytorch/engine.py) as a child
 * process, alone or under torchrun, and the line protocol with it (Node
 * only): its events arrive on stdout prefixed "@convnet-studio ", commands
 * ("pause", "resume", "stop") go to its stdin. When it ends without saying
 * why, its exit status and torchrun's report say which process failed and how.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import type { TrainingEvent } from '../../api/training-protocol';
import type { TorchPython } from './python';

export const EVENT_PREFIX = '@convnet-studio ';

/** torchrun's options, as `torchrun` spells them (with dashes). */
export interface TorchrunOptions {
  nprocPerNode: number;
  nnodes: number;
  /** This machine's place among the nodes (0 on the node that holds rank 0). */
  nodeRank: number;
  /** host:port of node 0's rendezvous (multi-node only). */
  rdzvEndpoint?: string;
}

/** What the engine's torch offers, said as soon as it is imported. */
export interface EngineHello {
  event: 'hello';
  torch: string;
  cuda: boolean;
  gpus: string[];
  cudaVersion: string | null;
  threads: number;
  distributed: boolean;
}

/** What the engine says besides the studio's own training events. */
export type EngineMessage =
  | EngineHello
  | {
      event: 'ready';
      device: string;
      threads: number;
      world: number;
      torch: string;
      batchesPerEpoch: number;
      distributedBackend: string | null;
    }
  | {
      event: 'state';
      /** epoch: an epoch ended; interval: the checkpoint interval passed within one; stop: asked to stop. */
      reason: 'epoch' | 'interval' | 'stop';
      path: string;
      epoch: number;
      batch: number;
      partial: { lossSum: number; correct: number; seen: number };
      optimizerStep: number;
      secondsPerSample: number;
      /** The first batch's loss, the yardstick for a loss that explodes (null before the first step). */
      firstLoss: number | null;
    }
  | { event: 'done'; seconds: number }
  | {
      event: 'error';
      message: string;
      rank: number;
      /** Its place on its machine (torchrun's local rank). */
      localRank: number;
      /** failed: this process; diverged: the loss; peer: another process went away first. */
      kind: 'failed' | 'diverged' | 'peer';
    }
  | Extract<
      TrainingEvent,
      { event: 'batch' | 'epoch' | 'layerStats' | 'paused' | 'resumed' | 'stopped' }
    >;

export type EngineCommand = 'pause' | 'resume' | 'stop';

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of its stderr (torchrun's report, a traceback). */
  stderrTail: string[];
}

export interface EngineProcess {
  send(command: EngineCommand): void;
  /** Ends the process and, under torchrun, every worker it started. */
  kill(): void;
  exited: Promise<EngineExit>;
}

const STDERR_LINES_KEPT = 60;

/**
 * The command line: `python -u engine.py CONFIG`, or under torchrun
 * `python -m torch.distributed.run … engine.py CONFIG` (the module, so the
 * Python that has torch is the one that launches). Debian's torch 1.13 on
 * Python 3.11 crashes on torchrun's default output settings; redirecting only
 * stderr (copied to ours, each line marked with its process) avoids that and
 * leaves stdout, where the events go, untouched.
 */
export function engineCommand(
  install: TorchPython,
  script: string,
  config: string,
  torchrun?: TorchrunOptions,
): [string, string[]] {
  if (!torchrun) return [install.command, ['-u', script, config]];
  const nodes =
    torchrun.nnodes > 1
      ? [
          `--nnodes=${torchrun.nnodes}`,
          `--node_rank=${torchrun.nodeRank}`,
          `--rdzv_endpoint=${torchrun.rdzvEndpoint}`,
        ]
      : ['--standalone', '--nnodes=1'];
  return [
    install.command,
    [
      '-u',
      '-m',
      'torch.distributed.run',
      ...nodes,
      `--nproc_per_node=${torchrun.nprocPerNode}`,
      // How often the launcher looks at its processes (torch 1.13's default, 5 s, delays the end of every run).
      '--monitor_interval=0.5',
      '--redirects=2',
      '--tee=2',
      script,
      config,
    ],
  ];
}

function parseEvent(line: string): EngineMessage | undefined {
  if (!line.startsWith(EVENT_PREFIX)) return undefined;
  try {
    const message = JSON.parse(line.slice(EVENT_PREFIX.length));
    return typeof message?.event === 'string' ? (message as EngineMessage) : undefined;
  } catch {
    return undefined;
  }
}

export function launchEngine(
  command: [string, string[]],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
  onMessage: (message: EngineMessage) => void,
): EngineProcess {
  const [file, args] = command;
  // Its own process group: a Ctrl-C in the terminal reaches the studio, which stops the run in
  // order, and not the Python processes directly; kill() ends the whole group.
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PYTHONUNBUFFERED: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
  const stderrTail: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = parseEvent(line);
    if (message) onMessage(message);
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_LINES_KEPT) stderrTail.shift();
  });
  // The engine may be gone when a command comes; a closed pipe is then no news.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<EngineExit>((resolve) => {
    child.on('error', (error) => {
      stderrTail.push(`could not start ${file}: ${error.message}`);
      resolve({ code: null, signal: null, stderrTail });
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderrTail }));
  });
  return {
    send(command) {
      if (child.stdin.writable) child.stdin.write(`${command}\n`);
    },
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (child.pid !== undefined && process.platform !== 'win32')
          process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    },
    exited,
  };
}

const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

function describeSignal(signal: string): string {
  const hint =
    signal === 'SIGKILL'
      ? ' (the system does this when memory runs out, or someone ended it)'
      : signal === 'SIGSEGV' || signal === 'SIGBUS'
        ? ' (a crash inside PyTorch or a native library)'
        : '';
  return `was killed by ${signal}${hint}`;
}

/** What the engine's own processes said before it ended, for telling how it ended. */
export interface EngineReports {
  /** Processes on this machine (torchrun's local world; 1 alone). */
  localWorld: number;
  /** Whether the ranks are numbered across several machines (local ranks differ from ranks). */
  multiNode: boolean;
  /** Local ranks that said another process went away first. */
  peers: ReadonlySet<number>;
}

/**
 * Why the engine ended without a final event of its own, from its exit
 * status and, under torchrun, the launcher's report of the processes that
 * failed: one killed by a signal first, else one that did not merely lose
 * its peers; when torchrun saw only those, the process that said nothing.
 */
export function describeEngineExit(
  exit: EngineExit,
  torchrun: boolean,
  reports: EngineReports = { localWorld: 1, multiNode: false, peers: new Set() },
): string {
  const { peers } = reports;
  const failures = exit.stderrTail.flatMap((line) => {
    const m = /failed \(exitcode: (-?\d+)\) local_rank: (\d+) \(pid: (\d+)\)/.exec(line);
    return m ? [{ code: Number(m[1]), localRank: Number(m[2]), pid: m[3] }] : [];
  });
  const globalRanks = new Map(
    exit.stderrTail.flatMap((line) => {
      const m = /\brank\s*:\s*(\d+) \(local_rank: (\d+)\)/.exec(line);
      return m ? [[Number(m[2]), Number(m[1])] as const] : [];
    }),
  );
  const rankName = (local: number) => {
    const global = globalRanks.get(local) ?? (reports.multiNode ? undefined : local);
    return global !== undefined ? `rank ${global}` : `local rank ${local}`;
  };
  const failed = failures.find((f) => f.code < 0) ?? failures.find((f) => !peers.has(f.localRank));
  if (torchrun && failed) {
    const how =
      failed.code < 0
        ? describeSignal(SIGNAL_NAMES.get(-failed.code) ?? `signal ${-failed.code}`)
        : `exited with code ${failed.code}`;
    return `the PyTorch process of ${rankName(failed.localRank)} (pid ${failed.pid}) ${how}, so torchrun ended the run${lastWords(exit, failed.code >= 0)}`;
  }
  if (torchrun && (failures.length > 0 || peers.size > 0)) {
    // torchrun saw only processes that lost their peers: the one that went first said nothing.
    const silent = Array.from({ length: reports.localWorld }, (_, i) => i).filter(
      (i) => !peers.has(i),
    );
    const lost = [...peers].map(rankName).join(', ');
    if (silent.length === 1) {
      return `the PyTorch process of ${rankName(silent[0])} ended without saying why (killed, perhaps for lack of memory); ${lost} lost ${peers.size === 1 ? 'its' : 'their'} connection to it, so torchrun ended the run`;
    }
    return `a PyTorch process of the run ended without saying why (killed, perhaps for lack of memory${reports.multiNode ? ', or on another machine' : ''}); ${lost || 'the others'} lost ${peers.size === 1 ? 'its' : 'their'} connection to it, so torchrun ended the run`;
  }
  if (exit.signal) return `the PyTorch process ${describeSignal(exit.signal)}`;
  if (exit.code === null) return `the PyTorch process could not start${lastWords(exit, true)}`;
  return `the PyTorch process exited with code ${exit.code}${lastWords(exit, true)}`;
}

/** The last line of a Python traceback in its stderr, if any. */
function lastWords(exit: EngineExit, wanted: boolean): string {
  if (!wanted) return '';
  const line = [...exit.stderrTail]
    .reverse()
    .map((l) => l.replace(/^\[[a-z]*\d+\]:/, '').trim())
    // torchrun's own ChildFailedError says only that a process failed.
    .find(
      (l) =>
        /^[A-Za-z_.]*(Error|Exception|Interrupt)\b|^could not start/.test(l) &&
        !/ChildFailedError/.test(l),
    );
  return line ? ` (${line.slice(0, 300)})` : '';
}
