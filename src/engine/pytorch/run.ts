/**
 * A training run on the PyTorch engine (Node only): the studio resolves the
 * data and the starting weights as for its own engine, writes the network as
 * its PyTorch export (the same model.py and train.py a user gets), hands the
 * images over as tensor files, starts resources/pytorch/engine.py (alone or
 * under torchrun) and relays its events. It records through the same
 * RunRecorder as the built-in engine, so evaluation, the dashboard, export
 * and --resume treat the run like any other.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type {
  DatasetInfo,
  EpochEvent,
  FinalEvent,
  TrainingEvent,
} from '../../api/training-protocol';
import { classifierOutputIssue } from '../../core/classifier-output';
import { compileModel } from '../../core/compile/model';
import type { Project } from '../../core/document/schema';
import { type GraphInference, inferValidGraph } from '../../core/infer';
import { formatIssue } from '../../core/issues';
import type { TF } from '../../core/layers/types';
import { checkTrainOptions, type TrainOptions } from '../../core/training/options';
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorMap,
} from '../../core/weights/safetensors';
import { stateKey } from '../../exporters/common';
import { writeBundle } from '../../exporters/node-io';
import { exportPytorch } from '../../exporters/pytorch/export';
import { writeFileAtomic } from '../../node/file-writes';
import { findShippedFile } from '../../node/shipped-files';
import { initBackend } from '../backends';
import { augmentationOf } from '../data/augment';
import type { Checkpoint, RunPosition } from '../run/checkpoint';
import { RunRecorder } from '../run/recorder';
import { prepareData, refuseChangedOptions, startDataset } from '../training/prepare';
import type { TrainingControl } from '../training/trainer';
import { writeDataFiles } from './data-files';
import {
  describeEngineExit,
  type EngineHello,
  type EngineMessage,
  type EngineProcess,
  engineCommand,
  launchEngine,
  type TorchrunOptions,
} from './launch';
import { describeTorchInstall, locateTorch, type TorchInstall, type TorchPython } from './python';

type EventSink = (event: TrainingEvent) => void;
type StateMessage = Extract<EngineMessage, { event: 'state' }>;
type ErrorMessage = Extract<EngineMessage, { event: 'error' }>;

export const ENGINE_SCRIPT = 'resources/pytorch/engine.py';

/** torchrun's options from the run's, or undefined for a single process without torchrun. */
export function torchrunOf(options: TrainOptions): TorchrunOptions | undefined {
  if (options.nprocPerNode === undefined && options.nnodes === undefined) return undefined;
  return {
    nprocPerNode: options.nprocPerNode ?? 1,
    nnodes: options.nnodes ?? 1,
    nodeRank: options.nodeRank ?? 0,
    rdzvEndpoint: options.rdzvEndpoint,
  };
}

/** Refuses, before anything is loaded, what this PyTorch cannot do. */
export function checkPlacement(
  install: TorchInstall,
  options: TrainOptions,
  torchrun: TorchrunOptions | undefined,
): void {
  const found = describeTorchInstall(install);
  if (options.device === 'cuda' && !install.cuda) {
    throw new Error(
      `--device cuda: ${found} sees no CUDA GPU${install.cudaVersion ? '' : ' (it was built without CUDA)'}; install a CUDA build of torch (https://pytorch.org/get-started/locally/) with the NVIDIA driver, or train on the CPU with --device cpu`,
    );
  }
  if (!torchrun) return;
  if (!install.distributed) {
    throw new Error(
      `${found} is built without torch.distributed, which torchrun needs; train without --nproc-per-node and --nnodes, or install a full build of torch`,
    );
  }
  const onGpus = install.cuda && options.device !== 'cpu';
  if (onGpus && torchrun.nprocPerNode > install.gpus.length) {
    throw new Error(
      `--nproc-per-node ${torchrun.nprocPerNode} starts one process per GPU, but torch sees ${install.gpus.length} GPU${install.gpus.length === 1 ? '' : 's'} here; use --nproc-per-node ${install.gpus.length}, or --device cpu for CPU processes`,
    );
  }
}

