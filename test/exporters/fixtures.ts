/**
 * Every preset with random weights (BatchNorm statistics included) at a small
 * input size, and the studio's own output for a random batch: what every
 * exporter's result must reproduce.
 */
import { compileModel } from '../../src/core/compile/model';
import type { Project } from '../../src/core/document/schema';
import { inferGraph, inferValidGraph } from '../../src/core/infer';
import { presets } from '../../src/core/presets/index';
import type { TensorMap } from '../../src/core/weights/safetensors';
import { seededRandom } from '../../src/engine/data/random';
import type { ExportInput } from '../../src/exporters/common';
import { cpuTf } from '../support/tfjs-cpu';

export interface StudioCase {
  name: string;
  input: ExportInput;
  /** NCHW batch, values in [0, 1]. */
  x: Float32Array;
  xShape: number[];
  /** The studio's output in PyTorch layout (NCHW for feature maps). */
  expected: Float32Array;
  expectedShape: number[];
}

/** Seeded uniform numbers in [0, 1): the studio's own stream. */
export const random = seededRandom;

/** Random weights of a sensible scale for every weight the graph has. */
export function randomWeights(inference: ExportInput['inference'], seed = 1): TensorMap {
  const next = random(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * next();
  const weights: TensorMap = new Map();
  for (const node of inference.primitives) {
    for (const spec of node.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      // He-uniform kernels keep activations alive through deep ReLU stacks without BatchNorm (NiN).
      const bound =
        spec.init.role === 'kernel'
          ? Math.sqrt(6 / spec.init.fanIn)
          : spec.init.role === 'bias'
            ? 0.1
            : 0;
      const batchNorm = node.type.startsWith('BatchNorm');
      const draw =
        spec.name === 'running_var' || (batchNorm && spec.name === 'weight')
          ? () => uniform(0.5, 1.5)
          : batchNorm
            ? () => uniform(-0.5, 0.5)
            : () => uniform(-bound, bound);
      weights.set(`${node.id.replaceAll('/', '.')}.${spec.name}`, {
        shape: spec.shape,
        data: Float32Array.from({ length: size }, draw),
      });
    }
  }
  return weights;
}

/** The project with its Input at another size (exports do not depend on it; tests run faster). */
export function withInputSize(project: Project, size: number): Project {
  return {
    ...project,
    nodes: project.nodes.map((n) =>
      n.type === 'Input' ? { ...n, params: { ...n.params, height: size, width: size } } : n,
    ),
  };
}

/** The smallest of a few sizes at which the preset's graph is valid. */
function smallInput(project: Project): Project {
  const own = project.nodes.find((n) => n.type === 'Input')?.params.height as number;
  for (const size of [Math.min(own, 32), 48, 64, 80, 96]) {
    const candidate = withInputSize(project, size);
    if (inferGraph(candidate).issues.length === 0) return candidate;
  }
  return project;
}

export async function studioCase(
  name: string,
  project: Project,
  batch = 2,
  seed = 1,
): Promise<StudioCase> {
  const tf = await cpuTf();
  const inference = inferValidGraph(project, { batch: 1 });
  const weights = randomWeights(inference, seed);
  const [, c, h, w] = inference.inputShape!;
  const next = random(seed + 1000);
  const xShape = [batch, c, h, w];
  const x = Float32Array.from({ length: batch * c * h * w }, next);
  const model = compileModel(tf, inference, { weights });
  try {
    const out = tf.tidy(() => {
      const nhwc = tf.transpose(
        tf.tensor4d(x, xShape as [number, number, number, number]),
        [0, 2, 3, 1],
      );
      const y = model.forward(nhwc as import('@tensorflow/tfjs-core').Tensor4D, false);
      return y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y;
    });
    const expected = out.dataSync() as Float32Array;
    const expectedShape = out.shape;
    out.dispose();
    return { name, input: { project, inference, weights }, x, xShape, expected, expectedShape };
  } finally {
    model.dispose();
  }
}

/**
 * A small graph with every primitive layer type and the awkward parameters
 * (asymmetric explicit padding, groups, dilation with stride, padded pooling,
 * ceil_mode pooling, 'same', GELU both ways; not unequal adaptive pooling, which
 * ONNX and Keras lack).
 */
export function layerZoo(): Project {
  const nodes: Project['nodes'] = [
    { id: 'input', type: 'Input', params: { channels: 3, height: 13, width: 12 } },
    {
      id: 'conv1',
      type: 'Conv2d',
      params: { out_channels: 8, kernel_size: [3, 5], padding: [1, 2], stride: [1, 2] },
    },
    { id: 'bn1', type: 'BatchNorm2d', params: { eps: 1e-3, momentum: 0.2 } },
    { id: 'leaky', type: 'LeakyReLU', params: { negative_slope: 0.2 } },
    { id: 'relu6', type: 'ReLU6', params: {} },
    // Padding only after and below, taken back by a (3, 2) convolution: the sizes after are unchanged.
    { id: 'pad', type: 'ZeroPad2d', params: { padding: [0, 1, 2, 0] } },
    { id: 'padconv', type: 'Conv2d', params: { out_channels: 8, kernel_size: [3, 2] } },
    { id: 'pool1', type: 'MaxPool2d', params: { kernel_size: 3, stride: 1, padding: 1 } },
    {
      id: 'grouped',
      type: 'Conv2d',
      params: {
        out_channels: 8,
        kernel_size: 3,
        padding: 2,
        dilation: 2,
        groups: 4,
        stride: 2,
        bias: false,
      },
    },
    { id: 'avg', type: 'AvgPool2d', params: { kernel_size: 3, stride: 2, padding: 1 } },
    { id: 'cat', type: 'Concat', params: {} },
    { id: 'gelu', type: 'GELU', params: { approximate: 'tanh' } },
    { id: 'same', type: 'Conv2d', params: { out_channels: 16, kernel_size: 4, padding: 'same' } },
    { id: 'sum', type: 'Add', params: {} },
    { id: 'gelu2', type: 'GELU', params: {} },
    { id: 'tanh', type: 'Tanh', params: {} },
    { id: 'drop2d', type: 'Dropout2d', params: { p: 0.2 } },
    // ceil_mode: 7×3 → 4×2 (partial last windows), then 3×2 with windows past the padding.
    {
      id: 'ceilmax',
      type: 'MaxPool2d',
      params: { kernel_size: 2, stride: 2, ceil_mode: true },
    },
    {
      id: 'ceilavg',
      type: 'AvgPool2d',
      params: { kernel_size: 3, stride: 2, padding: 1, ceil_mode: true },
    },
    { id: 'gap', type: 'AdaptiveAvgPool2d', params: { output_size: [1, 2] } },
    { id: 'flat', type: 'Flatten', params: {} },
    { id: 'drop', type: 'Dropout', params: { p: 0.3 } },
    { id: 'fc1', type: 'Linear', params: { out_features: 12 } },
    { id: 'bn2', type: 'BatchNorm1d', params: { eps: 1e-4, momentum: 0.3 } },
    { id: 'sig', type: 'Sigmoid', params: {} },
    { id: 'fc2', type: 'Linear', params: { out_features: 5, bias: false } },
    { id: 'relu', type: 'ReLU', params: {} },
    { id: 'softmax', type: 'Softmax', params: {} },
  ];
  const chain = (ids: string[]) => ids.slice(1).map((id, i) => ({ source: ids[i], target: id }));
  return {
    format: 'convnet-studio',
    version: 1,
    name: 'Layer zoo',
    blocks: {},
    nodes,
    edges: [
      ...chain(['input', 'conv1', 'bn1', 'leaky', 'relu6', 'pad', 'padconv', 'pool1', 'grouped']),
      ...chain(['pool1', 'avg']),
      { source: 'grouped', target: 'cat' },
      { source: 'avg', target: 'cat' },
      ...chain(['cat', 'gelu', 'same']),
      { source: 'same', target: 'sum' },
      { source: 'cat', target: 'sum' },
      ...chain([
        'sum',
        'gelu2',
        'tanh',
        'drop2d',
        'ceilmax',
        'ceilavg',
        'gap',
        'flat',
        'drop',
        'fc1',
        'bn2',
        'sig',
        'fc2',
        'relu',
        'softmax',
      ]),
    ],
  };
}

/** The layer zoo and every preset at a small input size, with random weights (no outputs computed). */
export function exportInputs(): { name: string; input: ExportInput }[] {
  const projects = [
    { name: 'layer-zoo', project: layerZoo() },
    ...presets.map((p) => ({ name: p.name, project: smallInput(p.build()) })),
  ];
  return projects.map(({ name, project }) => {
    const inference = inferValidGraph(project, { batch: 1 });
    return { name, input: { project, inference, weights: randomWeights(inference) } };
  });
}

/** Every preset at a small input size. */
export async function presetCases(batch = 2): Promise<StudioCase[]> {
  const cases: StudioCase[] = [];
  cases.push(await studioCase('layer-zoo', layerZoo(), batch));
  for (const preset of presets) {
    const t = Date.now();
    cases.push(await studioCase(preset.name, smallInput(preset.build()), batch));
    if (process.env.EXPORT_TIMING) console.log(preset.name, Date.now() - t, 'ms');
  }
  return cases;
}

/** max |a − b| / max |b|: the relative error the export tests bound. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}
