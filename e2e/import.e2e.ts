/**
 * Opening models as projects through the export dialog's import section, in
 * Chromium against the web host: a model with several outputs asks which to
 * keep, the notes say what the import changed, an ONNX model opens, weights
 * trained in PyTorch come back as a run, and a file that is not a model is
 * refused with a message that prints none of its bytes.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { saveOnnxModel, savePytorchPackage, saveTwoOutputModel } from './support/models';
import { nodeIds, studioPageForFile } from './support/studio';

const session = studioPageForFile('lenet');

beforeAll(async () => {
  await saveTwoOutputModel(path.join(session.studio.folder, 'models/detector'));
  await saveOnnxModel(path.join(session.studio.folder, 'models/resnet18.onnx'));
  await savePytorchPackage(path.join(session.studio.folder, 'exports/lenet-pytorch'));
  await writeFile(
    path.join(session.studio.folder, 'models/weights.json'),
    new Uint8Array([0x08, 0x07, 0x12, 0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a]),
  );
});

async function openImportSection() {
  await expect.poll(() => session.page.getByTestId('doc-title').textContent()).toContain('LeNet');
  await session.page.getByRole('button', { name: 'Export', exact: true }).click();
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByText('Open a model', { exact: false }).click();
  return dialog;
}

it('a model with several outputs asks which one to keep, then opens it with notes', async () => {
  const dialog = await openImportSection();
  await dialog.getByTestId('import-path').fill('models/detector/model.json');
  await dialog.getByTestId('import-open').click();
  const choice = dialog.getByTestId('import-output');
  await expect.poll(() => choice.locator('option').allTextContents()).toEqual(['classes', 'box']);
  expect(await dialog.getByTestId('import-outputs').textContent()).toContain('2 outputs');
  await dialog.getByTestId('import-output-open').click();
  const notes = dialog.getByTestId('import-notes');
  await expect.poll(() => notes.textContent()).toContain("kept the output 'classes'");
  expect(await notes.textContent()).toContain('removed the final Softmax');
  expect(await notes.textContent()).toContain('weights saved in models/detector/imported');
  await expect
    .poll(() => session.page.getByTestId('doc-title').textContent())
    .toContain('detector');
  // The box branch was left out; the classifier's layers are on the canvas.
  await expect
    .poll(() => nodeIds(session.page))
    .toEqual(['image', 'features', 'features_relu', 'flat', 'classes']);
  expect(session.pageErrors).toEqual([]);
});

it('an ONNX model opens as an editable network with its weights beside it', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('import-path').fill('models/resnet18.onnx');
  await dialog.getByTestId('import-open').click();
  const notes = dialog.getByTestId('import-notes');
  await expect
    .poll(() => notes.textContent())
    .toContain('weights saved in models/resnet18-imported');
  expect(await dialog.getByTestId('export-weights').inputValue()).toBe('imported');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect
    .poll(() => session.page.getByTestId('total-params').textContent())
    .toBe('11,178,378');
  // Its convolutions are layers of the canvas, named by their weights in the file.
  expect(await nodeIds(session.page)).toContain('b1_0');
  expect(session.pageErrors).toEqual([]);
  await session.page.getByRole('button', { name: 'Export', exact: true }).click();
  await dialog.getByText('Open a model', { exact: false }).click();
});

it('a binary file is refused as one, printing none of its bytes', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('import-path').fill('models/weights.json');
  await dialog.getByTestId('import-open').click();
  const problem = dialog.getByTestId('import-problem');
  await expect
    .poll(() => problem.textContent())
    .toMatch(/is not a model.json: it is a binary file/);
  // Printable text only: none of the file's bytes.
  expect(await problem.textContent()).toMatch(/^[\x20-\x7e\u2018-\u201d…]*$/);
});

it('weights trained in PyTorch come back as a run of the open project, chosen for export', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  // LeNet is open again (the ONNX model replaced it above).
  await session.page.getByRole('button', { name: 'Presets' }).click();
  await session.page.getByTestId('preset-lenet').click();
  await expect.poll(() => session.page.getByTestId('total-params').textContent()).toBe('61,706');
  await openImportSection();
  await dialog.getByTestId('import-path').fill('exports/lenet-pytorch/trained.safetensors');
  await dialog.getByTestId('import-open').click();
  const notes = dialog.getByTestId('import-notes');
  await expect.poll(() => notes.textContent()).toMatch(/the weights are run \S+-pytorch of 'LeNet/);
  // The project stayed; the run is the export's weights.
  await expect.poll(() => dialog.getByTestId('export-weights').inputValue()).toMatch(/-pytorch$/);
  expect(await session.page.getByTestId('total-params').textContent()).toBe('61,706');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  // And the Train area lists it among the project's runs.
  await session.page.getByRole('button', { name: 'Train', exact: true }).click();
  const runs = session.page.getByRole('region', { name: 'Past runs' });
  const row = runs.locator('tbody tr').first();
  await expect.poll(() => row.textContent()).toContain('PyTorch (imported weights)');
  // No epochs of its own to count: trained elsewhere.
  expect(await row.locator('td').nth(3).textContent()).toBe('–');
  expect(session.pageErrors).toEqual([]);
});
