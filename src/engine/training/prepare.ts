/**
 * Preparing a run (d2l's Trainer.prepare_data and prepare_model): the
 * backend, the data, the size images are fed at, the compiled model, the
 * optimizer and the step, and where the run stands, all from a checkpoint
 * when it resumes. What the loop then needs is in one PreparedRun.
 */
import type { DatasetInfo, TrainingEvent } from '../../api/training-protocol';
import { classifierOutputIssue } from '../../core/classifier-output';
import { type CompiledModel, compileModel } from '../../core/compile/model';
import type { Project } from '../../core/document/schema';
import { type GraphInference, inferValidGraph } from '../../core/infer';
import { formatIssue } from '../../core/issues';
import type { TF } from '../../core/layers/types';
import { resumeConflicts, type TrainOptions } from '../../core/training/options';
import { rateLimit } from '../../node/rate-limit';
import { type BackendRuntime, initBackend } from '../backends';
import { type Dataset, loadDataset } from '../data';
import { augmentationOf } from '../data/augment';
import { CheckpointError, checkpointPath, type RunPosition } from '../run/checkpoint';
import type { RunRecorder } from '../run/recorder';
import { CompiledStep } from '../webgpu/executor';
import { NotCompilable } from '../webgpu/plan';
import { compiledOptimizer, compiledTrainingStep } from '../webgpu/training-step';
import { backendLimits, memoryNeeds, planMemory } from './memory';
import { createOptimizer, type Optimizer } from './optimizers';
import { autodiffStep, type TrainingStep } from './step';

export type StartEvent = Extract<TrainingEvent, { event: 'start' }>;
type DownloadEvent = Extract<TrainingEvent, { event: 'download' }>;
type WarningEvent = Extract<TrainingEvent, { event: 'warning' }>;

/** Everything the loop needs, made once per run. */
export interface PreparedRun {
  tf: TF;
  backend: BackendRuntime;
  data: Dataset;
  /** The size images are fed at. */
  resize: [number, number];
  model: CompiledModel;
  optimizer: Optimizer;
  step: TrainingStep;
  /** Rows per forward/backward pass when a whole batch does not fit (undefined: it fits). */
  microBatch?: number;
  /** Where the run stands: the start, or the checkpoint it resumes from. */
  position: RunPosition;
  /** What to announce: backend, device, data, batches, notes. */
  start: StartEvent;
}

/** At most this many 'download' events per second. */
const DOWNLOAD_EVENTS_PER_SECOND = 10;

/**
 * compileModel draws dropout seeds from a counter that starts at its seed and
 * advances as many times per training forward pass as the layers' seedsPerPass
 * say (one per Dropout with 0 < p < 1). Starting it where
 * the interrupted run left it continues the same random stream, so a resumed
 * run repeats an uninterrupted one exactly. (Weights come from the checkpoint,
 * so the seed's other use, initialisation, does not matter here.)
 */
function resumedDropoutSeed(
  seed: number,
  position: RunPosition,
  inference: GraphInference,
): number {
  let drawsPerStep = 0;
  for (const p of inference.primitives)
    if (p.def.kind === 'primitive') drawsPerStep += p.def.seedsPerPass?.(p.params) ?? 0;
  return (seed + position.optimizerStep * drawsPerStep) % 0x7fffffff;
}

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

/**
 * The run's data, as every engine gets it: loaded (or downloaded, with
 * 'download' events), its warnings said, and the size it is fed at.
 */
export async function prepareData(
  project: Project,
  options: TrainOptions,
  emit: (event: DownloadEvent | WarningEvent) => void,
): Promise<{ data: Dataset; resize: [number, number] }> {
  const downloadEventDue = rateLimit(DOWNLOAD_EVENTS_PER_SECOND);
  const data = await loadDataset({
    dataset: options.dataset,
    dataDir: options.dataDir,
    limitTrain: options.limitTrain,
    limitVal: options.limitVal,
    damagedImages: options.damagedImages,
    onProgress: (progress) => {
      if (progress.stage !== 'download') return;
      const edge = progress.loaded === 0 || progress.loaded === progress.total;
      if (!downloadEventDue(edge)) return;
      const { file, url, loaded, total } = progress;
      emit({ event: 'download', file, url, loaded, total });
    },
  });
  for (const message of data.warnings ?? []) emit({ event: 'warning', message });
  return { data, resize: feedSize(project, options, data) };
}

/** The start event's dataset: the sizes trained and validated on (after --limit-train/--limit-val) and the size fed. */
export function startDataset(data: Dataset, resize: [number, number]): DatasetInfo {
  return {
    ...data.info,
    trainSize: data.train.count,
    valSize: data.val.count,
    inputShape: [resize[0], resize[1], data.info.inputShape[2]],
  };
}

/** Runs what reads a checkpoint's tensors into the model, naming the file when they do not fit. */
function fromCheckpoint<T>(read: () => T, file?: string): T {
  try {
    return read();
  } catch (error) {
    if (!file) throw error;
    throw new CheckpointError(file, `does not fit this project: ${(error as Error).message}`);
  }
}

/** A resumed run keeps what gives its position meaning; anything else may change. */
export function refuseChangedOptions(started: TrainOptions, now: TrainOptions): void {
  const conflicts = resumeConflicts(started, now);
  if (conflicts.length === 0) return;
  throw new Error(
    `this run cannot continue with other settings: ${conflicts.join('; ')}. A resumed run keeps them, because they say where it stopped (the batch size gives the batch index its meaning, the seed the order of the images); resume with the run's own settings (in its run.json), or start a new run`,
  );
}

