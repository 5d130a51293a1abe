/** The export dialog through the web host in Chromium: plan, write, and the files on disk. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
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

it('offers the export as a zip to download', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('export-format-onnx').check();
  await expect.poll(() => dialog.getByTestId('export-plan').textContent()).toContain('model.onnx');
  await dialog.getByTestId('export-write').click();
  const [download] = await Promise.all([
    session.page.waitForEvent('download'),
    dialog.getByTestId('export-download').click(),
  ]);
  expect(download.suggestedFilename()).toBe('lenet-5-onnx.zip');
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  expect(Object.keys(zip).sort()).toEqual(['README.md', 'model.onnx']);
  expect(zip['model.onnx'].length).toBe(
    readFileSync(path.join(session.studio.folder, 'exports/lenet-5-onnx/model.onnx')).length,
  );
});

it('asks before replacing a file the studio did not write', async () => {
  const folder = path.join(session.studio.folder, 'exports/mine');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'README.md'), 'my own notes');
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('export-folder').fill('exports/mine');
  await expect
    .poll(() => dialog.getByTestId('export-plan').textContent())
    .toContain('replaces a file the studio did not write');
  const question = session.page.waitForEvent('dialog');
  await dialog.getByTestId('export-write').click();
  expect((await question).message()).toContain(
    'already holds README.md, which the studio did not write',
  );
  // The harness accepts the question: the export replaces the file.
  await expect
    .poll(() => dialog.getByTestId('export-result').textContent())
    .toContain('Wrote into');
  expect(readFileSync(path.join(folder, 'README.md'), 'utf8')).toContain('(ONNX)');
});

it('refuses a folder outside the workspace, saying why', async () => {
  const dialog = session.page.getByRole('dialog', { name: 'Export' });
  await dialog.getByTestId('export-folder').fill('../elsewhere');
  await expect
    .poll(() => dialog.getByTestId('export-problem').textContent())
    .toContain('outside the workspace');
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

  await dialog.getByText('Open a model', { exact: false }).click();
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
