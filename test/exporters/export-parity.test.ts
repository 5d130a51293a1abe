/**
 * Every preset, exported to every format with random weights, reproduces the
 * studio's output: ONNX (checker + onnxruntime-web's wasm build), PyTorch
 * (real torch, one process for all), TF.js Layers (plain tf.loadLayersModel).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeSafetensors } from '../../src/core/weights/safetensors';
import { writeBundle } from '../../src/exporters/node-io';
import { buildOnnxModel, ONNX_INPUT, ONNX_OUTPUT } from '../../src/exporters/onnx/export';
import { exportPytorch } from '../../src/exporters/pytorch/export';
import { exportTfjs } from '../../src/exporters/tfjs/export';
import { DESIGN_PRESET_NAMES } from '../support/preset-names';
import { describeWith, onnx, PYTHON, pytorch } from '../support/requirements';
import { cpuTf } from '../support/tfjs-cpu';
import { presetCases, relativeError, type StudioCase } from './fixtures';

const TOLERANCE = 1e-4;
let cases: StudioCase[] = [];
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'export-parity-'));
  cases = await presetCases(2);
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('covers every layer type and every preset', () => {
  expect(cases.map((c) => c.name)).toEqual(['layer-zoo', ...DESIGN_PRESET_NAMES]);
  // A case whose output is all zeros would prove nothing.
  for (const c of cases)
    expect(
      c.expected.some((v) => v !== 0),
      c.name,
    ).toBe(true);
});

it('ONNX runs in onnxruntime-web (wasm) with the studio’s outputs, batch 2', async () => {
  ort.env.wasm.numThreads = 1;
  for (const c of cases) {
    const session = await ort.InferenceSession.create(buildOnnxModel(c.input));
    const result = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', c.x, c.xShape) });
    const output = result[ONNX_OUTPUT];
    expect(output.dims, c.name).toEqual(c.expectedShape);
    expect(relativeError(output.data as Float32Array, c.expected), c.name).toBeLessThan(TOLERANCE);
    await session.release();
  }
});

describeWith([onnx], 'ONNX checker', () => {
  it('accepts every preset’s model (full_check)', () => {
    const files = cases.map((c) => {
      const file = join(dir, `${c.name}.onnx`);
      writeFileSync(file, buildOnnxModel(c.input));
      return file;
    });
    const report = execFileSync(
      PYTHON,
      [
        '-c',
        'import sys, onnx\nfor f in sys.argv[1:]:\n    m = onnx.load(f)\n    onnx.checker.check_model(m, full_check=True)\n    print(f, m.opset_import[0].version)',
        ...files,
      ],
      { encoding: 'utf8' },
    );
    expect(report.trim().split('\n')).toHaveLength(cases.length);
  });
});

describeWith([pytorch], 'PyTorch export', () => {
  it('loads in real PyTorch with the studio’s state_dict keys and outputs', () => {
    const folders = cases.map((c) => {
      const folder = join(dir, 'pytorch', c.name);
      writeBundle(exportPytorch(c.input), folder);
      writeFileSync(
        join(folder, 'check.safetensors'),
        encodeSafetensors(
          new Map([
            ['x', { shape: c.xShape, data: c.x }],
            ['expected', { shape: c.expectedShape, data: c.expected }],
          ]),
        ),
      );
      return folder;
    });
    const lines = execFileSync(
      PYTHON,
      [join(import.meta.dirname, 'check_pytorch_export.py'), ...folders],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { dir: string; relative_error: number; state_dict_matches: boolean },
      );
    expect(lines).toHaveLength(cases.length);
    for (const line of lines) {
      expect(line.state_dict_matches, line.dir).toBe(true);
      expect(line.relative_error, line.dir).toBeLessThan(TOLERANCE);
    }
  });
});

it('TF.js Layers export loads with tf.loadLayersModel (NHWC) and gives the studio’s outputs', async () => {
  const tf = await cpuTf();
  for (const c of cases) {
    const folder = join(dir, 'tfjs', c.name);
    writeBundle(exportTfjs(c.input), folder);
    createRequire(join(folder, 'x.js'))('./convnet-studio-layers.js').registerConvnetStudioLayers(
      tf,
      tfl,
    );
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    const bin = readFileSync(join(folder, 'weights.bin'));
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
    const actual = tf.tidy(() => {
      const x = tf.transpose(tf.tensor(c.x, c.xShape), [0, 2, 3, 1]);
      const y = model.predict(x) as import('@tensorflow/tfjs-core').Tensor;
      return (y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y).dataSync();
    });
    model.dispose();
    expect(relativeError(actual, c.expected), c.name).toBeLessThan(TOLERANCE);
  }
}, 600_000);
