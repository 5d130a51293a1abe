/**
 * The files of a run folder, by name. The engine writes them
 * (engine/run/recorder.ts); training runs, evaluation, the exporters and the
 * command line read them. What each holds: docs/training.md, "The run folder".
 */
export const RUN_FILES = {
  /** What was asked (the options) and how it went (status, backend, device, error). */
  record: 'run.json',
  /** The project as trained. */
  project: 'project.json',
  /** The weights after the last finished epoch, PyTorch state-dict names and layout. */
  weights: 'weights.safetensors',
  /** Every event of the run, one JSON object per line, as `train --json` prints them. */
  metrics: 'metrics.jsonl',
  /** The course's plot of the epochs. */
  curvesSvg: 'curves.svg',
  curvesPng: 'curves.png',
  /** Weights, optimizer state and where the run stands, to resume from. */
  checkpoint: 'checkpoint/checkpoint.safetensors',
} as const;
