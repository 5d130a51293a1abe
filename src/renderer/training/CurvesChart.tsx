/**
 * Live training curves with uPlot, as the course plots them: x is the epoch,
 * the per-batch training loss (smoothed) runs between epoch marks, and train
 * loss, validation loss and validation accuracy are points per epoch. Past
 * runs are overlaid in lighter colours. Batch events only move the store's
 * tick; the chart redraws at most once per animation frame. Drag to zoom,
 * double-click to zoom out; the legend shows the values under the cursor.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type CurveSeries, joinCurves, runCurves } from './series';
import { useTraining } from './store';

const OVERLAY_COLOURS = ['#c38fff', '#ffb454', '#36c5b4', '#9aa5b1', '#ff6b6b'];
const HEIGHT = 300;
const AXIS = '#8b98a9';
const GRID = '#2a3544';

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

function options(width: number, meta: CurveSeries[]): uPlot.Options {
  return {
    width,
    height: HEIGHT,
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

export function CurvesChart() {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    let frame = 0;
    const draw = () => {
      frame = 0;
      const { data, meta } = buildCurves();
      const key = meta.map((m) => m.label).join('|');
      const width = element.clientWidth || 600;
      // For tests and the frame benchmark: how many x positions the chart holds.
      element.dataset.points = String(data[0].length);
      if (!plot.current || key !== shape.current) {
        // The set of series changed (a run started, a past run was added): rebuild.
        plot.current?.destroy();
        plot.current = new uPlot(options(width, meta), data, element);
        shape.current = key;
      } else {
        plot.current.setData(data, !isZoomed(plot.current));
      }
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(draw);
    };
    schedule();
    const unsubscribe = useTraining.subscribe((state, previous) => {
      if (state.tick !== previous.tick || state.live !== previous.live) schedule();
    });
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: element.clientWidth || 600, height: HEIGHT });
    });
    resize.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      unsubscribe();
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
      shape.current = '';
    };
  }, []);

  return <div className="curves-chart" ref={container} data-testid="curves-chart" />;
}

/** While the user is zoomed in, new data must not reset the x range. */
function isZoomed(u: uPlot): boolean {
  const xs = u.data[0];
  if (xs.length === 0) return false;
  const { min, max } = u.scales.x;
  return min != null && max != null && (min > xs[0] || max < xs[xs.length - 1]);
}
