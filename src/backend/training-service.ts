/**
 * TrainingApi on the host. Runs train in the engine's worker (never on the
 * host's event loop); their events are pushed to the UI and recorded in the
 * run folder, `<project folder>/runs/<start time>/` next to the project file
 * (run.json: what was asked and how it ended; metrics.jsonl, weights and
 * checkpoints: written by the engine). Evaluation loads a run's weights into a
 * compiled model on a backend that needs no GPU.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, ok, type Result } from '../api/result';
import type { StudioPush } from '../api/studio-api';
import type {
  BackendStatus,
  DatasetStatus,
  EvaluateRequest,
  EvaluationReport,
  ImageBytes,
  InspectReport,
  InspectRequest,
  RunMetrics,
  RunStatus,
  RunSummary,
  StartTrainingRequest,
  TrainingApi,
  TrainingTarget,
  WeightsSource,
} from '../api/training-api';
import type { TrainingEvent } from '../api/training-protocol';
import { type CompiledModel, compileModel } from '../core/compile/model';
import type { Project } from '../core/document/schema';
import { inferValidGraph } from '../core/infer';
import type { TF } from '../core/layers/types';
import { resolveTrainOptions, type TrainOptions, trainingOptions } from '../core/training/options';
import { decodeSafetensors, type TensorMap } from '../core/weights/safetensors';
import { availableBackends, initBackend } from '../engine/backends';
import { type Dataset, DatasetNotDownloaded, loadDataset } from '../engine/data';
import {
  classify,
  featureMaps,
  firstLayerKernels,
  imageBatch,
  noiseImage,
  topPredictions,
} from '../engine/evaluate';
import { startTrainingJob, type TrainingJob } from '../engine/job';
import { checkpointPath, loadCheckpoint } from '../engine/training/checkpoint';
import { RUN_FILES } from '../engine/training/trainer';
import { writeFileAtomicAsync } from '../node/file-writes';
import { rateLimit } from '../node/rate-limit';

export interface TrainingServiceOptions {
  projectFolder: string;
  /** Where datasets are looked for first (the host's --data-dir). */
  dataDir?: string;
  push(message: StudioPush): void;
}

/**
 * Images per evaluation batch: about 200 million multiply-accumulates, a
 * fraction of a second on wasm, so the host's event loop is never held long
 * (LeNet: 256 images, ResNet-18 at 96×96: 1).
 */
export function evaluationBatchSize(macsPerImage: number): number {
  return Math.max(1, Math.min(256, Math.floor(2e8 / Math.max(1, macsPerImage))));
}

/** Batches between layer statistics: often enough to watch, rare enough to cost little. */
const LAYER_STATS_EVERY = 20;

/** What the service itself records in a run folder; the engine writes RUN_FILES and the checkpoint. */
const RUN_FILE = 'run.json';

interface RunRecord {
  id: string;
  projectName: string;
  startedAt: string;
  status: RunStatus;
  options: TrainOptions;
  backend?: string;
  device?: string;
  error?: string;
}

interface ActiveRun {
  record: RunRecord;
  dir: string;
  job: TrainingJob;
}

interface EvaluationSubject {
  key: string;
  model: CompiledModel;
  dataset: Dataset;
  resize?: [number, number];
}

export class TrainingService implements TrainingApi {
  private readonly folder: string;
  private readonly active = new Map<string, ActiveRun>();
  private runtime?: Promise<{ tf: TF; backend: string }>;
  private subject?: EvaluationSubject;

  constructor(private readonly options: TrainingServiceOptions) {
    this.folder = path.resolve(options.projectFolder);
  }

  async trainingBackends(): Promise<Result<BackendStatus[]>> {
    return guard(() => availableBackends());
  }

  async trainingDatasets(dataDir?: string): Promise<Result<DatasetStatus[]>> {
    return guard(() =>
      Promise.all(
        trainingOptions.dataset.choices.map(
          async ({ value: name, label }): Promise<DatasetStatus> => {
            try {
              // Listing must not download: that happens when a training starts, with progress.
              const { info } = await loadDataset({
                dataset: name,
                dataDir: dataDir ?? this.options.dataDir,
                limitTrain: 1,
                limitVal: 1,
                download: false,
              });
              return {
                name,
                label,
                available: true,
                source: info.source,
                trainSize: info.trainSize,
                valSize: info.valSize,
                classes: info.classes,
                inputShape: info.inputShape,
              };
            } catch (err) {
              if (err instanceof DatasetNotDownloaded) {
                return {
                  name,
                  label,
                  available: true,
                  downloadFrom: err.url,
                  downloadTo: err.cacheDir,
                };
              }
              return { name, label, available: false, reason: (err as Error).message };
            }
          },
        ),
      ),
    );
  }

