/**
 * The run recorder: the one writer of a run folder (layout in folder.ts).
 * An engine hands it the run's events, its weights and its checkpoints; it
 * writes run.json, project.json, metrics.jsonl, weights.safetensors, the
 * curves and checkpoint/, each whole or not at all, and says what of the run
 * is safe when a write fails.
 *
 * It knows nothing of tfjs: an engine in another process (PyTorch) records
 * through it just the same, from the events it streams and the tensors it
 * saves (or by writing those two files itself in checkpoint.ts's format).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { RunRecord } from '../../api/training-api';
import type { EpochEvent, TrainingEvent } from '../../api/training-protocol';
import { loadValidProject } from '../../core/document/load';
import type { Project } from '../../core/document/schema';
import { inferValidGraph } from '../../core/infer';
import type { TrainOptions } from '../../core/training/options';
import { encodeSafetensors, type TensorMap } from '../../core/weights/safetensors';
import {
  explainingWrites,
  explainWriteError,
  WriteError,
  writeFileAtomic,
} from '../../node/file-writes';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { renderCurvesPng, renderCurvesSvg } from './curves';
import {
  lockRunFolder,
  RECORD_EVENTS,
  RUN_FILES,
  recordAfter,
  removeTemporaries,
  runFile,
} from './folder';

/** The events of a metrics.jsonl; a line cut short by a crash is skipped. */
function readLines(file: string): TrainingEvent[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      return line.trim() ? [JSON.parse(line) as TrainingEvent] : [];
    } catch {
      return [];
    }
  });
}

/** The network as the compiler sees it: its layers, their parameters and connections. */
const networkOf = (project: Project) =>
  JSON.stringify(
    inferValidGraph(project).primitives.map((n) => [n.id, n.type, n.params, n.inputs]),
  );

/** A resumed run trains the network its checkpoint holds weights for. */
function refuseOtherNetwork(dir: string, project: Project): void {
  const file = runFile(dir, 'project');
  if (!existsSync(file)) return;
  const trained = loadValidProject(readFileSync(file, 'utf8'), file);
  if (networkOf(trained) !== networkOf(project)) {
    throw new Error(
      `the network differs from the one this run trained (${file}); a run continues only with its own network. Resume with that project file, or start a new run`,
    );
  }
}

/** A new run must not write over another one. */
function refuseUsedFolder(dir: string): void {
  const used = (['record', 'metrics', 'checkpoint'] as const).find((f) =>
    existsSync(runFile(dir, f)),
  );
  if (used) {
    throw new Error(
      `${dir} already holds a run (${RUN_FILES[used]}); continue it with --resume, or choose another folder for a new one`,
    );
  }
}

