/**
 * TF.js Layers models open as editable projects with PyTorch-layout weights:
 * the studio's own export (restored exactly, blocks included, or rebuilt from
 * its Keras layers alone) and models built as Keras would with tfjs-layers'
 * own API; each gives the same outputs after import and re-exports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/core/compile/model';
import { inferValidGraph } from '../../src/core/infer';
import { getPreset } from '../../src/core/presets/index';
import type { TensorMap } from '../../src/core/weights/safetensors';
import { readTfjsModel, writeBundle } from '../../src/exporters/node-io';
import { buildOnnxModel } from '../../src/exporters/onnx/export';
import { exportTfjs } from '../../src/exporters/tfjs/export';
import { importTfjsModel } from '../../src/exporters/tfjs/import';
import { cpuTf } from '../support/tfjs-cpu';
import { layerZoo, random, relativeError, studioCase } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The studio's output for an NCHW batch, in PyTorch layout. */
async function studioOutput(
  project: Parameters<typeof inferValidGraph>[0],
  weights: TensorMap,
  x: Float32Array,
  shape: number[],
) {
  const tf = await cpuTf();
  const model = compileModel(tf, inferValidGraph(project, { batch: 1 }), { weights });
  const out = tf.tidy(() => {
    const nhwc = tf.transpose(
      tf.tensor4d(x, shape as [number, number, number, number]),
      [0, 2, 3, 1],
    );
    return model.forward(nhwc, false).dataSync() as Float32Array;
  });
  model.dispose();
  return out;
}

function expectSameWeights(actual: TensorMap, expected: TensorMap) {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, t] of expected) {
    expect(actual.get(key)!.shape, key).toEqual(t.shape);
    expect(relativeError(actual.get(key)!.data, t.data), key).toBe(0);
  }
}

describe('the studio’s own TF.js export', () => {
  it('opens as the same project (blocks included) with the same weights', async () => {
    const c = await studioCase('resnext18', getPreset('resnext18')!.build(), 1);
    const folder = join(dir, 'resnext18');
    writeBundle(exportTfjs(c.input), folder);
    const imported = readTfjsModel(join(folder, 'model.json'));
    expect(imported.project).toEqual(c.input.project);
    expectSameWeights(imported.weights, c.input.weights);
  });

  it('without its stored project, is rebuilt from its Keras layers with the same outputs, and re-exports', async () => {
    const c = await studioCase('zoo', layerZoo(), 2);
    const folder = join(dir, 'zoo');
    writeBundle(exportTfjs(c.input), folder);
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    delete json.userDefinedMetadata;
    writeFileSync(join(folder, 'model.json'), JSON.stringify(json));
    const imported = readTfjsModel(join(folder, 'model.json'));
    // Flat: ZeroPadding2D merged back into its convolution, Permute+Flatten into Flatten.
    const types = imported.project.nodes.map((n) => n.type);
    expect(types).not.toContain('ZeroPadding2D');
    expect(types.filter((t) => t === 'Conv2d')).toHaveLength(3);
    const grouped = imported.project.nodes.find((n) => n.id === 'grouped')!;
    expect(grouped.params).toMatchObject({
      groups: 4,
      dilation: [2, 2],
      stride: [2, 2],
      padding: [2, 2],
    });
    const out = await studioOutput(imported.project, imported.weights, c.x, c.xShape);
    expect(relativeError(out, c.expected)).toBeLessThan(1e-5);

    // Re-export the imported project: ONNX gives the same outputs.
    const inference = inferValidGraph(imported.project, { batch: 1 });
    const session = await ort.InferenceSession.create(
      buildOnnxModel({ project: imported.project, inference, weights: imported.weights }),
    );
    const result = await session.run({ input: new ort.Tensor('float32', c.x, c.xShape) });
    expect(relativeError(result.output.data as Float32Array, c.expected)).toBeLessThan(1e-4);
  });
});

/** Saves a tfjs-layers model as model.json + weights through tfjs's own serialization. */
async function saveWithTfjs(
  model: tfl.LayersModel,
): Promise<{ json: unknown; weights: Uint8Array }> {
  const tf = await cpuTf();
  let saved: { json: unknown; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = {
        json: {
          format: 'layers-model',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        },
        weights: new Uint8Array(artifacts.weightData as ArrayBuffer),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Runs a tfjs model and the imported project on the same NHWC batch. */
async function compareImported(model: tfl.LayersModel, inputShape: [number, number, number]) {
  const tf = await cpuTf();
  const { json, weights } = await saveWithTfjs(model);
  const imported = importTfjsModel(json, weights);
  const [h, w, c] = inputShape;
  const next = random(7);
  const x = Float32Array.from({ length: 2 * h * w * c }, next);
  const expected = tf.tidy(() =>
    (
      model.predict(tf.tensor(x, [2, h, w, c])) as import('@tensorflow/tfjs-core').Tensor
    ).dataSync(),
  );
  const nchw = tf.tidy(
    () => tf.transpose(tf.tensor(x, [2, h, w, c]), [0, 3, 1, 2]).dataSync() as Float32Array,
  );
  const actual = await studioOutput(imported.project, imported.weights, nchw, [2, c, h, w]);
  return { imported, error: relativeError(actual, expected) };
}

describe('models built as Keras would', () => {
  it('a Sequential CNN (Flatten in H,W,C order, fused activations, same padding) imports with its outputs', async () => {
    const tf = await cpuTf();
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [12, 12, 1],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 1 }),
        tfl.layers.batchNormalization({ epsilon: 1e-3 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 8, activation: 'tanh' }),
        tfl.layers.batchNormalization({ epsilon: 1e-4 }),
        tfl.layers.dropout({ rate: 0.2 }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    // Non-trivial BatchNorm statistics, as after training.
    for (const bn of [model.layers[3], model.layers[6]]) {
      bn.setWeights(
        bn.getWeights().map((t, i) => tf.randomUniform(t.shape, i < 2 ? 0.5 : 0.1, 1.5)),
      );
    }
    const { imported, error } = await compareImported(model, [12, 12, 1]);
    expect(error).toBeLessThan(1e-5);
    expect(imported.notes.join(' ')).toMatch(/H,W,C order/);
    expect(imported.project.nodes.map((n) => n.type)).toEqual([
      'Input',
      'Conv2d',
      'ReLU',
      'MaxPool2d',
      'Conv2d',
      'BatchNorm2d',
      'Flatten',
      'Linear',
      'Tanh',
      'BatchNorm1d',
      'Dropout',
      'Linear',
      'Softmax',
    ]);
  });

  it('a functional model with Add, Concatenate and global average pooling imports with its outputs', async () => {
    const input = tfl.input({ shape: [8, 8, 2] });
    const a = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same' })
      .apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate().apply([sum, a]) as tfl.SymbolicTensor;
    const act = tfl.layers.activation({ activation: 'relu' }).apply(cat) as tfl.SymbolicTensor;
    const gap = tfl.layers.globalAveragePooling2d({}).apply(act) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3 }).apply(gap) as tfl.SymbolicTensor;
    const { imported, error } = await compareImported(
      tfl.model({ inputs: input, outputs: out }),
      [8, 8, 2],
    );
    expect(error).toBeLessThan(1e-5);
    expect(imported.project.nodes.map((n) => n.type)).toContain('Concat');
  });

  it('names the layer it cannot express', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: 'edges' }),
        tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'blur' }),
      ],
    });
    const { json, weights } = await saveWithTfjs(model);
    expect(() => importTfjsModel(json, weights)).toThrow(/layer 'blur'.*count_include_pad=False/);
  });
});
