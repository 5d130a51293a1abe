/**
 * The training engine's contract: what a run is asked to do and the events it
 * streams. The CLI (--json prints these one per line), the worker, the web
 * host and the studio's dashboard all speak exactly this.
 */
export type BackendChoice = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type DatasetName = 'fashion-mnist' | 'mnist' | 'folder' | 'sample';

export interface TrainOptions {
  dataset: DatasetName;
  /** Where to look first for the dataset (DESIGN.md: then the cache, then /usr/share/datasets, then download). */
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  momentum: number;
  weightDecay: number;
  schedule: 'constant' | 'step' | 'cosine';
  init: 'pytorch' | 'xavier';
  /** Resize inputs to [height, width] in the pipeline (the course: 224 for VGG, 96 for ResNet). */
  resize?: [number, number];
  limitTrain?: number;
  limitVal?: number;
  backend: BackendChoice;
  seed: number;
  /** Run folder: project.json, weights.safetensors, metrics.jsonl, curves.png, checkpoint/. */
  outDir?: string;
  /** Continue from the checkpoint in outDir. */
  resume?: boolean;
  /** Emit per-layer activation and gradient statistics every this many batches (0: off). */
  layerStatsEvery?: number;
}

export interface DatasetInfo {
  name: string;
  /** Where the files were found, shown to the user. */
  source: string;
  trainSize: number;
  valSize: number;
  classes: string[];
  inputShape: [number, number, number];
}

export interface LayerStat {
  id: string;
  type: string;
  activationMean: number;
  activationStd: number;
  gradientMean?: number;
  gradientStd?: number;
  /** Share of ReLU outputs that are exactly zero. */
  deadFraction?: number;
  /** Share of sigmoid/tanh outputs within 0.01 of their limits. */
  saturatedFraction?: number;
}

export type TrainingEvent =
  /** Before 'start', while a dataset that is nowhere on this computer is downloaded. */
  | { event: 'download'; file: string; url: string; loaded: number; total?: number }
  | {
      event: 'start';
      backend: string;
      device: string;
      /** Why the requested backend is not the one running (fallback), if so. */
      backendNote?: string;
      dataset: DatasetInfo;
      epochs: number;
      batchesPerEpoch: number;
      resumedFromEpoch?: number;
      threads?: number;
    }
  | {
      event: 'batch';
      epoch: number;
      batch: number;
      batches: number;
      loss: number;
      samplesPerSec: number;
      etaSec: number;
    }
  | {
      event: 'epoch';
      epoch: number;
      epochs: number;
      trainLoss: number;
      trainAcc: number;
      valLoss: number;
      valAcc: number;
      samplesPerSec: number;
      etaSec: number;
      lr: number;
      seconds: number;
      backend: string;
      memoryBytes: number;
      tensors: number;
    }
  | { event: 'layerStats'; epoch: number; batch: number; layers: LayerStat[] }
  | { event: 'checkpoint'; epoch: number; path: string }
  | { event: 'paused'; epoch: number; batch: number }
  | { event: 'resumed'; epoch: number; batch: number }
  | { event: 'stopped'; epoch: number; batch: number; checkpoint?: string }
  | { event: 'error'; message: string }
  | {
      event: 'done';
      epochs: number;
      trainLoss: number;
      trainAcc: number;
      valLoss: number;
      valAcc: number;
      seconds: number;
      backend: string;
      outDir?: string;
    };
