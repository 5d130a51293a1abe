/**
 * The pictures of the import flows in docs/export.md, taken from the running
 * studio (web host, Chromium). Run: npx tsx scripts/import-screenshots.ts
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { saveOnnxModel, savePytorchPackage, saveTwoOutputModel } from '../e2e/support/models';
import { launchChromium, repoRoot, startStudio } from '../e2e/support/studio';

const out = (name: string) => path.join(repoRoot, 'docs/images', name);

async function openImport(page: Page, file: string) {
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Export' });
  await dialog.getByText('Open a model', { exact: false }).click();
  await dialog.getByTestId('import-path').fill(file);
  await dialog.getByTestId('import-open').click();
  return dialog;
}

const studio = await startStudio({ project: 'lenet' });
const browser = await launchChromium();
try {
  await saveTwoOutputModel(path.join(studio.folder, 'models/detector'));
  await saveOnnxModel(path.join(studio.folder, 'models/resnet18.onnx'));
  await savePytorchPackage(path.join(studio.folder, 'exports/lenet-pytorch'));
  const page = await browser.newPage({
    viewport: { width: 1500, height: 920 },
    deviceScaleFactor: 1,
  });
  page.on('dialog', (d) => void d.accept());
  await page.goto(studio.url);
  await page.getByTestId('total-params').filter({ hasText: '61,706' }).waitFor();

  const dialog = await openImport(page, 'models/detector/model.json');
  await dialog.getByTestId('import-output').waitFor();
  await page.waitForTimeout(300);
  await dialog.locator('.modal').screenshot({ path: out('import-choose-output.png') });
  await dialog.getByTestId('import-output-open').click();
  await dialog.getByTestId('import-notes').waitFor();
  await page.waitForTimeout(300);
  await dialog.locator('.modal').screenshot({ path: out('import-notes.png') });
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  const onnx = await openImport(page, 'models/resnet18.onnx');
  await onnx.getByTestId('import-notes').waitFor();
  await onnx.getByRole('button', { name: 'Cancel' }).click();
  await page.getByTestId('total-params').filter({ hasText: '11,178,378' }).waitFor();
  await page.waitForTimeout(600);
  await page.screenshot({ path: out('import-onnx-resnet18.png') });

  // Weights trained in PyTorch, back as a run of the open project (LeNet again).
  await page.getByRole('button', { name: 'Presets' }).click();
  await page.getByTestId('preset-lenet').click();
  await page.getByTestId('total-params').filter({ hasText: '61,706' }).waitFor();
  const weights = await openImport(page, 'exports/lenet-pytorch/trained.safetensors');
  await weights.getByTestId('import-notes').waitFor();
  await page.waitForTimeout(600);
  await weights.locator('.modal').screenshot({ path: out('import-pytorch-run.png') });
  console.log(
    'wrote docs/images/{import-choose-output,import-notes,import-onnx-resnet18,import-pytorch-run}.png',
  );
} finally {
  await browser.close();
  await studio.stop();
}