  async trainingStart(request: StartTrainingRequest): Promise<Result<RunSummary>> {
    return guard(async () => {
      const options = this.runOptions(request.project, request.options);
      const root = this.runsFolder(request);
      const id = new Date().toISOString().replaceAll(':', '-').replace('.', '-');
      const dir = path.join(root, id);
      await mkdir(dir, { recursive: true });
      const record: RunRecord = {
        id,
        projectName: request.project.name,
        startedAt: new Date().toISOString(),
        status: 'running',
        options,
      };
      await writeRecord(dir, record);
      const job = startTrainingJob(request.project, { ...options, outDir: dir }, (event) =>
        this.onEvent(id, event),
      );
      const run: ActiveRun = { record, dir, job };
      this.active.set(id, run);
      job.done
        .catch((err: Error) => {
          run.record.error ??= err.message;
          run.record.status = 'failed';
        })
        .then(() => this.finish(run))
        .catch((err: Error) => {
          // The run folder went away (deleted while training): the UI still got every event.
          console.error(`could not record the end of run ${id} in ${dir}: ${err.message}`);
        });
      return summarise(dir, record, false, 0);
    });
  }

  async trainingPause(runId: string): Promise<Result<void>> {
    return guard(async () => this.activeRun(runId).job.pause());
  }

  async trainingResume(runId: string): Promise<Result<void>> {
    return guard(async () => this.activeRun(runId).job.resume());
  }

  async trainingStop(runId: string): Promise<Result<void>> {
    return guard(async () => this.activeRun(runId).job.stop());
  }

