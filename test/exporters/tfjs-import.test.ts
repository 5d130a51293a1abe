/**
 * TF.js Layers models open as editable projects with PyTorch-layout weights:
 * the studio's own export (restored exactly, blocks included, or rebuilt from
 * its Keras layers alone) and models built as Keras would with tfjs-layers'
 * own API; each gives the same outputs after import and re-exports.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
import {
  decodeTfjsWeights,
  importTfjsModel,
  OutputChoiceError,
} from '../../src/exporters/tfjs/import';
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
    expect(types.filter((t) => t === 'Conv2d')).toHaveLength(4);
    const grouped = imported.project.nodes.find((n) => n.id === 'grouped')!;
    expect(grouped.params).toMatchObject({
      groups: 4,
      dilation: [2, 2],
      stride: [2, 2],
      padding: [2, 2],
    });
    // The zoo ends in Softmax, which the import removes (with a note): it outputs the logits.
    expect(imported.notes.join(' ')).toMatch(/removed the final Softmax \('softmax'\)/);
    const out = await studioOutput(imported.project, imported.weights, c.x, c.xShape);
    expect(relativeError(softmaxRows(out, 5), c.expected)).toBeLessThan(1e-5);

    // Re-export the imported project: ONNX gives the same outputs.
    const inference = inferValidGraph(imported.project, { batch: 1 });
    const session = await ort.InferenceSession.create(
      buildOnnxModel({ project: imported.project, inference, weights: imported.weights }),
    );
    const result = await session.run({ input: new ort.Tensor('float32', c.x, c.xShape) });
    const logits = result.output.data as Float32Array;
    expect(relativeError(softmaxRows(logits, 5), c.expected)).toBeLessThan(1e-4);
  });
});

/** Softmax over each row of N×F values. */
function softmaxRows(values: ArrayLike<number>, features: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row < values.length / features; row++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < features; i++) max = Math.max(max, values[row * features + i]);
    let sum = 0;
    for (let i = 0; i < features; i++) sum += Math.exp(values[row * features + i] - max);
    for (let i = 0; i < features; i++)
      out[row * features + i] = Math.exp(values[row * features + i] - max) / sum;
  }
  return out;
}

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

/**
 * Runs a tfjs model and the imported project on the same NHWC batch (`output`:
 * the model output to keep and compare; a removed final Softmax is applied
 * to the imported network's logits).
 */
async function compareImported(
  model: tfl.LayersModel,
  inputShape: [number, number, number],
  output?: string,
) {
  const tf = await cpuTf();
  const { json, weights } = await saveWithTfjs(model);
  const imported = importTfjsModel(json, weights, { output });
  const [h, w, c] = inputShape;
  const next = random(7);
  const x = Float32Array.from({ length: 2 * h * w * c }, next);
  const expected = tf.tidy(() => {
    const predicted = model.predict(tf.tensor(x, [2, h, w, c]));
    const outputs = Array.isArray(predicted) ? predicted : [predicted];
    const index = output ? model.outputNames.indexOf(output) : 0;
    return outputs[index].dataSync();
  });
  const nchw = tf.tidy(
    () => tf.transpose(tf.tensor(x, [2, h, w, c]), [0, 3, 1, 2]).dataSync() as Float32Array,
  );
  let actual = await studioOutput(imported.project, imported.weights, nchw, [2, c, h, w]);
  if (imported.notes.some((n) => n.startsWith('removed the final Softmax')))
    actual = softmaxRows(actual, actual.length / 2);
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
    // The final softmax (fused into the last Dense) is removed with a note.
    expect(imported.notes.join(' ')).toMatch(/removed the final Softmax.*outputs? logits/);
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

  it('a ZeroPadding2D before max pooling is kept as ZeroPad2d: Keras lets the padded zeros win too', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.zeroPadding2d({ inputShape: [6, 6, 1], padding: 1 }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
      ],
    });
    const { imported, error } = await compareImported(model, [6, 6, 1]);
    expect(error).toBeLessThan(1e-5);
    expect(imported.project.nodes.map((n) => n.type)).toEqual([
      'Input',
      'ZeroPad2d',
      'MaxPool2d',
      'Flatten',
    ]);
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

