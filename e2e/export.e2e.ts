/** The export dialog through the web host in Chromium: plan, write, and the files on disk. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { studioPageForFile } from './support/studio';

const session = studioPageForFile('lenet');

it('lists the files an ONNX export will write, writes them, and shows the result', async () => {
  await expect.poll(() => session.page.getByTestId('doc-title').textContent()).toContain('LeNet');
  await session.page.getByRole('button', { name: 'Export', exact: true }).click();
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('export-format-onnx').check();
  await expect
    .poll(() => dialog.getByTestId('export-folder').inputValue())
    .toBe('exports/lenet-5-onnx');
  const plan = dialog.getByTestId('export-plan');
  await expect.poll(() => plan.textContent()).toContain('model.onnx');
  expect(await plan.textContent()).toContain('freshly initialised');
  expect(existsSync(path.join(session.studio.folder, 'exports/lenet-5-onnx'))).toBe(false);

  await dialog.getByTestId('export-write').click();
  await expect
    .poll(() => dialog.getByTestId('export-result').textContent())
    .toContain('Wrote into');
  expect(existsSync(path.join(session.studio.folder, 'exports/lenet-5-onnx/model.onnx'))).toBe(
    true,
  );

  // Another format proposes its own folder and lists its own files.
  await dialog.getByTestId('export-format-pytorch').check();
  await expect.poll(() => dialog.getByTestId('export-plan').textContent()).toContain('train.py');
  expect(session.pageErrors).toEqual([]);
});

it('refuses a folder outside the project folder, saying why', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('export-folder').fill('../elsewhere');
  await expect
    .poll(() => dialog.getByTestId('export-problem').textContent())
    .toContain('outside the project folder');
  expect(await dialog.getByTestId('export-write').isDisabled()).toBe(true);
});

it('opens a TF.js export as a project and exports it again with the imported weights', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('export-format-tfjs').check();
  await dialog.getByTestId('export-folder').fill('exports/lenet-tfjs');
  await expect.poll(() => dialog.getByTestId('export-plan').textContent()).toContain('model.json');
  await dialog.getByTestId('export-write').click();
  await expect
    .poll(() => dialog.getByTestId('export-result').textContent())
    .toContain('Wrote into');

  await dialog.getByText('Open a TensorFlow.js Layers model as a project').click();
  await dialog.getByTestId('import-path').fill('exports/lenet-tfjs/model.json');
  await dialog.getByTestId('import-open').click();
  await expect
    .poll(() => dialog.getByTestId('import-notes').textContent())
    .toContain('weights saved in exports/lenet-tfjs/imported');
  expect(await dialog.getByTestId('export-weights').inputValue()).toBe('imported');
  await dialog.getByTestId('export-format-onnx').check();
  await dialog.getByTestId('export-folder').fill('exports/reimported');
  await expect
    .poll(() => dialog.getByTestId('export-plan').textContent())
    .toContain('weights: exports/lenet-tfjs/imported');
  await dialog.getByTestId('export-write').click();
  await expect
    .poll(() => dialog.getByTestId('export-result').textContent())
    .toContain('Wrote into');
  expect(existsSync(path.join(session.studio.folder, 'exports/reimported/model.onnx'))).toBe(true);
  expect(session.pageErrors).toEqual([]);
});