  async trainingRuns(target: TrainingTarget): Promise<Result<RunSummary[]>> {
    return guard(async () => {
      const root = this.runsFolder(target);
      if (!existsSync(root)) return [];
      const runs: RunSummary[] = [];
      for (const entry of await readdir(root, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const dir = path.join(root, entry.name);
        // A run in progress is described by its live record, the others by their run.json.
        const record = this.active.get(entry.name)?.record ?? (await readRecord(dir));
        if (!record || record.projectName !== target.project.name) continue;
        const metrics = await readMetrics(dir, record.id);
        const interrupted =
          !this.active.has(record.id) &&
          (record.status === 'running' || record.status === 'paused');
        runs.push(
          summarise(
            dir,
            interrupted ? { ...record, status: 'interrupted' } : record,
            existsSync(path.join(dir, RUN_FILES.weights)),
            metrics.epochs.length,
            metrics.epochs.at(-1),
          ),
        );
      }
      return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    });
  }

  async trainingRunMetrics(target: TrainingTarget, runId: string): Promise<Result<RunMetrics>> {
    return guard(() => readMetrics(this.runDir(target, runId), runId));
  }

  async evaluateClassification(request: EvaluateRequest): Promise<Result<EvaluationReport>> {
    return guard(async () => {
      const { tf, backend } = await this.evaluationRuntime();
      const subject = await this.subjectFor(request, request.weights);
      const { model, dataset, resize } = subject;
      const classes = dataset.info.classes;
      const pushDue = rateLimit(10);
      const result = await classify(tf, model, dataset.val, classes.length, {
        resize,
        limit: request.limit ?? 1000,
        batchSize: evaluationBatchSize(model.inference.totals.macs),
        onProgress: (done, total) => {
          if (!pushDue(done === total)) return;
          this.options.push({ channel: 'evaluation', payload: { done, total } });
        },
      });
      return {
        weights: request.weights,
        classes,
        count: result.count,
        accuracy: result.accuracy,
        loss: result.loss,
        confusion: result.confusion,
        perClass: result.perClass.map((c, k) => ({ label: classes[k] ?? String(k), ...c })),
        misclassified: result.misclassified.map((m) => ({
          ...m,
          image: splitImage(dataset.val, m.index),
        })),
        backend,
        datasetSource: dataset.info.source,
      };
    });
  }

  async evaluateInspect(request: InspectRequest): Promise<Result<InspectReport>> {
    return guard(async () => {
      const { tf } = await this.evaluationRuntime();
      const { model, dataset, resize } = await this.subjectFor(request, request.weights);
      const [h, w, c] = dataset.val.shape;
      const probe = request.image;
      let label: number | undefined;
      let pixels: Float32Array;
      if (probe.kind === 'test') {
        if (probe.index >= dataset.val.count) {
          throw new Error(
            `test image ${probe.index} does not exist: the test set has ${dataset.val.count} images`,
          );
        }
        pixels = dataset.val.images.subarray(
          probe.index * h * w * c,
          (probe.index + 1) * h * w * c,
        );
        label = dataset.val.labels[probe.index];
      } else if (probe.kind === 'noise') {
        pixels = tf.tidy(() => noiseImage(tf, [h, w, c], probe.seed).dataSync() as Float32Array);
      } else {
        pixels = fromBytes(probe.image, [h, w, c]);
      }
      const input = toBytes(pixels, w, h, c);
      const x = imageBatch(tf, { images: pixels, shape: [h, w, c] }, 0, 1, resize);
      try {
        const maps = await featureMaps(tf, model, x, request.maxChannels ?? 16);
        const top = await topPredictions(tf, model, x, 5);
        const kernels = firstLayerKernels(model);
        const classes = dataset.info.classes;
        return {
          input,
          label,
          classes,
          layers: maps.map((m) => ({
            id: m.id,
            type: m.type,
            shape: m.shape,
            min: m.min,
            max: m.max,
            maps: m.maps && {
              channels: m.maps.channels,
              height: m.maps.height,
              width: m.maps.width,
              base64: scaledBytes(m.maps.data, m.min, m.max),
            },
            values: m.values && [...m.values],
          })),
          top: top.map((p) => ({ ...p, label: classes[p.index] ?? String(p.index) })),
          kernels: kernels && {
            layerId: kernels.layerId,
            shape: kernels.shape,
            absMax: kernels.absMax,
            values: [...kernels.values],
          },
        };
      } finally {
        x.dispose();
      }
    });
  }

  /** Stops every run (the host is closing). */
  async shutdown(): Promise<void> {
    await Promise.allSettled(
      [...this.active.values()].map((run) => {
        run.job.stop();
        return run.job.done;
      }),
    );
    this.subject?.model.dispose();
  }

  private onEvent(runId: string, event: TrainingEvent): void {
    const run = this.active.get(runId);
    if (run) {
      const { record } = run;
      if (event.event === 'start') {
        record.backend = event.backend;
        record.device = event.device;
      } else if (event.event === 'paused') record.status = 'paused';
      else if (event.event === 'resumed') record.status = 'running';
      else if (event.event === 'stopped') record.status = 'stopped';
      else if (event.event === 'done') record.status = 'done';
      else if (event.event === 'error') {
        record.status = 'failed';
        record.error = event.message;
      }
      if (['start', 'paused', 'resumed'].includes(event.event)) {
        void writeRecord(run.dir, record).catch(() => undefined);
      }
    }
    this.options.push({ channel: 'training', runId, payload: event });
  }

  private async finish(run: ActiveRun): Promise<void> {
    if (run.record.status === 'running' || run.record.status === 'paused') {
      run.record.status = 'done';
    }
    // Recorded before it leaves the active runs, so a listing never sees it as interrupted.
    try {
      await writeRecord(run.dir, run.record);
    } finally {
      this.active.delete(run.record.id);
    }
  }

  /** The project's settings and the user's choices, with the host's data folder and layer statistics on. */
  private runOptions(project: Project, overrides: Partial<TrainOptions>): TrainOptions {
    const options = resolveTrainOptions(project, overrides);
    options.dataDir ??= this.options.dataDir;
    options.layerStatsEvery ??= LAYER_STATS_EVERY;
    return options;
  }

  private activeRun(runId: string): ActiveRun {
    const run = this.active.get(runId);
    if (!run)
      throw new Error(`run ${runId} is not running (it finished, stopped or never started)`);
    return run;
  }

  /** `<project file's folder>/runs`, inside the host's project folder. */
  private runsFolder(target: TrainingTarget): string {
    const relative = target.projectPath ?? '';
    if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
      throw new Error(
        `'${relative}' is outside the project folder; give a path relative to ${this.folder} without '..'`,
      );
    }
    return path.join(this.folder, path.dirname(relative), 'runs');
  }

  private runDir(target: TrainingTarget, runId: string): string {
    const dir = path.join(this.runsFolder(target), runId);
    if (path.basename(dir) !== runId || !existsSync(path.join(dir, RUN_FILE))) {
      throw new Error(`there is no run '${runId}' of this project`);
    }
    return dir;
  }

  private evaluationRuntime(): Promise<{ tf: TF; backend: string }> {
    // wasm has every inference kernel and needs no GPU; initBackend falls back to cpu by itself.
    this.runtime ??= initBackend('wasm').then(({ tf, backend, device }) => ({
      tf,
      backend: `${backend} (${device})`,
    }));
    return this.runtime;
  }

