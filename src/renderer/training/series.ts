/**
 * The numbers behind the live curves, kept outside React state so a batch
 * event costs an array push, not a re-render: per-batch loss at fractional
 * epochs (as the course plots it), its smoothed line, and per-epoch metrics.
 */
import type uPlot from 'uplot';
import type { RunMetrics } from '../../api/training-api';
import type { EpochEvent, LayerStat } from '../../api/training-protocol';
import { getLayerDef } from '../../core/layers/registry';

/** Exponential moving average with bias correction (as TensorBoard smooths), so early points are not pulled to 0. */
export function smooth(values: ArrayLike<number>, weight: number): number[] {
  const out = new Array<number>(values.length);
  let average = 0;
  let correction = 1;
  for (let i = 0; i < values.length; i++) {
    average = average * weight + (1 - weight) * values[i];
    correction *= weight;
    out[i] = average / (1 - correction);
  }
  return out;
}

export class RunSeries {
  readonly batchX: number[] = [];
  readonly batchLoss: number[] = [];
  readonly epochs: EpochEvent[] = [];

  static fromMetrics(metrics: RunMetrics): RunSeries {
    const series = new RunSeries();
    for (const b of metrics.batches) series.addBatch(b.x, b.loss);
    for (const e of metrics.epochs) series.addEpoch(e);
    return series;
  }

  addBatch(x: number, loss: number): void {
    // A resumed run repeats batches after its last checkpoint: drop what it redoes.
    while (this.batchX.length > 0 && this.batchX[this.batchX.length - 1] >= x) {
      this.batchX.pop();
      this.batchLoss.pop();
    }
    this.batchX.push(x);
    this.batchLoss.push(loss);
  }

  addEpoch(event: EpochEvent): void {
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1].epoch >= event.epoch) {
      this.epochs.pop();
    }
    this.epochs.push(event);
  }
}

export interface CurveSeries {
  label: string;
  stroke: string;
  dash?: number[];
  width?: number;
  points?: boolean;
}

/** One run's curves as separate x/y tables (joined for uPlot by `joinCurves`). */
export function runCurves(
  series: RunSeries,
  smoothing: number,
  prefix = '',
): { tables: uPlot.AlignedData[]; meta: CurveSeries[] } {
  const epochX = series.epochs.map((e) => e.epoch);
  const tables: uPlot.AlignedData[] = [];
  const meta: CurveSeries[] = [];
  // Always present (empty before the first batch), so the chart keeps its series and is not rebuilt.
  tables.push([series.batchX, smooth(series.batchLoss, smoothing)]);
  meta.push({ label: `${prefix}train loss (batches)`, stroke: '#4c9aff', width: 1.5 });
  tables.push(
    [epochX, series.epochs.map((e) => e.trainLoss)],
    [epochX, series.epochs.map((e) => e.valLoss)],
    [epochX, series.epochs.map((e) => e.valAcc)],
  );
  meta.push(
    { label: `${prefix}train loss`, stroke: '#9ecbff', points: true, width: 2 },
    { label: `${prefix}val loss`, stroke: '#ff7eb6', dash: [6, 4], points: true, width: 2 },
    { label: `${prefix}val acc`, stroke: '#3ecf8e', dash: [8, 3, 2, 3], points: true, width: 2 },
  );
  return { tables, meta };
}

/** Tables with different x values joined into one (nulls where a series has no point), sorted by x. */
export function joinCurves(tables: uPlot.AlignedData[]): uPlot.AlignedData {
  const xs = [...new Set(tables.flatMap((t) => t[0] as number[]))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = tables.map((t) => {
    const column = new Array<number | null>(xs.length).fill(null);
    const tx = t[0] as number[];
    const ty = t[1] as (number | null)[];
    for (let i = 0; i < tx.length; i++) column[index.get(tx[i])!] = ty[i];
    return column;
  });
  return [xs, ...columns] as uPlot.AlignedData;
}

/** Layers whose gradients the history follows: the ones with learned kernels (Conv2d, Linear). */
function learnsKernels(type: string): boolean {
  const def = getLayerDef(type);
  return def?.kind === 'primitive' && def.learnsKernels === true;
}

/** Each learning layer's gradient spread over the run, for the layer-statistics chart. */
export class LayerHistory {
  readonly x: number[] = [];
  ids: string[] = [];
  gradients: (number | null)[][] = [];

  add(x: number, layers: LayerStat[]): void {
    if (this.ids.length === 0) {
      this.ids = layers.filter((l) => learnsKernels(l.type)).map((l) => l.id);
      this.gradients = this.ids.map(() => []);
    }
    // A resumed run repeats the batches after its checkpoint.
    while (this.x.length > 0 && this.x[this.x.length - 1] >= x) {
      this.x.pop();
      for (const g of this.gradients) g.pop();
    }
    const byId = new Map(layers.map((l) => [l.id, l.gradientStd]));
    this.x.push(x);
    this.ids.forEach((id, i) => {
      const g = byId.get(id);
      this.gradients[i].push(g !== undefined && g > 0 ? g : null);
    });
  }
}
