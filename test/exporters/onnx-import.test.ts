/**
 * ONNX models open as editable projects whose outputs equal onnxruntime's on
 * the same model: models written by real PyTorch (torch.onnx.export of the
 * course's networks, opsets 9 to 13, and small networks with a computed
 * flatten, MatMul + Add, GELU's formula, a final Softmax, ceil_mode pooling,
 * MobileNet's ReLU6, asymmetric padding and depthwise convolution)
 * and by the studio's own exporter (every preset and the layer zoo). Each
 * imported project exports to ONNX again with the same outputs. Operators
 * the studio has no layer for are refused naming the node and operator.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/core/compile/model';
import type { Project } from '../../src/core/document/schema';
import { inferValidGraph } from '../../src/core/infer';
import type { TensorMap } from '../../src/core/weights/safetensors';
import type { ImportedModel } from '../../src/exporters/import-graph';
import { readModelFile } from '../../src/exporters/node-io';
import { buildOnnxModel } from '../../src/exporters/onnx/export';
import { importOnnxModel } from '../../src/exporters/onnx/import';
import { ModelProto } from '../../src/exporters/onnx/onnx-proto';
import { describeWith, PYTHON, pytorch, torchvision } from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';
import { exportInputs, layerZoo, random, randomWeights, relativeError } from './fixtures';

const TOLERANCE = 1e-4;
const dir = mkdtempSync(join(tmpdir(), 'onnx-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
ort.env.wasm.numThreads = 1;

/** onnxruntime's output for an NCHW batch. */
async function runtimeOutput(bytes: Uint8Array, x: Float32Array, shape: number[]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({
      [session.inputNames[0]]: new ort.Tensor('float32', x, shape),
    });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The imported project's output for an NCHW batch, in PyTorch layout. */
async function studioOutput(
  project: Project,
  weights: TensorMap,
  x: Float32Array,
  shape: number[],
) {
  const tf = await cpuTf();
  const model = compileModel(tf, inferValidGraph(project, { batch: 1 }), { weights });
  try {
    return tf.tidy(() => {
      const nhwc = tf.transpose(
        tf.tensor4d(x, shape as [number, number, number, number]),
        [0, 2, 3, 1],
      );
      const y = model.forward(nhwc as tfc.Tensor4D, false);
      return (y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y).dataSync() as Float32Array;
    });
  } finally {
    model.dispose();
  }
}

/** Softmax (or its logarithm) of each row. */
function softmaxRows(values: Float32Array, rows: number, log = false): Float32Array {
  const features = values.length / rows;
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * features, (r + 1) * features);
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    out.set(
      row.map((v, i) => (log ? v - max - Math.log(sum) : exps[i] / sum)),
      r * features,
    );
  }
  return out;
}

/**
 * Imports ONNX bytes and checks the project's outputs (softmax applied when
 * the import removed a final Softmax) against onnxruntime's, then that the
 * project exported to ONNX again gives them too.
 */
async function checkImport(bytes: Uint8Array, shape: number[], imported: ImportedModel) {
  const next = random(11);
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1);
  const expected = await runtimeOutput(bytes, x, shape);
  const removed = (layer: string) =>
    imported.notes.some((n) => n.startsWith(`removed the final ${layer}`));
  const apply = (y: Float32Array) =>
    removed('Softmax') || removed('LogSoftmax')
      ? softmaxRows(y, shape[0], removed('LogSoftmax'))
      : y;
  const actual = apply(await studioOutput(imported.project, imported.weights, x, shape));
  expect(relativeError(actual, expected)).toBeLessThan(TOLERANCE);
  const inference = inferValidGraph(imported.project, { batch: 1 });
  const again = buildOnnxModel({ project: imported.project, inference, weights: imported.weights });
  expect(relativeError(apply(await runtimeOutput(again, x, shape)), expected)).toBeLessThan(
    TOLERANCE,
  );
}

describe('the studio’s own ONNX exports', () => {
  it('the layer zoo and the presets with blocks import with onnxruntime’s outputs, and export again', async () => {
    // The zoo has every layer type; these presets add blocks, branches and merges.
    const names = ['layer-zoo', 'nin', 'googlenet', 'resnext18', 'densenet'];
    for (const c of exportInputs().filter((e) => names.includes(e.name))) {
      const bytes = buildOnnxModel(c.input);
      const imported = importOnnxModel(bytes);
      const [, channels, h, w] = c.input.inference.inputShape!;
      try {
        await checkImport(bytes, [2, channels, h, w], imported);
      } catch (err) {
        throw new Error(`${c.name}: ${(err as Error).message}`);
      }
      const types = new Set(imported.project.nodes.map((n) => n.type));
      if (c.name === 'layer-zoo') {
        // GELU's formula (both forms) and ceil_mode average pooling are read back as layers.
        expect(
          imported.project.nodes.filter((n) => n.type === 'GELU').map((n) => n.params),
        ).toEqual([{ approximate: 'tanh' }, { approximate: 'none' }]);
        expect(imported.project.nodes.find((n) => n.id === 'ceilavg')?.params).toMatchObject({
          ceil_mode: true,
        });
        expect(types).not.toContain('Mul');
      }
    }
  }, 600_000);
});

