/**
 * Opening models as projects through the export dialog's import section, in
 * Chromium against the web host: a model with several outputs asks which to
 * keep, the notes say what the import changed, and a file that is not a model
 * is refused with a message that prints none of its bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, expect, it } from 'vitest';
import { nodeIds, studioPageForFile } from './support/studio';

const session = studioPageForFile('lenet');

/** A small classifier with a second output (a box regressor), saved as TF.js Layers files. */
async function saveTwoOutputModel(folder: string): Promise<void> {
  await tf.setBackend('cpu');
  const input = tfl.input({ shape: [12, 12, 1], name: 'image' });
  const conv = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'features' })
    .apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten({ name: 'flat' }).apply(conv) as tfl.SymbolicTensor;
  const classes = tfl.layers
    .dense({ units: 10, activation: 'softmax', name: 'classes' })
    .apply(flat) as tfl.SymbolicTensor;
  const box = tfl.layers.dense({ units: 4, name: 'box' }).apply(flat) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: [classes, box], name: 'detector' });
  await mkdir(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      await writeFile(
        path.join(folder, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      await writeFile(
        path.join(folder, 'weights.bin'),
        new Uint8Array(artifacts.weightData as ArrayBuffer),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

beforeAll(async () => {
  await saveTwoOutputModel(path.join(session.studio.folder, 'models/detector'));
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

it('a binary file is refused as one, printing none of its bytes', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('import-path').fill('models/weights.json');
  await dialog.getByTestId('import-open').click();
  const problem = dialog.getByTestId('export-problem');
  await expect
    .poll(() => problem.textContent())
    .toMatch(/is not a model.json: it is a binary file/);
  expect(await problem.textContent()).toMatch(/^[\x20-\x7e\u2018-\u201d…]*$/);
});
