/**
 * The training engine's contract: the events a run streams. The CLI (--json
 * prints these one per line), the worker, the web host and the studio's
 * dashboard all speak exactly this. What a run is asked to do (TrainOptions)
 * is declared in core/training/options.ts.
 */
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

/**
 * Which path computed the training steps: the compiled WebGPU step, or tfjs
 * op by op. Every run says it (runs recorded before it existed do not).
 */
export type Execution = 'compiled' | 'op-by-op';

export type TrainingEvent =
  /** Before 'start', while a dataset that is nowhere on this computer is downloaded. */
  | { event: 'download'; file: string; url: string; loaded: number; total?: number }
  | {
      event: 'start';
      backend: string;
      device: string;
      execution?: Execution;
      /** Why the requested backend (or step) is not the one running (fallback), if so. */
      backendNote?: string;
      dataset: DatasetInfo;
      epochs: number;
      batchesPerEpoch: number;
      resumedFromEpoch?: number;
      threads?: number;
      /** How training images are augmented (validation images never are); absent: not at all. */
      augmentation?: { cropPadding: number; flip: boolean };
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
      execution?: Execution;
      /** What the backend computed on ("wasm SIMD, 1 thread", "CUDA NVIDIA H100 …"). */
      device?: string;
      memoryBytes: number;
      tensors: number;
    }
  | { event: 'layerStats'; epoch: number; batch: number; layers: LayerStat[] }
  /** Written: after epoch `epoch`, or (with `batch`) within epoch `epoch` after that many batches. */
  | { event: 'checkpoint'; epoch: number; batch?: number; path: string }
  /** Something the run goes on without, said once (a damaged image skipped). */
  | { event: 'warning'; message: string }
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
      execution?: Execution;
      outDir?: string;
    };

export type EpochEvent = Extract<TrainingEvent, { event: 'epoch' }>;
/** The events that end a run. */
export type FinalEvent = Extract<TrainingEvent, { event: 'done' | 'stopped' | 'error' }>;
