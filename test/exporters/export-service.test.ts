/**
 * ExportApi as the studio calls it: plan (the files, nothing written), export
 * into the project folder (fresh or a run's weights), refusals that name the
 * node or the path at fault, and importing a TF.js model back.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ExportRequest } from '../../src/api/export-api';
import { ExportService } from '../../src/backend/export-service';
import { parseProject } from '../../src/core/document/load';
import { inferValidGraph } from '../../src/core/infer';
import { getPreset } from '../../src/core/presets/index';
import { encodeSafetensors } from '../../src/core/weights/safetensors';
import { OWNED_FILES_RECORD } from '../../src/node/owned-files';
import { randomWeights } from './fixtures';

const folder = mkdtempSync(join(tmpdir(), 'export-service-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const service = new ExportService({ projectFolder: folder });
const lenet = getPreset('lenet')!.build();

const request = (over: Partial<ExportRequest>): ExportRequest => ({
  target: { project: lenet, projectPath: 'lenet.json' },
  weights: { kind: 'initial' },
  format: 'onnx',
  folder: 'exports/lenet-onnx',
  ...over,
});

it('plans without writing, then writes the listed files', async () => {
  const plan = await service.exportPlan(request({ format: 'pytorch', folder: 'exports/lenet-py' }));
  if (!plan.ok) throw new Error(plan.error);
  expect(plan.value.files.map((f) => f.path)).toEqual([
    'model.py',
    'weights.safetensors',
    'weights_io.py',
    'train.py',
    '__init__.py',
    'project.json',
    'README.md',
  ]);
  expect(plan.value.freshWeights).toBe(true);
  expect(existsSync(join(folder, 'exports/lenet-py'))).toBe(false);
  const done = await service.exportModel(
    request({ format: 'pytorch', folder: 'exports/lenet-py' }),
  );
  if (!done.ok) throw new Error(done.error);
  expect(readdirSync(join(folder, 'exports/lenet-py')).sort()).toEqual(
    [OWNED_FILES_RECORD, ...plan.value.files.map((f) => f.path)].sort(),
  );
  const again = await service.exportPlan(
    request({ format: 'pytorch', folder: 'exports/lenet-py' }),
  );
  expect(again.ok && again.value.files.every((f) => f.replaces)).toBe(true);
});

it('exports a run’s trained weights', async () => {
  const run = join(folder, 'runs', '2026-11-26T12-00-00');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'project.json'), JSON.stringify(lenet));
  writeFileSync(
    join(run, 'weights.safetensors'),
    encodeSafetensors(randomWeights(inferValidGraph(lenet))),
  );
  const done = await service.exportModel(
    request({ weights: { kind: 'run', runId: '2026-11-26T12-00-00' } }),
  );
  if (!done.ok) throw new Error(done.error);
  expect(done.value.freshWeights).toBe(false);
  expect(done.value.weights).toBe('run 2026-11-26T12-00-00');
  const missing = await service.exportModel(request({ weights: { kind: 'run', runId: 'nope' } }));
  expect(missing).toEqual({
    ok: false,
    error: expect.stringMatching(/run nope has no weights.safetensors/),
  });
});

it('refuses a graph the format cannot express, naming the node and why', async () => {
  const project = structuredClone(lenet);
  const input = project.nodes.find((n) => n.type === 'Input')!;
  input.params = { ...input.params, height: 30, width: 30 };
  // LeNet's last pooling gives 5×5 here: 4×4 adaptive windows are unequal.
  const flatten = project.nodes.findIndex((n) => n.type === 'Flatten');
  const source = project.edges.find((e) => e.target === project.nodes[flatten].id)!;
  project.nodes.push({ id: 'adaptive', type: 'AdaptiveAvgPool2d', params: { output_size: 4 } });
  project.edges.push({ source: source.source, target: 'adaptive' });
  source.source = 'adaptive';
  const result = await service.exportPlan(request({ target: { project }, format: 'onnx' }));
  expect(result).toEqual({
    ok: false,
    error: expect.stringMatching(
      /cannot export to onnx: node 'adaptive': AdaptiveAvgPool2d from 5×5 to 4×4 uses unequal windows/,
    ),
  });
  const tfjs = await service.exportPlan(request({ target: { project }, format: 'tfjs' }));
  expect(tfjs.ok ? '' : tfjs.error).toMatch(/node 'adaptive'/);
});

it('stays inside the workspace', async () => {
  const result = await service.exportModel(request({ folder: '../outside' }));
  expect(result).toEqual({ ok: false, error: expect.stringMatching(/outside the workspace/) });
});

it('a model with several outputs is answered with the outputs to choose from', async () => {
  const tfjs = await service.exportModel(request({ format: 'tfjs', folder: 'exports/two' }));
  if (!tfjs.ok) throw new Error(tfjs.error);
  // Give the LeNet export a second output: its Flatten, besides the last Linear.
  const file = join(folder, 'exports/two/model.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  delete json.userDefinedMetadata;
  json.modelTopology.config.output_layers.push(['flatten', 0, 0]);
  writeFileSync(file, JSON.stringify(json));
  const asked = await service.importModel({ path: 'exports/two/model.json' });
  expect(asked).toEqual({
    ok: true,
    value: { kind: 'choose-output', outputs: ['fc3', 'flatten'] },
  });
  const chosen = await service.importModel({ path: 'exports/two/model.json', output: 'fc3' });
  expect(chosen.ok && chosen.value.kind).toBe('imported');
});

it('imports a TF.js export as project text with its weights beside it', async () => {
  await service.exportModel(request({ format: 'tfjs', folder: 'exports/lenet-tfjs' }));
  const result = await service.importModel({ path: 'exports/lenet-tfjs/model.json' });
  if (!result.ok) throw new Error(result.error);
  if (result.value.kind !== 'imported') throw new Error('LeNet has one output');
  const imported = { value: result.value };
  const parsed = parseProject(imported.value.text);
  expect(parsed.ok && parsed.issues).toEqual([]);
  expect(imported.value.weightsFolder).toBe('exports/lenet-tfjs/imported');
  expect(existsSync(join(folder, 'exports/lenet-tfjs/imported/weights.safetensors'))).toBe(true);
  // The imported weights export again (the editor's graph, the folder's weights).
  const again = await service.exportModel(
    request({
      weights: { kind: 'folder', folder: imported.value.weightsFolder },
      folder: 'exports/again',
    }),
  );
  expect(again.ok && again.value.weights).toBe('exports/lenet-tfjs/imported');
  const wrongGraph = await service.exportPlan(
    request({
      target: { project: getPreset('alexnet')!.build() },
      weights: { kind: 'folder', folder: imported.value.weightsFolder },
    }),
  );
  expect(wrongGraph.ok ? '' : wrongGraph.error).toMatch(/the weights do not fit the project/);
});

it('weights trained in PyTorch come back as a run: of the open project, or of their own', async () => {
  // The PyTorch package written above, as if its train.py had saved trained weights beside it.
  const trained = randomWeights(inferValidGraph(lenet));
  writeFileSync(join(folder, 'exports/lenet-py/trained.safetensors'), encodeSafetensors(trained));
  const path = 'exports/lenet-py/trained.safetensors';
  const ofLenet = await service.importModel({
    path,
    openProject: { name: lenet.name, path: 'lenet.json' },
  });
  if (!ofLenet.ok) throw new Error(ofLenet.error);
  if (ofLenet.value.kind !== 'run') throw new Error('weights come back as a run');
  expect(ofLenet.value.openProject).toBe(true);
  expect(ofLenet.value.runId).toMatch(/-pytorch$/);
  const record = JSON.parse(
    readFileSync(join(folder, 'runs', ofLenet.value.runId, 'run.json'), 'utf8'),
  );
  expect(record).toMatchObject({ projectName: lenet.name, status: 'done' });
  // Export takes the run, with these weights.
  const exported = await service.exportModel(
    request({ weights: { kind: 'run', runId: ofLenet.value.runId }, folder: 'exports/from-torch' }),
  );
  expect(exported.ok && exported.value.weights).toBe(`run ${ofLenet.value.runId}`);

  // Another project is open: the package's project is to be opened, the run is of it.
  const other = await service.importModel({ path, openProject: { name: 'Something else' } });
  if (!other.ok || other.value.kind !== 'run') throw new Error('weights come back as a run');
  expect(other.value.openProject).toBe(false);
  const parsed = parseProject(other.value.text);
  expect(parsed.ok && parsed.project.name).toBe(lenet.name);

  // Weights with no package around them, or of another network, are refused saying why.
  mkdirSync(join(folder, 'loose'), { recursive: true });
  writeFileSync(join(folder, 'loose/w.safetensors'), encodeSafetensors(trained));
  const loose = await service.importModel({ path: 'loose/w.safetensors' });
  expect(loose.ok ? '' : loose.error).toMatch(/has no project.json beside it/);
  const [key, tensor] = [...trained][0];
  const flat = new Map(trained).set(key, { ...tensor, shape: [tensor.data.length] });
  writeFileSync(join(folder, 'exports/lenet-py/flat.safetensors'), encodeSafetensors(flat));
  const misfit = await service.importModel({ path: 'exports/lenet-py/flat.safetensors' });
  expect(misfit.ok ? '' : misfit.error).toMatch(new RegExp(`does not fit .*${key}`));
});