/** The starting weights: as the built-in engine would start (the init scheme and the seed). */
export function initialWeights(
  tf: TF,
  inference: GraphInference,
  options: TrainOptions,
): TensorMap {
  const model = compileModel(tf, inference, { init: options.init, seed: options.seed });
  try {
    return model.getWeights();
  } finally {
    model.dispose();
  }
}

const MODEL_PREFIX = 'model.';
const OPTIMIZER_PREFIX = 'optimizer.';

class PyTorchRun {
  private engine?: EngineProcess;
  private workDir?: string;
  private recorder: RunRecorder | undefined;
  private metrics: EpochEvent[] = [];
  /** An epoch event waits for its checkpoint: the record never claims an epoch a crash would redo. */
  private pendingEpoch: EpochEvent | undefined;
  /** The checkpoint written for a stop, named by the 'stopped' event that follows. */
  private stopCheckpoint: string | undefined;
  private final: FinalEvent | undefined;
  private engineError: ErrorMessage | undefined;
  /** Local ranks (on this machine) that only saw another process go away. */
  private readonly peerLost = new Set<number>();
  private failure: unknown;
  /** Set by prepare(): the start event's dataset and the checkpoint resumed from. */
  private dataset: DatasetInfo | undefined;
  private checkpoint: Checkpoint | undefined;
  /** After the final event nothing more is said (a setup still running after a failure is silent). */
  private finished = false;
  /** Ends a setup still running when the run has ended (its work folder is gone). */
  private readonly abandon = new AbortController();
  private readonly emit: EventSink;

  constructor(
    private readonly project: Project,
    private readonly options: TrainOptions,
    private readonly sink: EventSink,
    private readonly control: TrainingControl,
  ) {
    this.emit = (event) => {
      if (this.finished) return;
      this.recorder?.recordEvent(event);
      sink(event);
    };
  }

  async fit(): Promise<FinalEvent> {
    let final: FinalEvent;
    try {
      final = await this.fitAll();
    } catch (error) {
      final = { event: 'error', message: this.describeFailure(error) };
    } finally {
      this.abandon.abort();
      this.engine?.kill();
      if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
    }
    try {
      this.recorder?.recordEvent(final);
    } catch {
      // The run has failed already (a full disk); its end still reaches the owner.
    }
    this.recorder?.close();
    this.finished = true;
    this.sink(final);
    return final;
  }

  private async fitAll(): Promise<FinalEvent> {
    const { options } = this;
    checkTrainOptions(options);
    const python = await locateTorch();
    const torchrun = torchrunOf(options);
    const script = findShippedFile(ENGINE_SCRIPT);
    if (!script) {
      throw new Error(
        `the PyTorch engine's ${ENGINE_SCRIPT} is missing from this installation; reinstall the studio`,
      );
    }
    if (options.outDir) this.recorder = RunRecorder.open(options.outDir, this.project, options);
    const workDir = mkdtempSync(path.join(tmpdir(), 'convnet-studio-pytorch-'));
    this.workDir = workDir;
    const configPath = path.join(workDir, 'config.json');
    // Started at once: it imports torch (seconds) while the studio prepares the data, then waits
    // for the config. It says what it found first, which is checked against what was asked.
    let greet: (hello: EngineHello) => void = () => undefined;
    const greeted = new Promise<EngineHello>((resolve) => {
      greet = resolve;
    });
    const engine = launchEngine(
      engineCommand(python, script, configPath, torchrun),
      { cwd: workDir },
      (message) => {
        try {
          if (message.event === 'hello') greet(message);
          else if (message.event === 'ready') this.start(python, message, torchrun);
          else this.onMessage(message);
        } catch (error) {
          // A run-folder write failed: the run cannot go on without losing what it learns.
          this.failure ??= error;
          engine.kill();
        }
      },
    );
    this.engine = engine;
    const endedEarly = engine.exited.then((exit): never => {
      throw new EngineFailure(this.engineError?.message ?? describeEngineExit(exit, !!torchrun));
    });
    const checked = Promise.race([greeted, endedEarly]).then((hello) => {
      checkPlacement(
        { ...python, ...hello, cudaVersion: hello.cudaVersion ?? undefined },
        options,
        torchrun,
      );
      return hello;
    });
    const never = new Promise<never>(() => undefined);
    const setup = this.prepare(workDir);
    for (const pending of [endedEarly, checked, setup]) pending.catch(() => undefined);
    // Whichever fails first ends the run: a wrong device is said before a long download ends.
    const config = await Promise.race([setup, checked.then(() => never)]);
    await checked;
    if (this.control.stopping) {
      const position = this.checkpoint?.position;
      return { event: 'stopped', epoch: (position?.epoch ?? 0) + 1, batch: position?.batch ?? 0 };
    }
    writeFileAtomic(configPath, JSON.stringify(config));
    const forward = () =>
      engine.send(this.control.stopping ? 'stop' : this.control.isPaused ? 'pause' : 'resume');
    const unsubscribe = this.control.onRequest(forward);
    if (this.control.isPaused) forward();
    const exit = await engine.exited;
    unsubscribe();
    if (this.failure) throw this.failure;
    if (this.final) return this.final;
    // A process's own account, unless it only saw another one go away: then how that one ended.
    const report = this.engineError;
    const own = report && report.kind !== 'peer';
    const named =
      own && torchrun ? `the process of rank ${report.rank}: ${report.message}` : report?.message;
    const reports = {
      localWorld: torchrun?.nprocPerNode ?? 1,
      multiNode: (torchrun?.nnodes ?? 1) > 1,
      peers: this.peerLost,
    };
    throw new EngineFailure(
      own ? (named as string) : describeEngineExit(exit, !!torchrun, reports),
      report,
    );
  }