describe('models that lost something before', () => {
  it('several outputs: refused until one is chosen, then the chosen branch with its outputs', async () => {
    const input = tfl.input({ shape: [6, 6, 1], name: 'image' });
    const conv = tfl.layers
      .conv2d({ filters: 3, kernelSize: 3, name: 'trunk' })
      .apply(input) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(conv) as tfl.SymbolicTensor;
    const a = tfl.layers.dense({ units: 4, name: 'scores' }).apply(flat) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 2, name: 'box' }).apply(flat) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: [a, b] });
    const { json, weights } = await saveWithTfjs(model);
    expect(() => importTfjsModel(json, weights)).toThrow(OutputChoiceError);
    expect(() => importTfjsModel(json, weights)).toThrow(/2 outputs \(scores, box\)/);
    const { imported, error } = await compareImported(model, [6, 6, 1], 'box');
    expect(error).toBeLessThan(1e-5);
    expect(imported.project.nodes.map((n) => n.id)).toEqual(['image', 'trunk', 'flat', 'box']);
    expect(imported.notes[0]).toMatch(/kept the output 'box' \(the model has 2: scores, box\)/);
    expect(() => importTfjsModel(json, weights, { output: 'nope' })).toThrow(
      /no layer 'nope'; its outputs are scores, box/,
    );
  });

  it('a Sequential of Sequentials, as Teachable Machine writes it, imports with its outputs', async () => {
    const features = tfl.sequential({
      name: 'features',
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu' }),
        tfl.layers.globalAveragePooling2d({}),
      ],
    });
    const head = tfl.sequential({
      name: 'head',
      layers: [
        tfl.layers.dense({ inputShape: [4], units: 5, activation: 'relu' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const model = tfl.sequential({ layers: [features, head] });
    const { imported, error } = await compareImported(model, [8, 8, 3]);
    expect(error).toBeLessThan(1e-5);
    expect(imported.project.nodes.map((n) => n.type)).toEqual([
      'Input',
      'Conv2d',
      'ReLU',
      'AdaptiveAvgPool2d',
      'Flatten',
      'Linear',
      'ReLU',
      'Linear',
    ]);
  });

  it('a MobileNet-style Teachable Machine model (ReLU6, depthwise, strided same, ZeroPadding2D after) imports with its outputs', async () => {
    const tf = await cpuTf();
    const relu6 = () => tfl.layers.reLU({ maxValue: 6 });
    const features = tfl.sequential({
      name: 'mobilenet',
      layers: [
        tfl.layers.conv2d({
          inputShape: [32, 32, 3],
          filters: 8,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          useBias: false,
        }),
        tfl.layers.batchNormalization(),
        relu6(),
        tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
        tfl.layers.batchNormalization(),
        relu6(),
        tfl.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false }),
        tfl.layers.batchNormalization(),
        relu6(),
        tfl.layers.zeroPadding2d({
          padding: [
            [0, 1],
            [0, 1],
          ],
        }),
        tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2 }),
        relu6(),
        tfl.layers.globalAveragePooling2d({}),
      ],
    });
    const head = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [32], units: 4, activation: 'softmax' })],
    });
    const model = tfl.sequential({ layers: [features, head] });
    for (const bn of features.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      bn.setWeights(
        bn.getWeights().map((t, i) => tf.randomUniform(t.shape, i < 2 ? 0.5 : 0.1, 1.5)),
      );
    }
    const { imported, error } = await compareImported(model, [32, 32, 3]);
    expect(error).toBeLessThan(1e-5);
    const types = imported.project.nodes.map((n) => n.type);
    expect(types.filter((t) => t === 'ZeroPad2d')).toHaveLength(2);
    expect(types.filter((t) => t === 'ReLU6')).toHaveLength(4);
    const depthwise = imported.project.nodes.filter(
      (n) => n.type === 'Conv2d' && n.params.groups !== 1,
    );
    expect(depthwise.map((n) => [n.params.groups, n.params.out_channels])).toEqual([
      [8, 8],
      [16, 32],
    ]);
  });

  it('a functional model used as a layer of another imports with its outputs', async () => {
    const innerIn = tfl.input({ shape: [6, 6, 2] });
    const innerOut = tfl.layers
      .conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'inner_conv' })
      .apply(innerIn) as tfl.SymbolicTensor;
    const inner = tfl.model({ inputs: innerIn, outputs: innerOut, name: 'block' });
    const input = tfl.input({ shape: [6, 6, 2] });
    const y = inner.apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers
      .add()
      .apply([
        y,
        tfl.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor,
      ]) as tfl.SymbolicTensor;
    const { error, imported } = await compareImported(
      tfl.model({ inputs: input, outputs: out }),
      [6, 6, 2],
    );
    expect(error).toBeLessThan(1e-5);
    expect(imported.project.nodes.map((n) => n.id)).toContain('inner_conv');
  });

  it.each([
    { size: 7, kernel: 2 },
    { size: 8, kernel: 3 },
  ])(
    "'same' max pooling with kernel $kernel, stride 2 on $size×$size maps, becomes PyTorch's ceil_mode",
    async ({ size, kernel }) => {
      const model = tfl.sequential({
        layers: [
          // One channel: Keras's H,W,C flatten order is then PyTorch's C,H,W.
          tfl.layers.conv2d({ inputShape: [size, size, 1], filters: 1, kernelSize: 1 }),
          tfl.layers.maxPooling2d({ poolSize: kernel, strides: 2, padding: 'same' }),
          tfl.layers.flatten(),
        ],
      });
      const { imported, error } = await compareImported(model, [size, size, 1]);
      expect(error).toBeLessThan(1e-5);
      expect(imported.project.nodes.find((n) => n.type === 'MaxPool2d')!.params).toMatchObject({
        padding: [0, 0],
        ceil_mode: true,
      });
    },
  );

  it('a MobileNet-style head (global pooling, Reshape to 1×1×C, 1×1 conv, Reshape to flat) imports', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3 }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.reshape({ targetShape: [1, 1, 4] }),
        tfl.layers.conv2d({ filters: 5, kernelSize: 1 }),
        tfl.layers.reshape({ targetShape: [5] }),
        tfl.layers.activation({ activation: 'softmax' }),
      ],
    });
    const { imported, error } = await compareImported(model, [6, 6, 3]);
    expect(error).toBeLessThan(1e-5);
    expect(imported.project.nodes.map((n) => n.type)).toEqual([
      'Input',
      'Conv2d',
      'AdaptiveAvgPool2d',
      'Conv2d',
      'Flatten',
    ]);
  });

  it('quantized weights (uint8, float16) are expanded to float32', () => {
    const json = {
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            {
              name: 'a/kernel',
              shape: [3],
              dtype: 'float32',
              quantization: { dtype: 'uint8', scale: 0.5, min: -1 },
            },
            { name: 'b/kernel', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
          ],
        },
      ],
    };
    const bytes = new Uint8Array([0, 2, 4, 0x00, 0x3c, 0x00, 0xc0]);
    const tensors = decodeTfjsWeights(json, bytes);
    expect(Array.from(tensors.get('a/kernel')!.data)).toEqual([-1, 0, 1]);
    expect(Array.from(tensors.get('b/kernel')!.data)).toEqual([1, -2]);
  });
});

