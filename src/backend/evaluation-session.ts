/**
 * Evaluation itself: how a project's weights (a run's, read from its folder,
 * or freshly initialised) classify the test split, and what every layer makes
 * of one image. The model is compiled on a backend that needs no GPU and kept
 * while the same weights are asked for. It runs in the evaluation worker
 * (evaluation-worker.ts), never on a host's event loop: compiling a large
 * network and running it are seconds of work. Node only.
 */
import path from 'node:path';
import type {
  EvaluateRequest,
  EvaluationReport,
  ImageBytes,
  InspectReport,
  InspectRequest,
  WeightsSource,
} from '../api/evaluation-api';
import type { TrainingTarget } from '../api/training-api';
import { type CompiledModel, compileModel } from '../core/compile/model';
import { inferValidGraph } from '../core/infer';
import type { TF } from '../core/layers/types';
import { initBackend } from '../engine/backends';
import { type Dataset, loadDataset } from '../engine/data';
import {
  classify,
  featureMaps,
  firstLayerKernels,
  imageBatch,
  noiseImage,
  topPredictions,
} from '../engine/evaluate';
import { readRunProject, readRunRecord, runWeights } from '../engine/run/folder';
import { rateLimit } from '../node/rate-limit';
import { runFolderOf } from './run-folders';
import { type HostDataOptions, hostRunOptions, hostStoredOptions } from './training-runs-service';

/** Test images classified so far, of `total`. */
export interface EvaluationProgress {
  done: number;
  total: number;
}

/**
 * Images per evaluation batch: about 200 million multiply-accumulates, a
 * fraction of a second on wasm, so progress comes often
 * (LeNet: 256 images, ResNet-18 at 96×96: 1).
 */
export function evaluationBatchSize(macsPerImage: number): number {
  return Math.max(1, Math.min(256, Math.floor(2e8 / Math.max(1, macsPerImage))));
}

interface EvaluationSubject {
  key: string;
  model: CompiledModel;
  dataset: Dataset;
  resize?: [number, number];
}

export class EvaluationSession {
  private readonly folder: string;
  private runtime?: Promise<{ tf: TF; backend: string }>;
  private subject?: EvaluationSubject;

  constructor(private readonly options: HostDataOptions) {
    this.folder = path.resolve(options.projectFolder);
  }

  async classify(
    request: EvaluateRequest,
    onProgress: (progress: EvaluationProgress) => void,
  ): Promise<EvaluationReport> {
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
        if (pushDue(done === total)) onProgress({ done, total });
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
  }

  async inspect(request: InspectRequest): Promise<InspectReport> {
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
      pixels = dataset.val.images.subarray(probe.index * h * w * c, (probe.index + 1) * h * w * c);
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
    let options = hostRunOptions(project, {}, this.options);
    let stored: Awaited<ReturnType<typeof runWeights>> | undefined;
    if (weights.kind === 'run') {
      const dir = runFolderOf(this.folder, target, weights.runId);
      const record = await readRunRecord(dir);
      if (record) options = hostStoredOptions(record.options, this.options, dir);
      // The network as it was trained, which the editor may have changed since.
      project = (await readRunProject(dir)) ?? project;
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
