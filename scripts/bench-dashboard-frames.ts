/**
 * How smooth the dashboard stays while it trains: opens the studio in
 * Chromium (web host in this process), trains LeNet on the bundled sample
 * data, and records every animation frame meanwhile. Prints the longest
 * frame, the 99th percentile and Chromium's long-animation-frame entries.
 *
 *   npx tsx scripts/bench-dashboard-frames.ts [--epochs 3] [--limit-train 2048] [--batch-size 32]
 */
import { parseArgs } from 'node:util';
import { chartPoints, fillRunSettings, openDashboard } from '../e2e/dashboard-session';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    'limit-train': { type: 'string', default: '2048' },
    'batch-size': { type: 'string', default: '32' },
  },
});

interface FrameStats {
  frames: number;
  longestMs: number;
  p99Ms: number;
  medianMs: number;
  longAnimationFrames: number;
  longestLoafMs: number;
}

const session = await openDashboard('lenet');
const { page } = session;
try {
  await fillRunSettings(page, {
    epochs: Number(values.epochs),
    batchSize: Number(values['batch-size']),
    limitTrain: Number(values['limit-train']),
    limitVal: 512,
  });
  // Every frame's start time, and Chromium's report of frames that took over 50 ms.
  await page.evaluate(() => {
    const w = window as unknown as { frameTimes: number[]; loafs: number[]; recording: boolean };
    w.frameTimes = [];
    w.loafs = [];
    w.recording = true;
    const tick = (t: number) => {
      if (!w.recording) return;
      w.frameTimes.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.loafs.push(entry.duration);
    }).observe({ type: 'long-animation-frame', buffered: false });
  });
  const started = Date.now();
  await page.getByRole('button', { name: '▶ Train' }).click();
  await page
    .getByTestId('run-status')
    .filter({ hasText: /Finished|Failed|Stopped/ })
    .waitFor({ timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  const stats = await page.evaluate((): FrameStats => {
    const w = window as unknown as { frameTimes: number[]; loafs: number[]; recording: boolean };
    w.recording = false;
    const gaps = w.frameTimes
      .slice(1)
      .map((t, i) => t - w.frameTimes[i])
      .sort((a, b) => a - b);
    const at = (q: number) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? 0;
    return {
      frames: gaps.length,
      longestMs: gaps.at(-1) ?? 0,
      p99Ms: at(0.99),
      medianMs: at(0.5),
      longAnimationFrames: w.loafs.length,
      longestLoafMs: Math.max(0, ...w.loafs),
    };
  });
  const facts = await page.getByTestId('run-facts').textContent();
  console.log(`run: ${seconds.toFixed(1)} s, ${await chartPoints(page)} chart points; ${facts}`);
  console.log(
    `frames: ${stats.frames}, median ${stats.medianMs.toFixed(1)} ms, p99 ${stats.p99Ms.toFixed(1)} ms, longest ${stats.longestMs.toFixed(1)} ms`,
  );
  console.log(
    `long animation frames (>50 ms): ${stats.longAnimationFrames}, longest ${stats.longestLoafMs.toFixed(1)} ms`,
  );
} finally {
  await session.close();
}