describe('files that are not what they seem', () => {
  const folder = join(dir, 'hostile');
  mkdirSync(folder, { recursive: true });
  const write = (name: string, contents: string | Uint8Array) => {
    writeFileSync(join(folder, name), contents);
    return join(folder, name);
  };
  /** A one-layer model (a 1×1 convolution on a 1×1×1 image) whose weights are in `paths`. */
  const layersModel = (paths: string[]) =>
    JSON.stringify({
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          layers: [
            {
              class_name: 'Conv2D',
              config: {
                name: 'conv',
                filters: 1,
                kernel_size: [1, 1],
                use_bias: false,
                batch_input_shape: [null, 1, 1, 1],
              },
            },
          ],
        },
      },
      weightsManifest: [
        { paths, weights: [{ name: 'conv/kernel', shape: [1, 1, 1, 1], dtype: 'float32' }] },
      ],
    });

  it('a graph model says so first, before any missing weight file', () => {
    const file = write(
      'graph.json',
      JSON.stringify({
        format: 'graph-model',
        modelTopology: { node: [{ name: 'x', op: 'Placeholder' }] },
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }],
      }),
    );
    expect(() => readTfjsModel(file)).toThrow(/is a TF.js graph model .*not a Layers model/);
  });

  it('a binary file is named as one, and no byte of it is printed', () => {
    const file = write(
      'model.bin.json',
      new Uint8Array([0x08, 0x07, 0x12, 0x00, 0xff, 0x1b, 0x5b]),
    );
    let message = '';
    try {
      readTfjsModel(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/is not a model.json: it is a binary file/);
    expect(message).toMatch(/^[\x20-\x7e\u2018-\u201d…]*$/);
  });

  it('text that is not JSON says where it breaks', () => {
    const file = write('broken.json', '{"format": "layers-model",\n "modelTopology": }');
    expect(() => readTfjsModel(file)).toThrow(
      /broken.json is not valid JSON: an unexpected character '}'/,
    );
  });

  it.each([['../outside.bin'], ['/etc/hostname'], ['sub/w.bin'], ['..']])(
    'a manifest naming %s is refused before anything is read',
    (path) => {
      const file = write('escape.json', layersModel([path]));
      expect(() => readTfjsModel(file)).toThrow(/must be plain file names beside model.json/);
    },
  );

  it('a weight file that links out of the folder is refused; one that links within it is read', () => {
    const outside = join(dir, 'secret.bin');
    writeFileSync(outside, new Uint8Array(4));
    symlinkSync(outside, join(folder, 'link-out.bin'));
    expect(() => readTfjsModel(write('link-out.json', layersModel(['link-out.bin'])))).toThrow(
      /a link to a file outside the model's folder/,
    );
    write('real.bin', new Uint8Array(new Float32Array([2]).buffer));
    symlinkSync(join(folder, 'real.bin'), join(folder, 'link-in.bin'));
    const imported = readTfjsModel(write('link-in.json', layersModel(['link-in.bin'])));
    expect(imported.weights.get('conv.weight')!.data[0]).toBe(2);
  });
});
