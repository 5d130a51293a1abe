/**
 * A run folder, read back: its record (run.json), the project as trained,
 * the metrics for the curves, and the weights to evaluate or export. The
 * recorder (recorder.ts) writes the folder; training runs, evaluation and
 * the command line read it here, and nowhere else.
 *
 *   run.json                            what was asked and how it went
 *   project.json                        the project as trained
 *   metrics.jsonl                       every event, one per line
 *   weights.safetensors                 the weights after the last epoch
 *   curves.svg, curves.png              the course's plot
 *   checkpoint/checkpoint.safetensors   weights, optimizer state, position (checkpoint.ts)
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunMetrics, RunRecord } from '../../api/training-api';
import type { FinalEvent, TrainingEvent } from '../../api/training-protocol';
import { loadValidProject } from '../../core/document/load';
import type { Project } from '../../core/document/schema';
import { decodeSafetensors, type TensorMap } from '../../core/weights/safetensors';
import { explainingWrites, explainWriteError, writeFileAtomicAsync } from '../../node/file-writes';
import { RUN_FILES } from '../../node/run-files';
import { loadCheckpoint } from './checkpoint';

export { RUN_FILES };

export const runFile = (dir: string, file: keyof typeof RUN_FILES) =>
  path.join(dir, RUN_FILES[file]);

/** Held while a run trains in the folder: the process's id, so a crashed holder is recognised. */
const LOCK_FILE = 'run.lock';
/** Temporary files of whole-or-nothing writes: `<file>.<pid>[.<n>].tmp` (node/file-writes.ts). */
const TEMPORARY = /\.(\d+)(?:\.\d+)?\.tmp$/;

/**
 * Creates a new run folder `parent/name`, or `name-2`, `name-3`, … when that
 * exists: each mkdir is exclusive, so two runs started in the same second, by
 * two processes or by one host, never share a folder.
 */
export function createRunFolder(parent: string, name: string): string {
  explainingWrites(parent, () => mkdirSync(parent, { recursive: true }));
  for (let n = 1; n <= 1000; n++) {
    const dir = path.join(parent, n === 1 ? name : `${name}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw explainWriteError(error, dir);
    }
  }
  throw new Error(`${parent} already holds 1000 runs named ${name}; choose another folder`);
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The process training in the folder now, if one is (a lock left by a crash does not count). */
export function runLockHolder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock of a run whose worker thread in this process died holding
 * it (the process lives on, so the lock would otherwise look held forever).
 */
export function releaseWorkerLock(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  try {
    if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
  } catch {
    // no lock: nothing to release
  }
}

/**
 * Claims the folder for this process's run; a lock left by a process that
 * is gone is taken over. Throws naming the process that trains there now.
 * Returns the release.
 */
export function lockRunFolder(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const holder = runLockHolder(dir);
  if (holder !== undefined && holder !== process.pid) {
    throw new Error(
      `${dir} is being trained by another process (${holder}); wait for it to finish or stop it first`,
    );
  }
  explainingWrites(file, () => writeFileSync(file, String(process.pid)));
  return () => rmSync(file, { force: true });
}

/**
 * Removes temporary files that a write cut short left behind (kill -9 in the
 * middle of a checkpoint). With `all`, every one (the caller holds the
 * folder's lock, so none is being written); otherwise those of processes
 * that are gone. Returns how many bytes were freed.
 */
export function removeTemporaries(dir: string, { all }: { all: boolean }): number {
  let freed = 0;
  for (const folder of [dir, path.dirname(runFile(dir, 'checkpoint'))]) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = TEMPORARY.exec(name);
      if (!match || (!all && isAlive(Number(match[1])))) continue;
      const file = path.join(folder, name);
      try {
        freed += lstatSync(file).size;
      } catch {
        // Already gone.
      }
      rmSync(file, { force: true });
    }
  }
  return freed;
}

/** The record after an event: what run.json says once it happened. */
export function recordAfter(record: RunRecord, event: TrainingEvent): RunRecord {
  switch (event.event) {
    case 'start':
      return {
        ...record,
        status: 'running',
        backend: event.backend,
        device: event.device,
        ...(event.execution ? { execution: event.execution } : {}),
      };
    case 'paused':
      return { ...record, status: 'paused' };
    case 'resumed':
      return { ...record, status: 'running' };
    case 'stopped':
      return { ...record, status: 'stopped' };
    case 'done':
      return { ...record, status: 'done' };
    case 'error':
      return { ...record, status: 'failed', error: event.message };
    default:
      return record;
  }
}

/** Events that change run.json (the others only go to metrics.jsonl). */
export const RECORD_EVENTS: ReadonlySet<TrainingEvent['event']> = new Set([
  'start',
  'paused',
  'resumed',
  'stopped',
  'done',
  'error',
]);

export async function readRunRecord(dir: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(runFile(dir, 'record'), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** Whole or not at all: written to a temporary file and renamed, so a reader never sees half. */
export function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  return writeFileAtomicAsync(runFile(dir, 'record'), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * Records how a run ended when its engine could not (its worker died): the
 * run's record is updated with the final event, if the run has one yet.
 */
export async function recordRunEnd(dir: string, event: FinalEvent): Promise<void> {
  const record = await readRunRecord(dir);
  if (record) await writeRunRecord(dir, recordAfter(record, event));
}

/** metrics.jsonl holds the run's events one per line; a line cut short by a crash is skipped. */
export async function readRunMetrics(dir: string, runId: string): Promise<RunMetrics> {
  const metrics: RunMetrics = { runId, batches: [], epochs: [] };
  let text = '';
  try {
    text = await readFile(runFile(dir, 'metrics'), 'utf8');
  } catch {
    return metrics;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let event: TrainingEvent;
    try {
      event = JSON.parse(line) as TrainingEvent;
    } catch {
      continue;
    }
    if (event.event === 'batch') {
      metrics.batches.push({ x: event.epoch - 1 + event.batch / event.batches, loss: event.loss });
    } else if (event.event === 'epoch') metrics.epochs.push(event);
    else if (event.event === 'layerStats') metrics.layerStats = event;
  }
  return metrics;
}

/** The network as it was trained (the editor may have changed it since), if the run kept it. */
export async function readRunProject(dir: string): Promise<Project | undefined> {
  const file = runFile(dir, 'project');
  if (!existsSync(file)) return undefined;
  return loadValidProject(await readFile(file, 'utf8'), file);
}

export const hasFinalWeights = (dir: string) => existsSync(runFile(dir, 'weights'));
export const hasCheckpoint = (dir: string) => existsSync(runFile(dir, 'checkpoint'));

/**
 * The run's final weights, or its latest checkpoint's while it is still
 * running; `version` changes whenever they do (for caches).
 */
export async function runWeights(
  dir: string,
): Promise<{ version: string; load(): Promise<TensorMap> }> {
  const final = runFile(dir, 'weights');
  if (existsSync(final)) {
    return {
      version: `${final}@${(await stat(final)).mtimeMs}`,
      load: async () => decodeSafetensors(new Uint8Array(await readFile(final))).tensors,
    };
  }
  const checkpoint = runFile(dir, 'checkpoint');
  if (existsSync(checkpoint)) {
    return {
      version: `${checkpoint}@${(await stat(checkpoint)).mtimeMs}`,
      load: async () => loadCheckpoint(dir).weights,
    };
  }
  throw new Error(
    `run ${path.basename(dir)} has no weights yet: they are saved at the end of each epoch`,
  );
}
