/**
 * Every StudioApi method that takes a path, tried with paths that leave the
 * workspace (`..`, absolute paths, links pointing out): each is refused by
 * name and nothing outside the workspace is read or written.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/api/result';
import { createStudioBackend } from '../../src/backend';
import { getPreset } from '../../src/core/presets';
import { resolveTrainOptions } from '../../src/core/training/options';

const top = mkdtempSync(path.join(tmpdir(), 'fault-paths-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const workspace = path.join(top, 'workspace');
const dataDir = path.join(top, 'data');
const outside = path.join(top, 'outside');
for (const dir of [workspace, dataDir, outside]) mkdirSync(dir);
writeFileSync(path.join(outside, 'model.json'), '{"modelTopology": {}}');
writeFileSync(path.join(outside, 'weights.safetensors'), 'x');
symlinkSync(outside, path.join(workspace, 'linked'));

const api = createStudioBackend({
  host: 'web',
  version: 'test',
  projectFolder: workspace,
  stateFolder: path.join(top, 'state'),
  dataDir,
  dataDirs: [dataDir],
  push: () => undefined,
});
const project = getPreset('lenet')!.build();

function refused(result: Result<unknown>, pattern: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(pattern);
}

const LEAVES = /outside the workspace|leads outside/;

describe('paths a client names stay in the workspace', () => {
  it('datasets: only the workspace and the data folders given at start', async () => {
    refused(await api.trainingDatasets('/etc'), /is outside the workspace .* and the data folders/);
    refused(await api.trainingDatasets('../outside'), /is outside/);
    refused(await api.trainingDatasets('linked'), /leads outside/);
    refused(
      await api.trainingStart({ project, options: { dataset: 'folder', dataDir: outside } }),
      /is outside/,
    );
    const elsewhere = structuredClone(project);
    elsewhere.training = { ...elsewhere.training!, dataset: 'folder', dataDir: outside };
    refused(await api.trainingStart({ project: elsewhere, options: {} }), /is outside/);
    expect((await api.trainingDatasets(dataDir)).ok).toBe(true);
  });

  it('runs: a dataset folder named by a run.json in the workspace (evaluation, Continue)', async () => {
    // A run folder that came with a shared project: its run.json names a folder elsewhere.
    const run = path.join(workspace, 'runs', 'shared');
    mkdirSync(path.join(run, 'checkpoint'), { recursive: true });
    const options = resolveTrainOptions(project, { dataset: 'folder', dataDir: outside });
    writeFileSync(
      path.join(run, 'run.json'),
      JSON.stringify({
        id: 'shared',
        projectName: project.name,
        startedAt: new Date().toISOString(),
        status: 'stopped',
        options,
      }),
    );
    writeFileSync(path.join(run, 'project.json'), JSON.stringify(project));
    writeFileSync(path.join(run, 'checkpoint', 'checkpoint.safetensors'), 'x');
    const names = new RegExp(
      `run.json names its dataset folder '${outside}' is outside the workspace`,
    );
    refused(
      await api.evaluateClassification({ project, weights: { kind: 'run', runId: 'shared' } }),
      names,
    );
    refused(
      await api.evaluateInspect({
        project,
        weights: { kind: 'run', runId: 'shared' },
        image: { kind: 'test', index: 0 },
      }),
      names,
    );
    refused(await api.trainingContinue({ project }, 'shared'), names);
  });

  it('runs: the project path and the run id', async () => {
    for (const projectPath of ['../outside/x.json', `${outside}/x.json`, 'linked/x.json']) {
      refused(await api.trainingRuns({ project, projectPath }), LEAVES);
      refused(await api.trainingStart({ project, projectPath, options: {} }), LEAVES);
    }
    refused(await api.trainingRunMetrics({ project }, '..'), /not a run id|no run/);
    refused(
      await api.evaluateClassification({ project, weights: { kind: 'run', runId: '..' } }),
      /not a run id|no run/,
    );
  });

  it('exports and imports', async () => {
    const request = {
      target: { project },
      weights: { kind: 'initial' as const },
      format: 'onnx' as const,
    };
    for (const folder of ['../outside', outside, 'linked', 'linked/deeper']) {
      refused(await api.exportPlan({ ...request, folder }), LEAVES);
      refused(await api.exportModel({ ...request, folder }), LEAVES);
      refused(
        await api.exportPlan({
          ...request,
          folder: 'exports/x',
          weights: { kind: 'folder', folder },
        }),
        LEAVES,
      );
    }
    for (const model of ['../outside/model.json', `${outside}/model.json`, 'linked/model.json']) {
      refused(await api.importModel({ path: model }), LEAVES);
    }
    expect(readdirSync(outside).sort()).toEqual(['model.json', 'weights.safetensors']);
  });
});
