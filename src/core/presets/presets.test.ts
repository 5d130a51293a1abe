/**
 * The presets against the course: the notes' layer_summary shapes, and every
 * preset's parameters, per-stage shapes and weight shapes against the same
 * networks built in real PyTorch from the course's definitions
 * (test/parity/course_models.py, one python process for all).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockCases, blockGraph } from '../../../test/parity/course-cases';
import { DESIGN_PRESET_NAMES } from '../../../test/support/preset-names';
import { describeWith, PYTHON, pytorch } from '../../../test/support/requirements';
import { projectSchema } from '../document/schema';
import { type GraphInference, inferGraph } from '../infer';
import { formatIssue } from '../issues';
import type { Shape } from '../shape';
import { getPreset, presets } from './index';

function infer(name: string, inputShape?: Shape): GraphInference {
  const r = inferGraph(getPreset(name)!.build(), { inputShape });
  expect(r.issues.map(formatIssue)).toEqual([]);
  return r;
}

const topShapes = (r: GraphInference) =>
  r.nodes.filter((n) => n.type !== 'Input').map((n) => n.outputShape);

describe('presets', () => {
  it('are the names docs/design.md fixes, each a valid project without issues', () => {
    expect(presets.map((p) => p.name)).toEqual(DESIGN_PRESET_NAMES);
    for (const preset of presets) {
      const project = preset.build();
      expect(projectSchema.safeParse(project).success).toBe(true);
      expect(inferGraph(project).issues.map(formatIssue)).toEqual([]);
      expect(inferGraph(project).inputShape).toEqual([1, ...preset.input]);
    }
  });

  it('carry the course’s training set-up', () => {
    expect(getPreset('lenet')!.build().training).toMatchObject({
      optimizer: 'sgd',
      batchSize: 128,
      epochs: 10,
      lr: 0.1,
      dataset: 'fashion-mnist',
    });
    expect(getPreset('lenet')!.build().training!.resize).toBeUndefined();
    expect(getPreset('vgg11-tiny')!.build().training).toMatchObject({
      lr: 0.01,
      resize: [224, 224],
    });
    expect(getPreset('resnet18')!.build().training).toMatchObject({ lr: 0.01, resize: [96, 96] });
  });

  it('LeNet on 1×1×28×28: the notes’ layer_summary shapes in order, 61,706 parameters', () => {
    const r = infer('lenet', [1, 1, 28, 28]);
    expect(r.nodes.slice(1).map((n) => `${n.type} ${n.outputShape!.join(',')}`)).toEqual([
      'Conv2d 1,6,28,28',
      'Sigmoid 1,6,28,28',
      'AvgPool2d 1,6,14,14',
      'Conv2d 1,16,10,10',
      'Sigmoid 1,16,10,10',
      'AvgPool2d 1,16,5,5',
      'Flatten 1,400',
      'Linear 1,120',
      'Sigmoid 1,120',
      'Linear 1,84',
      'Sigmoid 1,84',
      'Linear 1,10',
    ]);
    expect(r.totals.params).toBe(61_706);
  });

  it('VGG-11 on 1×1×224×224: the notes’ block shapes in order', () => {
    expect(topShapes(infer('vgg11', [1, 1, 224, 224]))).toEqual([
      [1, 64, 112, 112],
      [1, 128, 56, 56],
      [1, 256, 28, 28],
      [1, 512, 14, 14],
      [1, 512, 7, 7],
      [1, 25088],
      [1, 4096],
      [1, 4096],
      [1, 4096],
      [1, 4096],
      [1, 4096],
      [1, 4096],
      [1, 10],
    ]);
  });

  it('ResNet-18 on 1×1×96×96: the notes’ six Sequential stages in order', () => {
    const r = infer('resnet18', [1, 1, 96, 96]);
    expect(r.nodes.slice(1).map((n) => n.id)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'last']);
    expect(topShapes(r)).toEqual([
      [1, 64, 24, 24],
      [1, 64, 24, 24],
      [1, 128, 12, 12],
      [1, 256, 6, 6],
      [1, 512, 3, 3],
      [1, 10],
    ]);
  });

  it('ResNet-18 weights are keyed as the course’s modules (b2.0.conv1.weight)', () => {
    const keys = infer('resnet18').primitives.flatMap((p) =>
      p.weights.map((w) => `${p.id.replaceAll('/', '.')}.${w.name}`),
    );
    expect(keys).toContain('b2.0.conv1.weight');
    expect(keys).toContain('b3.0.conv3.weight');
    expect(keys).toContain('last.2.bias');
  });
});

interface TorchDescription {
  params: number;
  summary: [string, number[]][];
  output: number[];
  weights: Record<string, number[]>[];
}

const referenceScript = fileURLToPath(
  new URL('../../../test/parity/course_reference.py', import.meta.url),
);

/** Name → shape of every weighted primitive, in execution order (BatchNorm's running stats included). */
function weightShapes(r: GraphInference): Record<string, number[]>[] {
  return r.primitives
    .filter((p) => p.weights.length > 0)
    .map((p) => Object.fromEntries(p.weights.map((w) => [w.name, w.shape])));
}

describeWith([pytorch], 'blocks and presets against PyTorch (course definitions)', () => {
  let torch: { presets: Record<string, TorchDescription>; blocks: TorchDescription[] };

  beforeAll(() => {
    const request = {
      presets: presets.map((p) => ({ name: p.name, input: [1, ...p.input] })),
      blocks: blockCases,
    };
    const stdout = execFileSync(PYTHON, [referenceScript], {
      input: JSON.stringify(request),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    torch = JSON.parse(stdout);
  });

  for (const preset of presets) {
    it(`${preset.name}: parameters, stage shapes and weight shapes equal PyTorch’s`, () => {
      const ours = infer(preset.name);
      const reference = torch.presets[preset.name];
      expect(ours.totals.params).toBe(reference.params);
      expect(ours.outputShape).toEqual(reference.output);
      // The course's net is one nn.Sequential: its children are our top-level nodes.
      expect(topShapes(ours)).toEqual(reference.summary.map(([, shape]) => shape));
      expect(weightShapes(ours)).toEqual(reference.weights);
    });
  }

  blockCases.forEach((c, i) => {
    it(`${c.type} ${JSON.stringify(c.params)} on ${c.input.join('×')}: shape and weights equal PyTorch’s`, () => {
      const r = inferGraph(blockGraph(c), { inputShape: c.input });
      expect(r.issues.map(formatIssue)).toEqual([]);
      expect(r.outputShape).toEqual(torch.blocks[i].output);
      expect(r.totals.params).toBe(torch.blocks[i].params);
      expect(weightShapes(r)).toEqual(torch.blocks[i].weights);
    });
  });
});