describeWith([pytorch], 'models written by PyTorch’s torch.onnx.export', () => {
  let models: { name: string; file: string; input: number[]; opset: number }[] = [];
  beforeAll(() => {
    const script = join(import.meta.dirname, 'torch_onnx_models.py');
    models = JSON.parse(
      execFileSync(PYTHON, [script, dir], { encoding: 'utf8', maxBuffer: 1 << 26 }),
    ).models;
  }, 300_000);

  const imports = [
    'lenet',
    'lenet-opset9',
    'alexnet',
    'vgg11-tiny',
    'nin',
    'googlenet',
    'resnet18',
    'resnext18',
    'densenet',
    'view-flatten',
    'matmul-head',
    'gelus',
    'softmax-head',
    'mobilenet-like',
    'mobilenet-like-opset10',
    'mnist-example',
    'mean-pool',
    'mean-pool-opset11',
  ];
  it.each(imports)(
    '%s imports with onnxruntime’s outputs and exports again',
    async (name) => {
      const model = models.find((m) => m.name === name)!;
      const imported = readModelFile(model.file);
      await checkImport(new Uint8Array(readFileSync(model.file)), model.input, imported);
      if (name === 'gelus') {
        expect(
          imported.project.nodes.filter((n) => n.type === 'GELU').map((n) => n.params),
        ).toEqual([{ approximate: 'none' }, { approximate: 'tanh' }]);
      }
      if (name === 'softmax-head') {
        expect(imported.notes.join(' ')).toMatch(/removed the final Softmax/);
        expect(imported.project.nodes.map((n) => n.type)).toContain('LeakyReLU');
      }
      if (name.startsWith('mobilenet-like')) {
        // Clip to [0, 6] is ReLU6; the asymmetric Pad stays a ZeroPad2d; the depthwise Conv keeps its groups.
        const nodes = imported.project.nodes;
        expect(nodes.filter((n) => n.type === 'ReLU6')).toHaveLength(3);
        expect(nodes.find((n) => n.type === 'ZeroPad2d')?.params).toEqual({
          padding: [0, 1, 0, 1],
        });
        expect(nodes.some((n) => n.type === 'Conv2d' && n.params?.groups === 8)).toBe(true);
      }
      if (name === 'mnist-example') {
        expect(imported.notes.join(' ')).toMatch(/removed the final LogSoftmax/);
      }
      if (name.startsWith('mean-pool')) {
        // Each mean over H and W is a global average pooling; the one without keepdim flattens too.
        const types = imported.project.nodes.map((n) => n.type);
        expect(types.filter((t) => t === 'AdaptiveAvgPool2d')).toHaveLength(2);
        expect(types.filter((t) => t === 'Flatten')).toHaveLength(1);
      }
      if (name === 'resnet18') {
        // Module paths become ids, so weights keep PyTorch's names (dots as underscores).
        expect([...imported.weights.keys()]).toContain('0_0.weight');
      }
    },
    300_000,
  );

  it.each([
    [
      'transposed',
      /node '.*ConvTranspose.*': operator ConvTranspose \(a transposed convolution\) has no studio layer/,
    ],
    ['upsampled', /node '.*': operator (Resize|Upsample) has no studio layer/],
  ])('%s is refused naming the node and its operator', (name, message) => {
    const model = models.find((m) => m.name === name)!;
    expect(() => readModelFile(model.file)).toThrow(message);
  });
});

describeWith(
  [pytorch, torchvision],
  'torchvision’s networks, which the course does not have',
  () => {
    let models: { name: string; file: string; input: number[] }[] = [];
    beforeAll(() => {
      const script = join(import.meta.dirname, 'torch_onnx_models.py');
      models = JSON.parse(
        execFileSync(PYTHON, [script, dir, '--torchvision'], {
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        }),
      ).models;
    }, 300_000);

    it.each([
      'tv-mobilenet_v2',
      'tv-squeezenet1_1',
      'tv-densenet121',
      'tv-googlenet',
      'tv-regnet_x_400mf',
    ])(
      '%s imports with onnxruntime’s outputs and exports again',
      async (name) => {
        const model = models.find((m) => m.name === name)!;
        const imported = readModelFile(model.file);
        // Named after the file, not torch.onnx.export's 'torch_jit'.
        expect(imported.project.name).toBe(name);
        await checkImport(new Uint8Array(readFileSync(model.file)), model.input, imported);
      },
      300_000,
    );

    it.each([
      // Channel shuffle: its channels per group computed from the shape, a reshape to 5-D, a transpose.
      [
        'tv-shufflenet_v2_x0_5',
        /node '\/stage2\/stage2\.0\/\w+': operator \w+ has no studio layer/,
      ],
      ['tv-mobilenet_v3_small', /node '.*HardSigmoid': operator HardSigmoid has no studio layer/],
    ])('%s is refused naming the node and its operator', (name, message) => {
      const model = models.find((m) => m.name === name)!;
      expect(() => readModelFile(model.file)).toThrow(message);
    });
  },
);

describe('files that are not what they seem', () => {
  it('an opset older than 9 is refused, saying which the studio reads', () => {
    const project = layerZoo();
    const inference = inferValidGraph(project, { batch: 1 });
    const bytes = buildOnnxModel({ project, inference, weights: randomWeights(inference) });
    const model = ModelProto.decode(bytes) as unknown as { opset_import: { version: number }[] };
    model.opset_import[0].version = 8;
    const old = ModelProto.encode(model).finish();
    expect(() => importOnnxModel(old)).toThrow(/opset 8; the studio reads opset 9 and later/);
  });

  it('bytes that are not a model say so', () => {
    expect(() => importOnnxModel(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01]))).toThrow(
      /this file is not an ONNX model/,
    );
  });
});