  /** The compiled model and test data for a set of weights, kept while the same ones are asked for. */
  private async subjectFor(
    target: TrainingTarget,
    weights: WeightsSource,
  ): Promise<EvaluationSubject> {
    const { tf } = await this.evaluationRuntime();
    let project = target.project;
    let options = this.runOptions(project, {});
    let stored: Awaited<ReturnType<typeof runWeights>> | undefined;
    if (weights.kind === 'run') {
      const dir = this.runDir(target, weights.runId);
      const record = await readRecord(dir);
      if (record) options = record.options;
      // The network as it was trained, which the editor may have changed since.
      const trained = path.join(dir, RUN_FILES.project);
      if (existsSync(trained)) project = JSON.parse(await readFile(trained, 'utf8')) as Project;
      stored = await runWeights(dir);
    }
    const key = JSON.stringify([target.projectPath, weights, stored?.version, project]);
    if (this.subject?.key === key) return this.subject;
    const dataset = await loadDataset({
      dataset: options.dataset,
      dataDir: options.dataDir,
      limitTrain: 1,
    });
    const [h, w, c] = dataset.info.inputShape;
    const [rh, rw] = options.resize ?? [h, w];
    const inference = inferValidGraph(project, { inputShape: [1, c, rh, rw] });
    const model = compileModel(tf, inference, {
      init: options.init,
      seed: options.seed,
      weights: stored && (await stored.load()),
    });
    this.subject?.model.dispose();
    this.subject = { key, model, dataset, resize: options.resize };
    return this.subject;
  }
}

function summarise(
  dir: string,
  record: RunRecord,
  hasWeights: boolean,
  epochsDone: number,
  last?: RunMetrics['epochs'][number],
): RunSummary {
  return {
    ...record,
    dir,
    hasWeights,
    epochsDone,
    last: last && {
      trainLoss: last.trainLoss,
      trainAcc: last.trainAcc,
      valLoss: last.valLoss,
      valAcc: last.valAcc,
    },
  };
}

/** Written to a temporary file and renamed, so a reader never sees half of it. */
function writeRecord(dir: string, record: RunRecord): Promise<void> {
  return writeFileAtomicAsync(path.join(dir, RUN_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

async function readRecord(dir: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, RUN_FILE), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** metrics.jsonl holds the run's events one per line; a line cut short by a crash is skipped. */
async function readMetrics(dir: string, runId: string): Promise<RunMetrics> {
  const metrics: RunMetrics = { runId, batches: [], epochs: [] };
  let text = '';
  try {
    text = await readFile(path.join(dir, RUN_FILES.metrics), 'utf8');
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

/** The run's final weights, or its latest checkpoint while it is still running. */
async function runWeights(dir: string): Promise<{ version: string; load(): Promise<TensorMap> }> {
  const final = path.join(dir, RUN_FILES.weights);
  if (existsSync(final)) {
    return {
      version: `${final}@${(await stat(final)).mtimeMs}`,
      load: async () => decodeSafetensors(new Uint8Array(await readFile(final))).tensors,
    };
  }
  const checkpoint = checkpointPath(dir);
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

function splitImage(split: Dataset['val'], index: number): ImageBytes {
  const [h, w, c] = split.shape;
  const size = h * w * c;
  return toBytes(split.images.subarray(index * size, (index + 1) * size), w, h, c);
}

function toBytes(
  pixels: Float32Array,
  width: number,
  height: number,
  channels: number,
): ImageBytes {
  return { width, height, channels, base64: scaledBytes(pixels, 0, 1) };
}

function fromBytes(image: ImageBytes, [h, w, c]: [number, number, number]): Float32Array {
  if (image.width !== w || image.height !== h || image.channels !== c) {
    throw new Error(
      `the image is ${image.width}×${image.height}×${image.channels}, but the model's data is ${w}×${h}×${c}: scale it first`,
    );
  }
  const bytes = Buffer.from(image.base64, 'base64');
  if (bytes.length !== w * h * c) {
    throw new Error(`the image has ${bytes.length} bytes, expected ${w * h * c}`);
  }
  return Float32Array.from(bytes, (b) => b / 255);
}

/** Values mapped linearly from [min, max] to 0..255, base64. */
function scaledBytes(values: ArrayLike<number>, min: number, max: number): string {
  const span = max - min || 1;
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bytes[i] = Math.round(Math.min(1, Math.max(0, (values[i] - min) / span)) * 255);
  }
  return Buffer.from(bytes).toString('base64');
}

async function guard<T>(run: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await run());
  } catch (err) {
    return fail((err as Error).message);
  }
}
