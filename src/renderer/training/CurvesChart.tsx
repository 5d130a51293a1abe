/**
 * Live training curves with uPlot, as the course plots them: x is the epoch,
 * the per-batch training loss (smoothed) runs between epoch marks, and train
 * loss, validation loss and validation accuracy are points per epoch. Past
 * runs are overlaid in their own colours. Drag to zoom, double-click to zoom
 * out; the legend shows the values under the cursor.
 */
import type uPlot from 'uplot';
import { AXIS, type ChartContent, GRID, LiveChart } from './LiveChart';
import { type CurveSeries, joinCurves, runCurves } from './series';
import { useTraining } from './store';

const OVERLAY_COLOURS = ['#c38fff', '#ffb454', '#36c5b4', '#9aa5b1', '#ff6b6b'];

function buildCurves(): { data: uPlot.AlignedData; meta: CurveSeries[] } {
  const { live, compared, smoothing, runs } = useTraining.getState();
  const tables: uPlot.AlignedData[] = [];
  const meta: CurveSeries[] = [];
  Object.entries(compared).forEach(([runId, series], i) => {
    const colour = OVERLAY_COLOURS[i % OVERLAY_COLOURS.length];
    const name =
      runs
        .find((r) => r.id === runId)
        ?.startedAt.slice(5, 16)
        .replace('T', ' ') ?? runId;
    const curves = runCurves(series, smoothing, `${name} `);
    tables.push(...curves.tables);
    meta.push(...curves.meta.map((m) => ({ ...m, stroke: colour, width: 1 })));
  });
  if (live) {
    const curves = runCurves(live.series, smoothing);
    tables.push(...curves.tables);
    meta.push(...curves.meta);
  }
  if (tables.length === 0) return { data: [[]], meta: [] };
  return { data: joinCurves(tables), meta };
}

function options(width: number, height: number, meta: CurveSeries[]): uPlot.Options {
  return {
    width,
    height,
    scales: { x: { time: false } },
    axes: [
      { label: 'epoch', stroke: AXIS, grid: { stroke: GRID }, ticks: { stroke: GRID } },
      { stroke: AXIS, grid: { stroke: GRID }, ticks: { stroke: GRID } },
    ],
    cursor: { drag: { x: true, y: false }, points: { size: 6 } },
    legend: { live: true },
    series: [
      { label: 'epoch', value: (_u, v) => (v == null ? '–' : v.toFixed(2)) },
      ...meta.map(
        (m): uPlot.Series => ({
          label: m.label,
          stroke: m.stroke,
          width: m.width ?? 1.5,
          dash: m.dash,
          spanGaps: true,
          points: { show: m.points ?? false, size: 5, fill: m.stroke },
          value: (_u, v) => (v == null ? '–' : v.toFixed(4)),
        }),
      ),
    ],
  };
}

function content(): ChartContent {
  const { data, meta } = buildCurves();
  return {
    data,
    key: meta.map((m) => m.label).join('|'),
    options: (width, height) => options(width, height, meta),
  };
}

export function CurvesChart() {
  return <LiveChart build={content} height={300} className="curves-chart" testId="curves-chart" />;
}
