/**
 * Each learning layer's gradient spread over the run, on a log scale,
 * coloured by depth (dark blue: the first layers, yellow: the last). In a
 * sigmoid network the early layers' lines stay orders of magnitude below the
 * late ones': those layers barely learn.
 */
import type uPlot from 'uplot';
import { AXIS, type ChartContent, GRID, LiveChart } from './LiveChart';
import { useTraining } from './store';

/** Viridis stops, first layer to last. */
const DEPTH_COLOURS = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

function depthColour(index: number, count: number): string {
  const t = count <= 1 ? 1 : index / (count - 1);
  return DEPTH_COLOURS[Math.round(t * (DEPTH_COLOURS.length - 1))];
}

function isPowerOfTen(v: number | null): boolean {
  if (v == null || v <= 0) return false;
  const exponent = Math.log10(v);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}

function content(): ChartContent {
  const history = useTraining.getState().live?.history;
  if (!history || history.ids.length === 0) {
    return { data: [[]], key: '', options: (width, height) => ({ width, height, series: [{}] }) };
  }
  const { ids } = history;
  return {
    // Copies: the chart compares new data with what it drew to keep a zoom.
    data: [history.x.slice(), ...history.gradients.map((g) => g.slice())] as uPlot.AlignedData,
    key: ids.join('|'),
    options: (width, height) => ({
      width,
      height,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [
        { label: 'epoch', stroke: AXIS, grid: { stroke: GRID }, ticks: { stroke: GRID } },
        {
          stroke: AXIS,
          grid: { show: false },
          ticks: { stroke: GRID },
          // Powers of ten only: the in-between log ticks crowd a short chart.
          filter: (_u, splits) => splits.map((v) => (isPowerOfTen(v) ? v : null)),
          // uPlot passes null for the ticks filtered out.
          values: (_u, ticks) => ticks.map((v) => (v == null ? '' : v.toExponential(0))),
          size: 56,
        },
      ],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true, show: ids.length <= 12 },
      series: [
        { label: 'epoch', value: (_u, v) => (v == null ? '–' : v.toFixed(2)) },
        ...ids.map(
          (id, i): uPlot.Series => ({
            label: id,
            stroke: depthColour(i, ids.length),
            width: 1.5,
            spanGaps: true,
            value: (_u, v) => (v == null ? '–' : v.toExponential(1)),
          }),
        ),
      ],
    }),
  };
}

export function GradientHistoryChart() {
  return (
    <LiveChart
      build={content}
      height={190}
      className="gradient-history"
      testId="gradient-history"
    />
  );
}
