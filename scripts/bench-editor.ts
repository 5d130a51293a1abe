/**
 * How long the editor takes from a parameter change to the updated layer
 * summary, on ResNet-18, in a real Chromium against the web host.
 * Run: npx tsx scripts/bench-editor.ts [repeats]
 * "update" is the input event until the summary's DOM changes (inference plus
 * React render); "frame" adds the next painted frame.
 */
import { launchChromium, node, startStudio } from '../e2e/support/studio';

const repeats = Number(process.argv[2] ?? 40);
const studio = await startStudio({ project: 'resnet18' });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(studio.url);
  await page.getByTestId('total-params').filter({ hasText: '11,178,378' }).waitFor();
  await node(page, 'input').click();
  await page.getByTestId('field-height').waitFor();
  const samples: { update: number; frame: number }[] = [];
  for (let i = 0; i < repeats; i++) {
    const value = i % 2 === 0 ? '64' : '96';
    samples.push(
      await page.evaluate(
        (value) =>
          new Promise<{ update: number; frame: number }>((resolve) => {
            const input = document.querySelector<HTMLInputElement>('[data-testid=field-height]')!;
            const totals = document.querySelector('[data-testid=summary-totals]')!;
            const before = totals.textContent;
            const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!
              .set!;
            let start = 0;
            const observer = new MutationObserver(() => {
              if (totals.textContent === before) return;
              observer.disconnect();
              const update = performance.now() - start;
              requestAnimationFrame(() =>
                setTimeout(() => resolve({ update, frame: performance.now() - start })),
              );
            });
            observer.observe(totals, { subtree: true, childList: true, characterData: true });
            start = performance.now();
            setValue.call(input, value);
            input.dispatchEvent(new Event('input', { bubbles: true }));
          }),
        value,
      ),
    );
  }
  const stat = (key: 'update' | 'frame') => {
    const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
    return `median ${at(0.5)} ms, p95 ${at(0.95)} ms`;
  };
  console.log(`ResNet-18, input height 96 ↔ 64, ${repeats} edits`);
  console.log(`  parameter change → summary updated: ${stat('update')}`);
  console.log(`  parameter change → next frame:      ${stat('frame')}`);
} finally {
  await browser.close();
  await studio.stop();
}
