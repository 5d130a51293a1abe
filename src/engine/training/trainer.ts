/**
 * The training loop, in the course's shape (d2l's Trainer: fit → fitEpoch →
 * trainStep / valStep): loads the data, sets up the backend, compiles the
 * project with the seed, trains with PyTorch-equivalent optimizers, validates
 * on the test split every epoch, checkpoints atomically, and streams
 * TrainingEvents (protocol.ts). Node only (it writes the run folder).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import type { TrainingEvent } from '../../api/training-protocol';
import { type CompiledModel, compileModel } from '../../core/compile/model';
import type { Project } from '../../core/document/schema';
import { type GraphInference, inferValidGraph } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import { checkTrainOptions, type TrainOptions } from '../../core/training/options';
import { encodeSafetensors, type TensorMap } from '../../core/weights/safetensors';
import {
  explainingWrites,
  explainWriteError,
  WriteError,
  writeFileAtomic,
} from '../../node/file-writes';
import { rateLimit } from '../../node/rate-limit';
import { initBackend } from '../backends';
import { batchIndices, type Dataset, loadDataset } from '../data';
import { type EpochEvent, loadCheckpoint, type RunPosition, saveCheckpoint } from './checkpoint';
import { writeCurves } from './curves';
import { correctCount, crossEntropy } from './losses';
import { createOptimizer, type Optimizer } from './optimizers';
import { learningRateAt } from './schedules';
import { gatherBatch, type StepResult, trainStep } from './step';

export type FinalEvent = Extract<TrainingEvent, { event: 'done' | 'stopped' | 'error' }>;
type EventSink = (event: TrainingEvent) => void;

/** At most this many 'batch' (and 'download') events per second. */
const BATCH_EVENTS_PER_SECOND = 10;
/** Run-folder files (besides checkpoint/). */
export const RUN_FILES = {
  project: 'project.json',
  weights: 'weights.safetensors',
  metrics: 'metrics.jsonl',
} as const;