  /**
   * Everything the engine needs, as the built-in engine would start: the data
   * (downloaded if need be) as tensor files, the network as its PyTorch
   * package with the starting weights (or the checkpoint's), and the settings.
   */
  private async prepare(workDir: string): Promise<object> {
    const { options, project, recorder } = this;
    const { signal } = this.abandon;
    const { tf } = await initBackend('cpu');
    signal.throwIfAborted();
    const { data, resize } = await prepareData(project, options, this.emit);
    signal.throwIfAborted();
    this.dataset = startDataset(data, resize);
    const channels = data.info.inputShape[2];
    const inference = inferValidGraph(project, {
      inputShape: [options.batchSize, channels, ...resize],
    });
    // A classifier gives one score per class: said before the first batch, as the built-in engine says it.
    const mismatch = classifierOutputIssue(inference, data.info.classes.length, data.info.name);
    if (mismatch) throw new Error(formatIssue(mismatch));
    if (options.resume && !recorder) {
      throw new Error(
        'resuming needs the run folder: give --out DIR (the folder of the run to continue)',
      );
    }
    const checkpoint = options.resume ? recorder?.loadCheckpoint() : undefined;
    if (checkpoint) refuseChangedOptions(checkpoint.position.options, options);
    this.checkpoint = checkpoint;
    this.metrics = checkpoint?.position.metrics ?? [];
    const packageDir = path.join(workDir, 'package');
    writeBundle(
      exportPytorch({
        project,
        inference,
        weights: checkpoint?.weights ?? initialWeights(tf, inference, options),
      }),
      packageDir,
    );
    const dataDir = path.join(workDir, 'data');
    const stateDir = path.join(workDir, 'state');
    for (const dir of [dataDir, stateDir]) mkdirSync(dir);
    // A run that augments crops and flips at the stored size, before the resize (the engine resizes after).
    const [storedHeight, storedWidth] = data.train.shape;
    const augmentation = augmentationOf(options);
    const trainSize: [number, number] = augmentation ? [storedHeight, storedWidth] : resize;
    const files = await writeDataFiles(
      tf,
      data,
      { train: trainSize, val: resize },
      dataDir,
      signal,
    );
    return {
      package: packageDir,
      data: { train: files.train, val: files.val },
      stateDir,
      device: options.device ?? 'auto',
      epochs: options.epochs,
      batchSize: options.batchSize,
      lr: options.lr,
      optimizer: options.optimizer,
      momentum: options.momentum,
      weightDecay: options.weightDecay,
      schedule: options.schedule,
      stepSize: options.stepSize,
      gamma: options.gamma,
      etaMin: options.etaMin,
      ...(augmentation ? { augmentation } : {}),
      inputSize: resize,
      threads: options.threads,
      seed: options.seed,
      classes: data.info.classes.length,
      layerStatsEvery: options.layerStatsEvery ?? 0,
      // Only with a run folder to keep them in.
      checkpointMinutes: recorder ? options.checkpointMinutes : 0,
      layers: inference.primitives
        .filter((p) => p.type !== 'Input')
        .map((p) => ({ id: p.id, type: p.type, module: stateKey(p.id) })),
      ...(checkpoint ? { resume: this.resumeConfig(checkpoint, workDir) } : {}),
    };
  }

