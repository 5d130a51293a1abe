/**
 * How smooth the dashboard stays while it trains: opens the studio in
 * Chromium (web host in this process), trains LeNet on the bundled sample
 * data, and records every animation frame meanwhile. Prints the longest
 * frame, the 99th percentile and Chromium's long-animation-frame entries.
 *
 *   npx tsx scripts/bench-dashboard-frames.ts [--epochs 3] [--limit-train 2048] [--batch-size 32]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chartPoints, fillRunSettings, openDashboard } from '../e2e/dashboard-session';
import { webRendererDir } from '../src/server/renderer-build';

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
  /** The longest script inside a long frame (Chromium's attribution), to tell our work from the rest. */
  longestScript: { ms: number; what: string };
}

const RECORD_FRAMES = `(() => {
  window.frameTimes = [];
  window.loafs = [];
  window.recording = true;
  const tick = (t) => {
    if (!window.recording) return;
    window.frameTimes.push(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.longestScript = { ms: 0, what: '' };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.loafs.push(entry.duration);
      for (const script of entry.scripts) {
        if (script.duration > window.longestScript.ms) {
          window.longestScript = {
            ms: script.duration,
            what: script.invoker + (script.sourceFunctionName ? ' ' + script.sourceFunctionName : ''),
          };
        }
      }
    }
  }).observe({ type: 'long-animation-frame', buffered: false });
})()`;

const FRAME_STATS = `(() => {
  window.recording = false;
  const times = window.frameTimes;
  const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  const at = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? 0;
  return {
    frames: gaps.length,
    longestMs: gaps.at(-1) ?? 0,
    p99Ms: at(0.99),
    medianMs: at(0.5),
    longAnimationFrames: window.loafs.length,
    longestLoafMs: Math.max(0, ...window.loafs),
    longestScript: window.longestScript,
  };
})()`;

const loadBefore = loadavg()[0];
const session = await openDashboard('lenet');
const { page } = session;
try {
  await fillRunSettings(page, {
    epochs: Number(values.epochs),
    batchSize: Number(values['batch-size']),
    limitTrain: Number(values['limit-train']),
    limitVal: 512,
  });
  // Every frame's start time, and Chromium's report of frames that took over 50 ms. Passed
  // as source text: tsx would wrap functions in helpers that do not exist in the page.
  await page.evaluate(RECORD_FRAMES);
  const started = Date.now();
  await page.getByRole('button', { name: '▶ Train' }).click();
  await page
    .getByTestId('run-status')
    .filter({ hasText: /Finished|Failed|Stopped/ })
    .waitFor({ timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  const stats = (await page.evaluate(FRAME_STATS)) as FrameStats;
  const facts = (await page.getByTestId('run-facts').locator('span').allTextContents()).join(' ');
  console.log(`run: ${seconds.toFixed(1)} s, ${await chartPoints(page)} chart points; ${facts}`);
  console.log(
    `frames: ${stats.frames}, median ${stats.medianMs.toFixed(1)} ms, p99 ${stats.p99Ms.toFixed(1)} ms, longest ${stats.longestMs.toFixed(1)} ms`,
  );
  console.log(
    `long animation frames (>50 ms): ${stats.longAnimationFrames}, longest ${stats.longestLoafMs.toFixed(1)} ms`,
  );
  console.log(
    `longest script in a long frame: ${stats.longestScript.ms.toFixed(1)} ms (${stats.longestScript.what || 'none'})`,
  );
  console.log(`renderer build: ${reactBuild()}`);
  console.log(
    `machine: ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
  );
} finally {
  await session.close();
}

/** A renderer built under NODE_ENV=test (as the e2e suite does) runs React's slower development build. */
function reactBuild(): string {
  const assets = path.join(webRendererDir, 'assets');
  const development = readdirSync(assets).some(
    (file) =>
      file.endsWith('.js') && readFileSync(path.join(assets, file), 'utf8').includes('jsxDEV'),
  );
  return development
    ? 'React development build (rebuild out/web without NODE_ENV=test for production numbers)'
    : 'production';
}
