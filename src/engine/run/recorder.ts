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
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { RunRecord } from '../../api/training-api';
import type { EpochEvent, TrainingEvent } from '../../api/training-protocol';
import type { Project } from '../../core/document/schema';
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
import { RECORD_EVENTS, recordAfter, runFile } from './folder';

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
   * Starts recording a run in `dir`: the project as trained, its record, and
   * an empty metrics.jsonl (a resumed run appends to the one it has).
   */
  static open(dir: string, project: Project, options: TrainOptions): RunRecorder {
    const recorder = new RunRecorder(dir, project, options);
    const projectFile = runFile(dir, 'project');
    explainingWrites(projectFile, () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(projectFile, `${JSON.stringify(project, null, 2)}\n`);
    });
    const metrics = runFile(dir, 'metrics');
    if (!options.resume) explainingWrites(metrics, () => writeFileSync(metrics, ''));
    recorder.writeRecord();
    return recorder;
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

  /** The checkpoint to resume from; throws saying how to start instead when there is none. */
  loadCheckpoint(): Checkpoint {
    const checkpoint = loadCheckpoint(this.dir);
    this.lastCheckpoint = { epoch: checkpoint.position.epoch, batch: checkpoint.position.batch };
    return checkpoint;
  }

  /** After an epoch: its weights and the curves of every epoch so far. */
  saveEpoch(weights: TensorMap, epochs: EpochEvent[]): void {
    writeFileAtomic(runFile(this.dir, 'weights'), encodeSafetensors(weights));
    const svg = renderCurvesSvg(epochs, this.project.name);
    writeFileAtomic(runFile(this.dir, 'curvesSvg'), svg);
    writeFileAtomic(runFile(this.dir, 'curvesPng'), renderCurvesPng(svg));
  }

  /** A failure's message; a failed write also says what of the run is safe. */
  describeFailure(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof WriteError)) return message;
    const saved = this.lastCheckpoint;
    const where =
      saved &&
      (saved.batch === 0
        ? `after epoch ${saved.epoch}`
        : `at batch ${saved.batch} of epoch ${saved.epoch + 1}`);
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