  private start(
    python: TorchPython,
    ready: Extract<EngineMessage, { event: 'ready' }>,
    torchrun: TorchrunOptions | undefined,
  ): void {
    const { options, checkpoint } = this;
    const augmentation = augmentationOf(options);
    this.emit({
      event: 'start',
      backend: 'pytorch',
      device: ready.device,
      // The version torch itself says (package metadata may add a local suffix).
      backendNote: this.notes({ ...python, torch: ready.torch }, ready, torchrun, checkpoint).join(
        '. ',
      ),
      dataset: this.dataset as DatasetInfo,
      epochs: options.epochs,
      batchesPerEpoch: ready.batchesPerEpoch,
      ...(checkpoint ? { resumedFromEpoch: checkpoint.position.epoch } : {}),
      threads: ready.threads,
      ...(augmentation ? { augmentation } : {}),
    });
  }

  /** What the start event adds: which PyTorch, how many processes, a fallback to the CPU. */
  private notes(
    install: TorchPython,
    ready: Extract<EngineMessage, { event: 'ready' }>,
    torchrun: TorchrunOptions | undefined,
    checkpoint: Checkpoint | undefined,
  ): string[] {
    const { options } = this;
    const notes = [`PyTorch: ${describeTorchInstall(install)}`];
    if (install.passedOver.length > 0) notes.push(`passed over: ${install.passedOver.join('; ')}`);
    if ((options.device ?? 'auto') === 'auto' && !/^CUDA/.test(ready.device)) {
      notes.push('torch sees no CUDA GPU here, so it trains on the CPU');
    }
    if (torchrun) {
      const nodes =
        torchrun.nnodes > 1
          ? ` on ${torchrun.nnodes} machines (this is node ${torchrun.nodeRank})`
          : '';
      notes.push(
        `${ready.world} processes under torchrun${nodes}, DistributedDataParallel over ${ready.distributedBackend}: ${options.batchSize} images per process per step, ${options.batchSize * ready.world} in all`,
      );
    }
    const earlier = checkpoint?.position.options.backend;
    if (checkpoint && earlier !== 'pytorch' && checkpoint.position.batch > 0) {
      notes.push(
        `the checkpoint was written by the ${earlier} engine inside an epoch; PyTorch shuffles the rest of that epoch in its own order`,
      );
    }
    return notes;
  }

  private resumeConfig(checkpoint: Checkpoint, workDir: string) {
    const { position, optimizer } = checkpoint;
    const optimizerState = path.join(workDir, 'optimizer.safetensors');
    writeFileSync(optimizerState, encodeSafetensors(optimizer.slots));
    return {
      epoch: position.epoch,
      batch: position.batch,
      partial: position.partial,
      optimizerStep: position.optimizerStep,
      firstLoss: position.firstLoss,
      optimizerState,
    };
  }

