/** Model files for the import flows (tests and screenshots) to open: written here, as a user's would be. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { inferValidGraph } from '../../src/core/infer';
import { getPreset } from '../../src/core/presets/index';
import { encodeSafetensors } from '../../src/core/weights/safetensors';
import { writeBundle } from '../../src/exporters/node-io';
import { buildOnnxModel } from '../../src/exporters/onnx/export';
import { exportPytorch } from '../../src/exporters/pytorch/export';
import { randomWeights } from '../../test/exporters/fixtures';

/** A small classifier with a second output (a box regressor), saved as TF.js Layers files. */
export async function saveTwoOutputModel(folder: string): Promise<void> {
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

/** ResNet-18 as the studio exports it to ONNX, with random weights: an ONNX file to open. */
export async function saveOnnxModel(file: string): Promise<void> {
  const project = getPreset('resnet18')!.build();
  const inference = inferValidGraph(project, { batch: 1 });
  await writeFile(file, buildOnnxModel({ project, inference, weights: randomWeights(inference) }));
}

/**
 * LeNet as a PyTorch package the studio exported, with trained.safetensors
 * beside it as its train.py saves one (other values under the same keys).
 */
export async function savePytorchPackage(folder: string): Promise<void> {
  const project = getPreset('lenet')!.build();
  const inference = inferValidGraph(project, { batch: 1 });
  writeBundle(exportPytorch({ project, inference, weights: randomWeights(inference) }), folder);
  await writeFile(
    path.join(folder, 'trained.safetensors'),
    encodeSafetensors(randomWeights(inference, 7)),
  );
}
