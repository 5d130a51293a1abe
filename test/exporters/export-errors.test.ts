/** Exports refuse what they cannot express, naming the node (or weight) and the reason. */
import { expect, it } from 'vitest';
import type { Project } from '../../src/core/document/schema';
import { inferValidGraph } from '../../src/core/infer';
import { buildExport, ExportError, prepareExport } from '../../src/exporters/index';
import { cpuTf } from '../support/tfjs-cpu';
import { randomWeights } from './fixtures';

function tiny(convId: string, extra: Project['nodes'] = []): Project {
  return {
    format: 'convnet-studio',
    version: 1,
    name: 'tiny',
    blocks: {},
    nodes: [
      { id: 'input', type: 'Input', params: { channels: 1, height: 8, width: 8 } },
      { id: convId, type: 'Conv2d', params: { out_channels: 2, kernel_size: 3 } },
      ...extra,
    ],
    edges: [
      { source: 'input', target: convId },
      ...extra.map((n, i) => ({ source: i === 0 ? convId : extra[i - 1].id, target: n.id })),
    ],
  };
}

it('PyTorch: a node id that every nn.Module already uses as an attribute', () => {
  const project = tiny('training');
  const inference = inferValidGraph(project);
  const input = { project, inference, weights: randomWeights(inference) };
  expect(() => buildExport('pytorch', input)).toThrow(ExportError);
  expect(() => buildExport('pytorch', input)).toThrow(
    "cannot export to pytorch: node 'training': the id 'training' is also an attribute of every nn.Module",
  );
  // The other formats have no such restriction.
  expect(buildExport('onnx', input).files[0].path).toBe('model.onnx');
});

it('ONNX and TF.js: adaptive pooling with unequal windows', () => {
  const project = tiny('conv', [
    { id: 'pool', type: 'AdaptiveAvgPool2d', params: { output_size: 4 } },
  ]);
  const inference = inferValidGraph(project);
  const input = { project, inference, weights: randomWeights(inference) };
  for (const format of ['onnx', 'tfjs'] as const) {
    expect(() => buildExport(format, input)).toThrow(
      `cannot export to ${format}: node 'pool': AdaptiveAvgPool2d from 6×6 to 4×4 uses unequal windows`,
    );
  }
  // PyTorch has AdaptiveAvgPool2d itself.
  expect(buildExport('pytorch', input).files[0].contents).toContain('nn.AdaptiveAvgPool2d(4)');
});

it('weights that belong to another version of the project', async () => {
  const tf = await cpuTf();
  const project = tiny('conv');
  const weights = randomWeights(
    inferValidGraph(tiny('conv', [{ id: 'fc', type: 'Flatten', params: {} }])),
  );
  weights.set('conv.weight', { shape: [3, 1, 3, 3], data: new Float32Array(27) });
  weights.set('old.weight', { shape: [1], data: new Float32Array(1) });
  expect(() => prepareExport(tf, project, weights)).toThrow(
    /the weights do not fit the project \('conv.weight' is 3×1×3×3 but the project needs 2×1×3×3; 'old.weight' belongs to no layer\)/,
  );
});

it('a project with problems names them before any export', async () => {
  const tf = await cpuTf();
  const project = tiny('conv', [{ id: 'fc', type: 'Linear', params: { out_features: 3 } }]);
  expect(() => prepareExport(tf, project)).toThrow(/node 'fc'.*Linear needs a 2-D input/);
});
