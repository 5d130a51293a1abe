/**
 * The training loop, in the course's shape (d2l's Trainer): a run is
 * prepared (prepare.ts: backend, data, model, optimizer, step, resume), then
 * `fit` runs `fitEpoch` until the last epoch, and `fitEpoch` calls the step
 * (step.ts: forward, backward, update) on each batch and `valStep` on the
 * test split. Everything written goes through the run recorder (run/), and
 * every event of the api's protocol is emitted. Node only.
 *
 * Two seams: the step level (a TrainingStep: a compiled WebGPU step plugs in
 * there) and the run level (runTraining: a whole-run engine, such as PyTorch
 * in a child process, takes the run instead, recording through a
 * RunRecorder and emitting the same events).
 */
import type { EpochEvent, FinalEvent, TrainingEvent } from '../../api/training-protocol';
import type { Project } from '../../core/document/schema';
import { checkTrainOptions, type TrainOptions } from '../../core/training/options';
import { rateLimit } from '../../node/rate-limit';
import { batchIndices } from '../data';
import { RunRecorder } from '../run/recorder';
import { DeviceLost, watchDeviceLoss } from '../webgpu/device';
import { type PreparedRun, prepareRun } from './prepare';
import { learningRateAt } from './schedules';
import type { StepResult } from './step';

type EventSink = (event: TrainingEvent) => void;

/** At most this many 'batch' events per second. */
const BATCH_EVENTS_PER_SECOND = 10;
/** A smoothed loss this many times its first value (or chance level) has exploded. */
const EXPLODED = 100;

/** Pause, resume and stop requests; the loop looks at them between batches. */
export class TrainingControl {
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | undefined;
  private readonly listeners = new Set<() => void>();