function startPosition(options: TrainOptions): RunPosition {
  return {
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
}

/** Whether the run tries the compiled WebGPU step (it falls back to op by op where it cannot run). */
function compiledStepWanted(backend: BackendRuntime, options: TrainOptions): boolean {
  return backend.backend === 'webgpu' && options.webgpuStep === 'compiled';
}

/**
 * The run's step and optimizer: on WebGPU the compiled step unless the run
 * asks for op by op, or the network has something it cannot run (then op by
 * op for the whole run, and a note naming the node and why); a batch too
 * large for the GPU is refused here, before training. Elsewhere, tfjs's.
 */
async function makeStep(
  backend: BackendRuntime,
  model: CompiledModel,
  data: Dataset,
  resize: [number, number],
  options: TrainOptions,
  microBatch: number | undefined,
): Promise<{ step: TrainingStep; optimizer: Optimizer; note?: string }> {
  const { tf } = backend;
  const config = {
    name: options.optimizer,
    lr: options.lr,
    momentum: options.momentum,
    weightDecay: options.weightDecay,
  };
  let note: string | undefined;
  if (compiledStepWanted(backend, options)) {
    try {
      const compiled = await CompiledStep.create(tf, model, {
        optimizer: config,
        batch: options.batchSize,
        imageSize: [data.info.inputShape[0], data.info.inputShape[1]],
        seed: options.seed,
      });
      return {
        step: compiledTrainingStep(compiled),
        optimizer: compiledOptimizer(compiled, options.optimizer),
      };
    } catch (error) {
      if (!(error instanceof NotCompilable)) throw error;
      note = `the compiled WebGPU step cannot run this network (${error.message}), so every step runs op by op`;
    }
  }
  const optimizer = createOptimizer(
    tf,
    new Map([...model.weights].filter(([, v]) => v.trainable)),
    config,
    model,
  );
  return { step: autodiffStep(tf, model, optimizer, { resize, microBatch }), optimizer, note };
}

/**
 * Sets a run up: starts the backend, loads (or downloads, announcing it) the
 * data, compiles the model with the seed (or the checkpoint's weights), makes
 * the optimizer (with the checkpoint's state) and the step.
 */
export async function prepareRun(
  project: Project,
  options: TrainOptions,
  recorder: RunRecorder | undefined,
  emit: (event: DownloadEvent | WarningEvent) => void,
): Promise<PreparedRun> {
  if (options.resume && !recorder) {
    throw new Error(
      'resuming needs the run folder: give --out DIR (the folder of the run to continue)',
    );
  }
  const backend = await initBackend(options.backend, { threads: options.threads });
  const { tf } = backend;
  const { data, resize } = await prepareData(project, options, emit);
  const channels = data.info.inputShape[2];
  const inference = inferValidGraph(project, {
    inputShape: [options.batchSize, channels, ...resize],
  });
  // A classifier gives one score per class: say so before the first batch, naming the layer to fix.
  const mismatch = classifierOutputIssue(inference, data.info.classes.length, data.info.name);
  if (mismatch) throw new Error(formatIssue(mismatch));
  const gpu = (tf.backend() as { device?: { limits?: { maxStorageBufferBindingSize?: number } } })
    .device;
  const microBatch = planMemory(
    backend.backend,
    memoryNeeds(inference, options),
    options,
    backendLimits(backend.backend, gpu?.limits),
  );
  const checkpoint = options.resume ? recorder?.loadCheckpoint() : undefined;
  if (checkpoint) refuseChangedOptions(checkpoint.position.options, options);
  const file = checkpoint && recorder ? checkpointPath(recorder.dir) : undefined;
  const model = fromCheckpoint(
    () =>
      compileModel(tf, inference, {
        init: options.init,
        seed: checkpoint
          ? resumedDropoutSeed(options.seed, checkpoint.position, inference)
          : options.seed,
        weights: checkpoint?.weights,
        // Op by op, weights are kept as the ops take them, so no step rearranges them; the compiled
        // WebGPU step keeps its own copy in PyTorch's layout. What is saved is PyTorch's layout.
        layout: compiledStepWanted(backend, options) ? 'pytorch' : 'kernel',
      }),
    file,
  );
  let made: Awaited<ReturnType<typeof makeStep>> | undefined;
  try {
    made = await makeStep(backend, model, data, resize, options, microBatch);
    const { optimizer } = made;
    if (checkpoint) fromCheckpoint(() => optimizer.setState(checkpoint.optimizer), file);
  } catch (error) {
    await made?.step.dispose();
    made?.optimizer.dispose();
    model.dispose();
    throw error;
  }
  const { step, optimizer } = made;
  const position = checkpoint?.position ?? startPosition(options);
  position.options = options;
  const notes = [
    ...(backend.note ? [backend.note] : []),
    ...(made.note ? [made.note] : []),
    ...(microBatch
      ? [
          `a batch of ${options.batchSize} at ${resize.join('×')} does not fit in ${backend.backend}'s memory, so each step sums the gradients of parts of ${microBatch} images (BatchNorm normalises each part alone); a smaller --batch-size avoids this`,
        ]
      : []),
  ];
  const augmentation = augmentationOf(options);
  const start: StartEvent = {
    event: 'start',
    backend: backend.backend,
    device: backend.device,
    execution: step.execution,
    ...(notes.length > 0 ? { backendNote: notes.join('. ') } : {}),
    dataset: startDataset(data, resize),
    epochs: options.epochs,
    batchesPerEpoch: Math.ceil(data.train.count / options.batchSize),
    ...(checkpoint ? { resumedFromEpoch: checkpoint.position.epoch } : {}),
    ...(backend.threads ? { threads: backend.threads } : {}),
    ...(augmentation ? { augmentation } : {}),
  };
  return {
    tf,
    backend,
    data,
    resize,
    model,
    optimizer,
    step,
    microBatch,
    position,
    start,
  };
}