  private onMessage(message: EngineMessage): void {
    switch (message.event) {
      case 'batch':
      case 'layerStats':
      case 'paused':
      case 'resumed':
        this.emit(message);
        return;
      case 'epoch':
        this.metrics.push(message);
        // Announced once its checkpoint is safe (the 'state' that follows), as the built-in engine does.
        if (this.recorder) this.pendingEpoch = message;
        else this.emit(message);
        return;
      case 'state':
        this.onState(message);
        return;
      case 'stopped':
        this.final = {
          event: 'stopped',
          epoch: message.epoch,
          batch: message.batch,
          ...(this.stopCheckpoint ? { checkpoint: this.stopCheckpoint } : {}),
        };
        return;
      case 'done': {
        const last = this.metrics.at(-1);
        if (!last) throw new Error('the PyTorch engine finished without reporting an epoch');
        this.final = {
          event: 'done',
          epochs: this.options.epochs,
          trainLoss: last.trainLoss,
          trainAcc: last.trainAcc,
          valLoss: last.valLoss,
          valAcc: last.valAcc,
          seconds: message.seconds,
          backend: 'pytorch',
          ...(this.options.outDir ? { outDir: this.options.outDir } : {}),
        };
        return;
      }
      case 'error':
        // The first process to fail names the cause; the others then fail for want of it.
        if (message.kind === 'peer') this.peerLost.add(message.localRank);
        if (!this.engineError || (this.engineError.kind === 'peer' && message.kind !== 'peer')) {
          this.engineError = message;
        }
        return;
    }
  }

  /** The engine's weights and optimizer state: the run's checkpoint, and after an epoch its weights and curves. */
  private onState(state: StateMessage): void {
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(state.path)));
    rmSync(state.path, { force: true });
    const { recorder } = this;
    if (!recorder) return;
    const weights: TensorMap = new Map();
    const slots: TensorMap = new Map();
    for (const [name, tensor] of tensors) {
      if (name.startsWith(MODEL_PREFIX)) weights.set(name.slice(MODEL_PREFIX.length), tensor);
      else if (name.startsWith(OPTIMIZER_PREFIX))
        slots.set(name.slice(OPTIMIZER_PREFIX.length), tensor);
    }
    const position: RunPosition = {
      epoch: state.epoch,
      batch: state.batch,
      partial: state.partial,
      seed: this.options.seed,
      optimizerStep: state.optimizerStep,
      optimizer: this.options.optimizer,
      metrics: this.metrics,
      options: this.options,
      ...(state.firstLoss !== null ? { firstLoss: state.firstLoss } : {}),
      savedAt: new Date().toISOString(),
    };
    const file = recorder.saveCheckpoint({
      position,
      weights,
      optimizer: { name: this.options.optimizer, step: state.optimizerStep, slots },
    });
    if (state.reason === 'stop') {
      this.stopCheckpoint = file;
      return;
    }
    if (state.reason === 'interval') {
      this.emit({ event: 'checkpoint', epoch: state.epoch + 1, batch: state.batch, path: file });
      return;
    }
    recorder.saveEpoch(weights, this.metrics);
    this.emit({ event: 'checkpoint', epoch: state.epoch, path: file });
    if (this.pendingEpoch) this.emit(this.pendingEpoch);
    this.pendingEpoch = undefined;
  }

  /** The final error's message; when training had begun, also what of the run is safe. */
  private describeFailure(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const kept = this.recorder?.checkpointed();
    if (error instanceof EngineFailure && error.report?.kind === 'diverged') {
      const { lr } = this.options;
      return `${message}. Lower the learning rate (it is ${lr}; try ${lr / 10}) and start again${kept ? `; the checkpoint ${kept} is kept` : ''}`;
    }
    if (!(error instanceof EngineFailure)) return this.recorder?.describeFailure(error) ?? message;
    return `${message}. Training stopped; ${
      kept
        ? `the checkpoint ${kept} in ${this.options.outDir} is kept, so the run can be resumed from it (--resume)`
        : 'no checkpoint had been written yet, so the run would start again'
    }.`;
  }
}

/** The engine process failed (its own report, or how it ended). */
class EngineFailure extends Error {
  constructor(
    message: string,
    readonly report?: ErrorMessage,
  ) {
    super(message);
    this.name = 'EngineFailure';
  }
}

/** Runs a training on the PyTorch engine to the end; resolves to the final event (also emitted). */
export function runPyTorchTraining(
  project: Project,
  options: TrainOptions,
  emit: EventSink,
  control: TrainingControl,
): Promise<FinalEvent> {
  return new PyTorchRun(project, options, emit, control).fit();
}
