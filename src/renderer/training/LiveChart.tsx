/**
 * A uPlot chart fed from the training store. Store changes only schedule a
 * redraw, which happens at most once per animation frame; the chart is
 * rebuilt only when its set of series changes, and new data keeps a zoom.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useTraining } from './store';

export const AXIS = '#8b98a9';
export const GRID = '#2a3544';

export interface ChartContent {
  data: uPlot.AlignedData;
  /** Identifies the set of series: a change rebuilds the chart. */
  key: string;
  options(width: number, height: number): uPlot.Options;
}

interface Props {
  build(): ChartContent;
  height: number;
  className: string;
  testId?: string;
}

export function LiveChart({ build, height, className, testId }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const builder = useRef(build);
  builder.current = build;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    let plot: uPlot | null = null;
    let shape = '';
    let frame = 0;
    const draw = () => {
      frame = 0;
      const { data, key, options } = builder.current();
      // For tests and the frame benchmark: how many x positions the chart holds.
      element.dataset.points = String(data[0].length);
      if (!plot || key !== shape) {
        plot?.destroy();
        plot = new uPlot(options(element.clientWidth || 600, height), data, element);
        shape = key;
      } else {
        plot.setData(data, !isZoomed(plot));
      }
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(draw);
    };
    schedule();
    const unsubscribe = useTraining.subscribe((state, previous) => {
      if (state.tick !== previous.tick || state.live !== previous.live) schedule();
    });
    const resize = new ResizeObserver(() =>
      plot?.setSize({ width: element.clientWidth || 600, height }),
    );
    resize.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      unsubscribe();
      resize.disconnect();
      plot?.destroy();
    };
  }, [height]);

  return <div className={className} ref={container} data-testid={testId} />;
}

/** While the user is zoomed in, new data must not reset the x range. */
function isZoomed(u: uPlot): boolean {
  const xs = u.data[0];
  if (xs.length === 0) return false;
  const { min, max } = u.scales.x;
  return min != null && max != null && (min > xs[0] || max < xs[xs.length - 1]);
}
