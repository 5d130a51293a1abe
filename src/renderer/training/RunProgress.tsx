/**
 * Start, pause, resume and stop; how far the run is (the dataset's download,
 * then epoch, batch, ETA, samples per second) and where it runs (backend, device, and a fallback
 * said out loud when the chosen backend could not be used).
 */

import type { DatasetStatus } from '../../api/training-api';
import { formatBytes } from '../../core/summary';
import type { TrainOptions } from '../../core/training/options';
import { ProgressBar } from '../app/ProgressBar';
import { controlRun, startRun, useTraining } from './store';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "10 epochs of 469 batches of 128 images (Fashion-MNIST, 60,000 training images)". */
function plannedRun(options: TrainOptions, dataset: DatasetStatus | undefined): string {
  const epochs = `${options.epochs} epoch${options.epochs === 1 ? '' : 's'}`;
  if (!dataset?.trainSize) return `${epochs} in batches of ${options.batchSize}`;
  const images = Math.min(dataset.trainSize, options.limitTrain ?? Number.POSITIVE_INFINITY);
  const batches = Math.ceil(images / options.batchSize);
  return `${epochs} of ${batches.toLocaleString()} batch${batches === 1 ? '' : 'es'} of ${options.batchSize} (${dataset.label}, ${images.toLocaleString()} training images)`;
}

export function RunProgress({
  options,
  canStart,
  why,
  dataset,
}: {
  options: TrainOptions;
  /** The dataset the next run trains on, as the host found it. */
  dataset?: DatasetStatus;
  canStart: boolean;
  /** Why a run cannot start now (shown by the Train button), or null. */
  why: string | null;
}) {
  const live = useTraining((s) => s.live);
  const overrides = useTraining((s) => s.overrides);
  const active = live && ['starting', 'running', 'paused'].includes(live.status);
  const batch = live?.lastBatch;
  const epochs = live?.start?.epochs ?? options.epochs;
  const batches = batch?.batches ?? live?.start?.batchesPerEpoch ?? 1;
  const done = batch ? (batch.epoch - 1) * batches + batch.batch : 0;
  const download = live?.status === 'starting' ? live.download : undefined;
  const fraction = download
    ? download.total
      ? download.loaded / download.total
      : 0
    : live?.status === 'done'
      ? 1
      : Math.min(1, done / Math.max(1, epochs * batches));

  return (
    <section className="run-progress" aria-label="Run">
      <div className="run-buttons">
        {!active ? (
          <button
            type="button"
            className="button primary"
            disabled={!canStart}
            title={why ? `Cannot train: ${why}` : undefined}
            onClick={() => void startRun(overrides)}
          >
            ▶ Train
          </button>
        ) : live.status === 'paused' ? (
          <button
            type="button"
            className="button primary"
            onClick={() => void controlRun('resume')}
          >
            ▶ Resume
          </button>
        ) : (
          <button
            type="button"
            className="button"
            disabled={live.status === 'starting'}
            onClick={() => void controlRun('pause')}
          >
            ❚❚ Pause
          </button>
        )}
        <button
          type="button"
          className="button"
          disabled={!active}
          onClick={() => void controlRun('stop')}
        >
          ■ Stop
        </button>
        <span className={`run-status status-${live?.status ?? 'idle'}`} data-testid="run-status">
          {!active && why
            ? `Cannot train: ${why}`
            : download
              ? 'Downloading the dataset…'
              : statusText(live?.status)}
        </span>
      </div>
      <ProgressBar fraction={fraction} label={download ? 'Download' : 'Training'} />
      {download ? (
        <p className="hint" data-testid="download-progress">
          {download.file}: {formatBytes(download.loaded)}
          {download.total ? ` of ${formatBytes(download.total)}` : ''} from {download.url}
        </p>
      ) : null}
      {live ? (
        <div className="run-facts" data-testid="run-facts">
          <span>
            Epoch <b>{live?.epoch || (batch ? batch.epoch : 0)}</b> / {epochs}
          </span>
          <span>
            Batch <b>{batch?.batch ?? 0}</b> / {batches}
          </span>
          <span>
            <b>{batch ? Math.round(batch.samplesPerSec).toLocaleString() : '–'}</b> samples/s
          </span>
          <span>
            ETA <b>{batch && active ? formatDuration(batch.etaSec) : '–'}</b>
          </span>
          {live?.start ? (
            <span data-testid="run-backend">
              on <b>{live.start.backend}</b> · {live.start.device}
              {live.start.backend === 'webgpu'
                ? ` · ${live.start.execution === 'compiled' ? 'compiled step' : 'op by op'}`
                : ''}
            </span>
          ) : null}
          {live?.start?.augmentation ? (
            <span data-testid="run-augmentation">
              training images <b>{augmentationText(live.start.augmentation)}</b>
            </span>
          ) : null}
        </div>
      ) : (
        <p className="run-facts idle" data-testid="run-facts">
          No run yet. ▶ Train runs {plannedRun(options, dataset)}.
        </p>
      )}
      {live?.start?.backendNote ? (
        <p
          // After 'auto' a note says what was skipped; PyTorch's says which torch it found.
          className={`notice ${live.requestedBackend === 'auto' || live.requestedBackend === 'pytorch' ? 'info' : 'warn'}`}
          role="status"
          data-testid="backend-note"
        >
          {live.start.backendNote}
        </p>
      ) : null}
      {live?.warnings.length ? (
        <ul className="notice warn" data-testid="run-warnings">
          {live.warnings.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
      {live?.error ? (
        <p className="notice error" role="alert">
          {live.error}
        </p>
      ) : null}
    </section>
  );
}

function statusText(status: string | undefined): string {
  switch (status) {
    case 'starting':
      return 'Starting (loading data, compiling)…';
    case 'running':
      return 'Training';
    case 'paused':
      return 'Paused';
    case 'stopped':
      return 'Stopped';
    case 'done':
      return 'Finished';
    case 'failed':
      return 'Failed';
    default:
      return 'Ready';
  }
}

/** "cropped (padding 4) and flipped at random". */
function augmentationText({ cropPadding, flip }: { cropPadding: number; flip: boolean }): string {
  const what = [cropPadding > 0 ? `cropped (padding ${cropPadding})` : '', flip ? 'flipped' : ''];
  return `${what.filter(Boolean).join(' and ')} at random`;
}