  pause(): void {
    this.paused = true;
    this.changed();
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
    this.changed();
  }
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
    this.changed();
  }
  /** Calls `listener` on every request (an engine in another process forwards them); returns the unsubscribe. */
  onRequest(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private changed(): void {
    for (const listener of this.listeners) listener();
  }
  get stopping(): boolean {
    return this.stopRequested;
  }
  get isPaused(): boolean {
    return this.paused && !this.stopRequested;
  }
  /** Resolves when resumed or stopped. */
  untilResumed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A step under way: which batch, how many rows, its numbers to come. */
interface PendingStep {
  batch: number;
  rows: number;
  result: Promise<StepResult>;
}

export class Trainer {
  private run!: PreparedRun;
  private recorder: RunRecorder | undefined;
  /** Why the GPU device was lost, if it was (WebGPU). */
  private deviceLoss: () => string | undefined = () => undefined;
  private readonly batchEventDue = rateLimit(BATCH_EVENTS_PER_SECOND);
  private startedAt = 0;
  /** Seconds per trained sample, including validation, from the epochs so far. */
  private secondsPerSample = 0;
  /** When the last checkpoint was written (performance.now()), for the time interval. */
  private lastCheckpointAt = 0;
  /** The training loss smoothed over batches, watched for a loss that explodes. */
  private smoothedLoss: number | undefined;
  private readonly emit: EventSink;

  constructor(
    private readonly project: Project,
    private readonly options: TrainOptions,
    private readonly sink: EventSink,
    private readonly control = new TrainingControl(),
  ) {
    this.emit = (event) => {
      this.recorder?.recordEvent(event);
      sink(event);
    };
  }

  /** Runs the whole training; resolves to the final event (done, stopped or error), also emitted. */
  async fit(): Promise<FinalEvent> {
    let final: FinalEvent;
    try {
      checkTrainOptions(this.options);
      const { outDir } = this.options;
      this.recorder = outDir ? RunRecorder.open(outDir, this.project, this.options) : undefined;
      this.run = await prepareRun(this.project, this.options, this.recorder, this.emit);
      this.deviceLoss = watchDeviceLoss(this.run.tf);
      this.emit(this.run.start);
      this.lastCheckpointAt = performance.now();
      final = await this.fitEpochs();
    } catch (error) {
      final = { event: 'error', message: this.describeFailure(error) };
    }
    // Released before the final event: the owner terminates this worker on it, and Dawn (webgpu)
    // aborts the whole process when that lands while a GPU buffer is being released.
    await this.run?.step.dispose();
    this.run?.model.dispose();
    this.run?.optimizer.dispose();
    try {
      this.recorder?.recordEvent(final);
    } catch {
      // The run has failed already (a full disk); its end still reaches the owner.
    }
    this.recorder?.close();
    this.sink(final);
    return final;
  }

  private async fitEpochs(): Promise<FinalEvent> {
    const { options } = this;
    const { position } = this.run;
    this.startedAt = performance.now();
    while (position.epoch < options.epochs) {
      const outcome = await this.fitEpoch();
      if (outcome) return outcome;
    }
    const last = position.metrics.at(-1) as EpochEvent;
    return {
      event: 'done',
      epochs: options.epochs,
      trainLoss: last.trainLoss,
      trainAcc: last.trainAcc,
      valLoss: last.valLoss,
      valAcc: last.valAcc,
      seconds: (performance.now() - this.startedAt) / 1000,
      backend: this.run.backend.backend,
      execution: this.run.step.execution,
      ...(options.outDir ? { outDir: options.outDir } : {}),
    };
  }

  /** One epoch from the current position; returns a final event if the run ends inside it. */
  private async fitEpoch(): Promise<FinalEvent | undefined> {
    const { options } = this;
    const { tf, position, data, optimizer } = this.run;
    const epochStart = performance.now();
    optimizer.lr = learningRateAt(options, position.epoch);
    const order = batchIndices(data.train.count, options.batchSize, {
      shuffle: true,
      seed: options.seed,
      epoch: position.epoch,
    });
    const samplesBefore = position.partial.seen;
    // Steps under way, oldest first; their numbers are taken in order, each as it is read back.
    const pending: PendingStep[] = [];
    const settle = async (entry: PendingStep): Promise<FinalEvent | undefined> => {
      const step = await entry.result;
      const exploded = this.divergence(step.loss);
      if (exploded) return this.diverged(`${exploded} at batch ${entry.batch + 1}`);
      position.partial.lossSum += step.loss * entry.rows;
      position.partial.correct += step.correct;
      position.partial.seen += entry.rows;
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const rate = (position.partial.seen - samplesBefore) / Math.max(trainSeconds, 1e-9);
      if (this.batchEventDue(entry.batch === order.length - 1)) {
        this.emit({
          event: 'batch',
          epoch: position.epoch + 1,
          batch: entry.batch + 1,
          batches: order.length,
          loss: step.loss,
          samplesPerSec: rate,
          etaSec: this.eta(rate),
        });
      }
      if (step.layerStats) {
        this.emit({
          event: 'layerStats',
          epoch: position.epoch + 1,
          batch: entry.batch + 1,
          layers: step.layerStats,
        });
      }
      return undefined;
    };
    const settleAll = async (): Promise<FinalEvent | undefined> => {
      while (pending.length > 0) {
        const outcome = await settle(pending.shift() as PendingStep);
        if (outcome) return outcome;
      }
      return undefined;
    };
    try {
      for (; position.batch < order.length; position.batch++) {
        const outcome = await this.betweenBatches(settleAll);
        if (outcome) return outcome;
        const rows = order[position.batch];
        const statsEvery = options.layerStatsEvery ?? 0;
        const layerStats =
          statsEvery > 0 && (position.epoch * order.length + position.batch) % statsEvery === 0;
        const { result } = await this.run.step.run(data.train, rows, {
          layerStats,
          augment: {
            augmentation: options,
            draw: { seed: options.seed, epoch: position.epoch, batch: position.batch },
          },
        });
        pending.push({ batch: position.batch, rows: rows.length, result });
        while (pending.length > this.run.step.inFlight) {
          const settled = await settle(pending.shift() as PendingStep);
          if (settled) return settled;
        }
      }
      const settled = await settleAll();
      if (settled) return settled;
    } finally {
      // Steps left under way when the run ends early: their numbers are no longer wanted.
      for (const entry of pending) entry.result.catch(() => undefined);
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const trainedThisRun = position.partial.seen - samplesBefore;
    const { loss: valLoss, accuracy: valAcc } = await this.validate();
    if (!Number.isFinite(valLoss)) return this.diverged(`the validation loss became ${valLoss}`);
    const seconds = (performance.now() - epochStart) / 1000;
    if (trainedThisRun > 0) this.secondsPerSample = seconds / trainedThisRun;
    const memory = tf.memory();
    const epochEvent: EpochEvent = {
      event: 'epoch',
      epoch: position.epoch + 1,
      epochs: options.epochs,
      trainLoss: position.partial.lossSum / position.partial.seen,
      trainAcc: position.partial.correct / position.partial.seen,
      valLoss,
      valAcc,
      samplesPerSec: trainedThisRun / Math.max(trainSeconds, 1e-9),
      etaSec: this.secondsPerSample * data.train.count * (options.epochs - position.epoch - 1),
      lr: optimizer.lr,
      seconds,
      backend: this.run.backend.backend,
      execution: this.run.step.execution,
      device: this.run.backend.device,
      memoryBytes: memory.numBytes,
      tensors: memory.numTensors,
    };
    position.metrics.push(epochEvent);
    position.epoch++;
    position.batch = 0;
    position.partial = { lossSum: 0, correct: 0, seen: 0 };
    // The epoch is announced (and written to metrics.jsonl) once its checkpoint is safe,
    // so the record never claims an epoch a crash would make the run redo.
    if (this.recorder) {
      const path = await this.saveCheckpoint(this.recorder);
      this.recorder.saveEpoch(await this.run.model.readWeights(), position.metrics);
      this.emit({ event: 'checkpoint', epoch: epochEvent.epoch, path });
    }
    this.emit(epochEvent);
    return undefined;
  }

  /** A failure's message, with what of the run is safe where that is in question. */
  private describeFailure(error: unknown): string {
    const lost = this.deviceLoss();
    if (error instanceof DeviceLost || lost !== undefined) {
      const { message } = error instanceof DeviceLost ? error : new DeviceLost(lost as string);
      const kept = this.recorder?.checkpointed();
      return `${message}: training stopped. ${
        kept
          ? `The checkpoint ${kept} in ${this.recorder?.dir} is kept; continue from it with --resume once the GPU works again`
          : 'No checkpoint had been written yet'
      }.`;
    }
    return this.recorder?.describeFailure(error) ?? (error as Error).message ?? String(error);
  }

  /**
   * What is wrong with a training loss, if the run diverges: it is not finite,
   * or, smoothed over batches, it has grown past EXPLODED times the larger of
   * its first value and chance level (ln of the class count), which no
   * learning run reaches.
   */
  private divergence(loss: number): string | undefined {
    if (!Number.isFinite(loss)) return `the loss became ${loss}`;
    const { position, data } = this.run;
    position.firstLoss ??= loss;
    this.smoothedLoss =
      this.smoothedLoss === undefined ? loss : 0.9 * this.smoothedLoss + 0.1 * loss;
    const limit = EXPLODED * Math.max(position.firstLoss, Math.log(data.info.classes.length));
    if (this.smoothedLoss <= limit) return undefined;
    return `the loss exploded to ${loss.toPrecision(4)} (smoothed ${this.smoothedLoss.toPrecision(4)}, more than ${EXPLODED} times its first value ${position.firstLoss.toPrecision(4)})`;
  }

  /** The run ends here: the numbers overflowed, and the learning rate is the usual cause. */
  private diverged(what: string): FinalEvent {
    const { lr } = this.options;
    const kept = this.recorder?.checkpointed();
    return {
      event: 'error',
      message: `${what} in epoch ${this.run.position.epoch + 1}: training diverged. Lower the learning rate (it is ${lr}; try ${lr / 10}) and start again${kept ? `; the checkpoint ${kept} is kept` : ''}`,
    };
  }

  /** Mean cross-entropy and accuracy on the whole validation split (inference mode). */
  private async validate(): Promise<{ loss: number; accuracy: number }> {
    const { data, microBatch, step } = this.run;
    const { val } = data;
    // Inference mode does not depend on the batch, so validate in parts that fit.
    const batches = batchIndices(val.count, microBatch ?? this.options.batchSize, {
      shuffle: false,
      seed: 0,
      epoch: 0,
    });
    const { lossSum, correct } = await step.evaluate(val, batches);
    return { loss: lossSum / val.count, accuracy: correct / val.count };
  }

  /**
   * Lets pause/resume/stop messages in, and acts on them; first, the numbers
   * of every step under way (`settle`), so a pause, stop or checkpoint sees them.
   */
  private async betweenBatches(
    settle: () => Promise<FinalEvent | undefined>,
  ): Promise<FinalEvent | undefined> {
    await nextTick();
    const { position } = this.run;
    if (this.control.isPaused || this.control.stopping || this.checkpointDue()) {
      const outcome = await settle();
      if (outcome) return outcome;
    }
    if (this.control.isPaused) {
      this.emit({ event: 'paused', epoch: position.epoch + 1, batch: position.batch });
      while (this.control.isPaused) await this.control.untilResumed();
      if (!this.control.stopping) {
        this.emit({ event: 'resumed', epoch: position.epoch + 1, batch: position.batch });
      }
    }
    if (!this.control.stopping) {
      if (this.checkpointDue()) {
        const path = await this.saveCheckpoint(this.recorder as RunRecorder);
        this.emit({ event: 'checkpoint', epoch: position.epoch + 1, batch: position.batch, path });
      }
      return undefined;
    }
    const checkpoint = this.recorder ? await this.saveCheckpoint(this.recorder) : undefined;
    return {
      event: 'stopped',
      epoch: position.epoch + 1,
      batch: position.batch,
      ...(checkpoint ? { checkpoint } : {}),
    };
  }

  /** Whether a checkpoint within the epoch is due: the interval has passed since the last, so a crash loses little. */
  private checkpointDue(): boolean {
    const minutes = this.options.checkpointMinutes;
    const { position } = this.run;
    if (!this.recorder || minutes <= 0 || position.batch === 0) return false;
    return performance.now() - this.lastCheckpointAt >= minutes * 60_000;
  }

  private eta(rate: number): number {
    const { position, data } = this.run;
    const perEpoch = data.train.count;
    const remaining = perEpoch * (this.options.epochs - position.epoch) - position.partial.seen;
    const secondsPerSample = this.secondsPerSample || 1 / Math.max(rate, 1e-9);
    return remaining * secondsPerSample;
  }

  private async saveCheckpoint(recorder: RunRecorder): Promise<string> {
    const { position, model, optimizer } = this.run;
    const state = await optimizer.getState();
    position.optimizerStep = state.step;
    position.savedAt = new Date().toISOString();
    this.lastCheckpointAt = performance.now();
    return recorder.saveCheckpoint({
      position,
      weights: await model.readWeights(),
      optimizer: state,
    });
  }
}

/**
 * Runs a training to the end on this thread (the worker calls this): the
 * run level, where an engine is chosen. PyTorch (backend 'pytorch') trains
 * in a child process that pytorch/run.ts drives, recording through a
 * RunRecorder and emitting the same events; every other backend is tfjs's.
 */
export async function runTraining(
  project: Project,
  options: TrainOptions,
  emit: EventSink,
  control = new TrainingControl(),
): Promise<FinalEvent> {
  if (options.backend === 'pytorch') {
    // Loaded when asked for: the PyTorch engine needs the exporters, the others do not.
    const { runPyTorchTraining } = await import('../pytorch/run');
    return runPyTorchTraining(project, options, emit, control);
  }
  return new Trainer(project, options, emit, control).fit();
}