function readRecord(dir: string): RunRecord | undefined {
  try {
    return JSON.parse(readFileSync(runFile(dir, 'record'), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

export class RunRecorder {
  private record: RunRecord;
  /** False once a write failed: the run stops, and nothing more can be recorded. */
  private writable = true;
  /** Where the run stood at the last checkpoint written (or resumed from). */
  private lastCheckpoint: { epoch: number; batch: number } | undefined;
  private unlock: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    private readonly project: Project,
    options: TrainOptions,
  ) {
    const { outDir: _folder, resume: _resume, ...asked } = options;
    // A resumed run keeps its name and start; its options are the ones it now runs with.
    const earlier = options.resume ? readRecord(dir) : undefined;
    this.record = {
      id: basename(dir),
      projectName: project.name,
      startedAt: new Date().toISOString(),
      ...earlier,
      status: 'running',
      options: asked as TrainOptions,
    };
  }

  /**
   * Starts recording a run in `dir`, which it holds until `close`: a new run
   * needs a folder that holds no run yet; a resumed one, the network it was
   * trained with. Temporary files that a crash left are removed; the project
   * as trained, the record and (for a new run) an empty metrics.jsonl are
   * written.
   */
  static open(dir: string, project: Project, options: TrainOptions): RunRecorder {
    explainingWrites(dir, () => mkdirSync(dir, { recursive: true }));
    const unlock = lockRunFolder(dir);
    try {
      removeTemporaries(dir, { all: true });
      if (options.resume) refuseOtherNetwork(dir, project);
      else refuseUsedFolder(dir);
      const recorder = new RunRecorder(dir, project, options);
      recorder.unlock = unlock;
      const projectFile = runFile(dir, 'project');
      writeFileAtomic(projectFile, `${JSON.stringify(project, null, 2)}\n`);
      const metrics = runFile(dir, 'metrics');
      if (!options.resume) explainingWrites(metrics, () => writeFileSync(metrics, ''));
      recorder.writeRecord();
      return recorder;
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** Lets the folder go (another process may then resume the run). */
  close(): void {
    this.unlock?.();
    this.unlock = undefined;
  }

  /** Appends an event to metrics.jsonl and keeps run.json's status current. */
  recordEvent(event: TrainingEvent): void {
    // A download fills the cache, not this run.
    if (!this.writable || event.event === 'download') return;
    const metrics = runFile(this.dir, 'metrics');
    this.writing(metrics, () => appendFileSync(metrics, `${JSON.stringify(event)}\n`));
    if (RECORD_EVENTS.has(event.event)) {
      this.record = recordAfter(this.record, event);
      this.writeRecord();
    }
  }

  saveCheckpoint(checkpoint: Checkpoint): string {
    const path = saveCheckpoint(this.dir, checkpoint);
    this.lastCheckpoint = { epoch: checkpoint.position.epoch, batch: checkpoint.position.batch };
    return path;
  }

  /**
   * The checkpoint to resume from, verified (checkpoint.ts); throws saying how
   * to start instead when there is none. Epochs the checkpoint finished but
   * metrics.jsonl lacks (a crash between the two writes) are added to it.
   */
  loadCheckpoint(): Checkpoint {
    const checkpoint = loadCheckpoint(this.dir);
    this.lastCheckpoint = { epoch: checkpoint.position.epoch, batch: checkpoint.position.batch };
    const metrics = runFile(this.dir, 'metrics');
    const recorded = new Set(
      readLines(metrics).flatMap((e) => (e.event === 'epoch' ? [e.epoch] : [])),
    );
    const missing = checkpoint.position.metrics.filter((e) => !recorded.has(e.epoch));
    if (missing.length > 0) {
      this.writing(metrics, () =>
        appendFileSync(metrics, missing.map((e) => `${JSON.stringify(e)}\n`).join('')),
      );
    }
    return checkpoint;
  }

  /** After an epoch: its weights and the curves of every epoch so far. */
  saveEpoch(weights: TensorMap, epochs: EpochEvent[]): void {
    writeFileAtomic(runFile(this.dir, 'weights'), encodeSafetensors(weights));
    const svg = renderCurvesSvg(epochs, this.project.name);
    writeFileAtomic(runFile(this.dir, 'curvesSvg'), svg);
    writeFileAtomic(runFile(this.dir, 'curvesPng'), renderCurvesPng(svg));
  }

  /** Where the last checkpoint written (or resumed from) stands: "after epoch 2", "at batch 7 of epoch 3". */
  checkpointed(): string | undefined {
    const saved = this.lastCheckpoint;
    if (!saved) return undefined;
    return saved.batch === 0
      ? `after epoch ${saved.epoch}`
      : `at batch ${saved.batch} of epoch ${saved.epoch + 1}`;
  }

  /** A failure's message; a failed write also says what of the run is safe. */
  describeFailure(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof WriteError)) return message;
    const where = this.checkpointed();
    return `${message}. Training stopped; ${
      where
        ? `the checkpoint ${where} in ${this.dir} is kept, so the run can be resumed from it once there is room`
        : 'no checkpoint had been written yet, so the run would start again'
    }.`;
  }

  private writeRecord(): void {
    const file = runFile(this.dir, 'record');
    this.writing(file, () => writeFileAtomic(file, `${JSON.stringify(this.record, null, 2)}\n`));
  }

  private writing(file: string, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.writable = false;
      throw error instanceof WriteError ? error : explainWriteError(error, file);
    }
  }
}