/** Pause, resume and stop requests; the loop looks at them between batches. */
export class TrainingControl {
  private paused = false;
  private stopRequested = false;
  private wake: (() => void) | undefined;

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
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

/**
 * compileModel draws dropout seeds from a counter that starts at its seed and
 * advances once per Dropout layer per training forward pass. Starting it where
 * the interrupted run left it continues the same random stream, so a resumed
 * run repeats an uninterrupted one exactly. (Weights come from the checkpoint,
 * so the seed's other use, initialisation, does not matter here.)
 */
function resumedDropoutSeed(
  seed: number,
  position: RunPosition,
  inference: GraphInference,
): number {
  const drawsPerStep = inference.primitives.filter((p) => {
    const rate = (p.params as { p?: number }).p ?? 0;
    return p.type === 'Dropout' && rate > 0 && rate < 1;
  }).length;
  return (seed + position.optimizerStep * drawsPerStep) % 0x7fffffff;
}

/**
 * Activations (forward outputs of all layers) one training pass on wasm may
 * hold. The wasm heap is at most 2-4 GiB and a step needs several times its
 * activations; measured here: ResNet-18 at 96×96 trains with 32 images per
 * pass (181 MiB of activations) and fails with 64 (362 MiB).
 */
const WASM_ACTIVATION_BUDGET_BYTES = 192 * 2 ** 20;

/**
 * The micro-batch size for backends with a hard memory ceiling (wasm), when a
 * whole batch would not fit: otherwise tfjs-wasm fails mid-step with "memory
 * access out of bounds". Undefined when the batch fits.
 */
export function microBatchFor(
  backend: string,
  inference: GraphInference,
  batchSize: number,
): number | undefined {
  if (backend !== 'wasm') return undefined;
  const activations = inference.totals.memoryBytes;
  if (activations <= WASM_ACTIVATION_BUDGET_BYTES) return undefined;
  return Math.max(1, Math.ceil(batchSize / Math.ceil(activations / WASM_ACTIVATION_BUDGET_BYTES)));
}

/** The model's weights for safetensors, read asynchronously (WebGPU in Node cannot read synchronously). */
async function readWeights(model: CompiledModel): Promise<TensorMap> {
  const weights: TensorMap = new Map();
  for (const [key, v] of model.weights) {
    weights.set(key, { shape: [...v.shape], data: new Float32Array(await v.data()) });
  }
  return weights;
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The size images are fed at: the asked resize, else the project Input's size. Channels must match. */
function feedSize(project: Project, options: TrainOptions, data: Dataset): [number, number] {
  const declared = inferValidGraph(project).inputShape;
  const [h, w, c] = data.info.inputShape;
  if (declared && declared[1] !== c) {
    throw new Error(
      `the project's Input takes ${declared[1]} channel${declared[1] === 1 ? '' : 's'} but ${data.info.name} images have ${c}; set the Input node's channels to ${c}`,
    );
  }
  if (options.resize) return options.resize;
  return declared ? [declared[2], declared[3]] : [h, w];
}

export class Trainer {
  private model!: CompiledModel;
  private optimizer!: Optimizer;
  private data!: Dataset;
  private tf!: TF;
  private backend = '';
  private resize!: [number, number];
  /** Rows per forward/backward pass when a whole batch does not fit (undefined: it fits). */
  private microBatch: number | undefined;
  private position!: RunPosition;
  private readonly batchEventDue = rateLimit(BATCH_EVENTS_PER_SECOND);
  private startedAt = 0;
  /** Seconds per trained sample, including validation, from the epochs so far. */
  private secondsPerSample = 0;
  private outDirReady = false;
  /** Where the run stood at the last checkpoint written (or resumed from). */
  private lastCheckpoint: { epoch: number; batch: number } | undefined;
  private readonly emit: EventSink;

  constructor(
    private readonly project: Project,
    private readonly options: TrainOptions,
    sink: EventSink,
    private readonly control = new TrainingControl(),
  ) {
    this.emit = (event) => {
      this.record(event);
      sink(event);
    };
  }

  /** Runs the whole training; resolves to the final event (done, stopped or error), also emitted. */
  async fit(): Promise<FinalEvent> {
    let final: FinalEvent;
    try {
      final = await this.fitAll();
    } catch (error) {
      final = { event: 'error', message: this.describeFailure(error) };
    }
    // Released before the final event: the owner terminates this worker on it, and Dawn (webgpu)
    // aborts the whole process when that lands while a GPU buffer is being released.
    this.model?.dispose();
    this.optimizer?.dispose();
    this.emit(final);
    return final;
  }

  private async fitAll(): Promise<FinalEvent> {
    const { options } = this;
    checkTrainOptions(options);
    const backend = await initBackend(options.backend);
    this.tf = backend.tf;
    this.backend = backend.backend;
    const downloadEventDue = rateLimit(BATCH_EVENTS_PER_SECOND);
    this.data = await loadDataset({
      dataset: options.dataset,
      dataDir: options.dataDir,
      limitTrain: options.limitTrain,
      limitVal: options.limitVal,
      onProgress: (progress) => {
        if (progress.stage !== 'download') return;
        const edge = progress.loaded === 0 || progress.loaded === progress.total;
        if (!downloadEventDue(edge)) return;
        const { file, url, loaded, total } = progress;
        this.emit({ event: 'download', file, url, loaded, total });
      },
    });
    this.resize = feedSize(this.project, options, this.data);
    const channels = this.data.info.inputShape[2];
    const inference = inferValidGraph(this.project, {
      inputShape: [options.batchSize, channels, ...this.resize],
    });
    this.microBatch = microBatchFor(backend.backend, inference, options.batchSize);
    const checkpoint = options.resume ? loadCheckpoint(this.requireOutDir()) : undefined;
    this.model = compileModel(this.tf, inference, {
      init: options.init,
      seed: checkpoint
        ? resumedDropoutSeed(options.seed, checkpoint.position, inference)
        : options.seed,
      weights: checkpoint?.weights,
    });
    this.optimizer = createOptimizer(this.tf, this.trainableByKey(), {
      name: options.optimizer,
      lr: options.lr,
      momentum: options.momentum,
      weightDecay: options.weightDecay,
    });
    if (checkpoint) {
      this.optimizer.setState(checkpoint.optimizer);
      this.lastCheckpoint = { epoch: checkpoint.position.epoch, batch: checkpoint.position.batch };
    }
    this.position = checkpoint?.position ?? {
      epoch: 0,
      batch: 0,
      partial: { lossSum: 0, correct: 0, seen: 0 },
      seed: options.seed,
      optimizerStep: 0,
      optimizer: options.optimizer,
      metrics: [],
      options,
      savedAt: '',
    };
    this.position.options = options;
    this.prepareOutDir();
    const batches = Math.ceil(this.data.train.count / options.batchSize);
    const notes = [
      ...(backend.note ? [backend.note] : []),
      ...(this.microBatch
        ? [
            `a batch of ${options.batchSize} at ${this.resize.join('×')} does not fit in ${backend.backend}'s memory, so each step sums the gradients of parts of ${this.microBatch} images (BatchNorm normalises each part alone); a smaller --batch-size avoids this`,
          ]
        : []),
    ];
    this.emit({
      event: 'start',
      backend: backend.backend,
      device: backend.device,
      ...(notes.length > 0 ? { backendNote: notes.join('. ') } : {}),
      // The sizes trained and validated on (after --limit-train/--limit-val) and the size fed.
      dataset: {
        ...this.data.info,
        trainSize: this.data.train.count,
        valSize: this.data.val.count,
        inputShape: [this.resize[0], this.resize[1], channels],
      },
      epochs: options.epochs,
      batchesPerEpoch: batches,
      ...(checkpoint ? { resumedFromEpoch: checkpoint.position.epoch } : {}),
      ...(backend.threads ? { threads: backend.threads } : {}),
    });
    this.startedAt = performance.now();
    while (this.position.epoch < options.epochs) {
      const outcome = await this.fitEpoch();
      if (outcome) return outcome;
    }
    const last = this.position.metrics.at(-1) as EpochEvent;
    return {
      event: 'done',
      epochs: options.epochs,
      trainLoss: last.trainLoss,
      trainAcc: last.trainAcc,
      valLoss: last.valLoss,
      valAcc: last.valAcc,
      seconds: (performance.now() - this.startedAt) / 1000,
      backend: this.backend,
      ...(options.outDir ? { outDir: options.outDir } : {}),
    };
  }

  /** One epoch from the current position; returns a final event if the run ends inside it. */
  private async fitEpoch(): Promise<FinalEvent | undefined> {
    const { tf, options, position } = this;
    const epochStart = performance.now();
    this.optimizer.lr = learningRateAt(
      options.schedule,
      options.lr,
      position.epoch,
      options.epochs,
    );
    const order = batchIndices(this.data.train.count, options.batchSize, {
      shuffle: true,
      seed: options.seed,
      epoch: position.epoch,
    });
    const samplesBefore = position.partial.seen;
    for (; position.batch < order.length; position.batch++) {
      const outcome = await this.betweenBatches();
      if (outcome) return outcome;
      const rows = order[position.batch];
      const statsDue =
        (options.layerStatsEvery ?? 0) > 0 &&
        (position.epoch * order.length + position.batch) % (options.layerStatsEvery as number) ===
          0;
      const { x, y } = gatherBatch(tf, this.data.train, rows, this.resize);
      let step: StepResult;
      try {
        step = await trainStep(
          tf,
          this.model,
          this.optimizer,
          x,
          (logits, start, count) => {
            const labels = count === rows.length ? y : (tf.slice(y, start, count) as typeof y);
            return {
              loss: crossEntropy(tf, logits, labels),
              correct: correctCount(tf, logits, labels),
            };
          },
          { layerStats: statsDue, microBatch: this.microBatch },
        );
      } finally {
        tf.dispose([x, y]);
      }
      if (!Number.isFinite(step.loss)) {
        return this.diverged(`the loss became ${step.loss} at batch ${position.batch + 1}`);
      }
      position.partial.lossSum += step.loss * rows.length;
      position.partial.correct += step.correct;
      position.partial.seen += rows.length;
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const rate = (position.partial.seen - samplesBefore) / Math.max(trainSeconds, 1e-9);
      if (this.batchEventDue(position.batch === order.length - 1)) {
        this.emit({
          event: 'batch',
          epoch: position.epoch + 1,
          batch: position.batch + 1,
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
          batch: position.batch + 1,
          layers: step.layerStats,
        });
      }
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
      etaSec: this.secondsPerSample * this.data.train.count * (options.epochs - position.epoch - 1),
      lr: this.optimizer.lr,
      seconds,
      backend: this.backend,
      memoryBytes: memory.numBytes,
      tensors: memory.numTensors,
    };
    position.metrics.push(epochEvent);
    position.epoch++;
    position.batch = 0;
    position.partial = { lossSum: 0, correct: 0, seen: 0 };
    this.emit(epochEvent);
    if (options.outDir) {
      const path = await this.saveCheckpoint();
      writeFileAtomic(
        join(options.outDir, RUN_FILES.weights),
        encodeSafetensors(await readWeights(this.model)),
      );
      writeCurves(options.outDir, position.metrics, this.project.name);
      this.emit({ event: 'checkpoint', epoch: epochEvent.epoch, path });
    }
    return undefined;
  }

  /** The run ends here: the numbers overflowed, and the learning rate is the usual cause. */
  private diverged(what: string): FinalEvent {
    const { lr } = this.options;
    return {
      event: 'error',
      message: `${what} in epoch ${this.position.epoch + 1}: training diverged. Lower the learning rate (it is ${lr}; try ${lr / 10}) and start again; the last good checkpoint is kept`,
    };
  }

  /** Mean cross-entropy and accuracy on the whole validation split (inference mode). */
  async valStep(x: tfc.Tensor4D, y: tfc.Tensor1D): Promise<{ lossSum: number; correct: number }> {
    const { tf } = this;
    const sums = tf.tidy(() => {
      const logits = this.model.forward(x, false);
      return tf.stack([
        crossEntropy(tf, logits, y, 'sum'),
        tf.cast(correctCount(tf, logits, y), 'float32'),
      ]);
    });
    const [lossSum, correct] = await sums.data();
    sums.dispose();
    return { lossSum, correct };
  }

  private async validate(): Promise<{ loss: number; accuracy: number }> {
    const { val } = this.data;
    let lossSum = 0;
    let correct = 0;
    // Inference mode does not depend on the batch, so validate in parts that fit.
    for (const rows of batchIndices(val.count, this.microBatch ?? this.options.batchSize, {
      shuffle: false,
      seed: 0,
      epoch: 0,
    })) {
      const { x, y } = gatherBatch(this.tf, val, rows, this.resize);
      const sums = await this.valStep(x, y);
      this.tf.dispose([x, y]);
      lossSum += sums.lossSum;
      correct += sums.correct;
    }
    return { loss: lossSum / val.count, accuracy: correct / val.count };
  }

  /** Lets pause/resume/stop messages in, and acts on them. */
  private async betweenBatches(): Promise<FinalEvent | undefined> {
    await nextTick();
    const { position } = this;
    if (this.control.isPaused) {
      this.emit({ event: 'paused', epoch: position.epoch + 1, batch: position.batch });
      while (this.control.isPaused) await this.control.untilResumed();
      if (!this.control.stopping) {
        this.emit({ event: 'resumed', epoch: position.epoch + 1, batch: position.batch });
      }
    }
    if (!this.control.stopping) return undefined;
    const checkpoint = this.options.outDir ? await this.saveCheckpoint() : undefined;
    return {
      event: 'stopped',
      epoch: position.epoch + 1,
      batch: position.batch,
      ...(checkpoint ? { checkpoint } : {}),
    };
  }

  private eta(rate: number): number {
    const { position } = this;
    const perEpoch = this.data.train.count;
    const remaining = perEpoch * (this.options.epochs - position.epoch) - position.partial.seen;
    const secondsPerSample = this.secondsPerSample || 1 / Math.max(rate, 1e-9);
    return remaining * secondsPerSample;
  }

  private async saveCheckpoint(): Promise<string> {
    const optimizer = await this.optimizer.getState();
    this.position.optimizerStep = optimizer.step;
    this.position.savedAt = new Date().toISOString();
    const path = saveCheckpoint(this.requireOutDir(), {
      position: this.position,
      weights: await readWeights(this.model),
      optimizer,
    });
    this.lastCheckpoint = { epoch: this.position.epoch, batch: this.position.batch };
    return path;
  }

  private trainableByKey(): Map<string, tfc.Variable> {
    return new Map([...this.model.weights].filter(([, v]) => v.trainable));
  }

  private requireOutDir(): string {
    if (!this.options.outDir) {
      throw new Error(
        'resuming needs the run folder: give --out DIR (the folder of the run to continue)',
      );
    }
    return this.options.outDir;
  }

  private prepareOutDir(): void {
    const { outDir } = this.options;
    if (!outDir) return;
    const project = join(outDir, RUN_FILES.project);
    explainingWrites(project, () => {
      mkdirSync(outDir, { recursive: true });
      writeFileSync(project, `${JSON.stringify(this.project, null, 2)}\n`);
    });
    const metrics = join(outDir, RUN_FILES.metrics);
    if (!this.options.resume) explainingWrites(metrics, () => writeFileSync(metrics, ''));
    this.outDirReady = true;
  }

  /** Appends an event to metrics.jsonl (the run's record, read back by the dashboard). */
  private record(event: TrainingEvent): void {
    if (!this.options.outDir || !this.outDirReady) return;
    const metrics = join(this.options.outDir, RUN_FILES.metrics);
    try {
      appendFileSync(metrics, `${JSON.stringify(event)}\n`);
    } catch (error) {
      // The run stops; its final event can no longer be recorded either.
      this.outDirReady = false;
      throw explainWriteError(error, metrics);
    }
  }

  /** The final error's message; a failed write also says what of the run is safe. */
  private describeFailure(error: unknown): string {
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
        ? `the checkpoint ${where} in ${this.options.outDir} is kept, so the run can be resumed from it once there is room`
        : 'no checkpoint had been written yet, so the run would start again'
    }.`;
  }
}

/** Runs a training to the end on this thread (the worker calls this). */
export function runTraining(
  project: Project,
  options: TrainOptions,
  emit: EventSink,
  control?: TrainingControl,
): Promise<FinalEvent> {
  return new Trainer(project, options, emit, control).fit();
}
