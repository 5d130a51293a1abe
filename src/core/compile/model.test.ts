import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuTf } from '../../../test/support/tfjs-cpu';
import { inferGraph, inferValidGraph } from '../infer';
import { ProjectError } from '../issues';
import type { TF } from '../layers/types';
import { compileModel } from './model';

let tf: TF;
beforeAll(async () => {
  tf = await cpuTf();
});

type Layer = { id: string; type: string; params?: Record<string, unknown> };
const graphOf = (channels: number, size: number, layers: Layer[]) => {
  const nodes = [
    { id: 'input', type: 'Input', params: { channels, height: size, width: size } },
    ...layers,
  ];
  return {
    nodes,
    edges: nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id })),
  };
};

const lenet = graphOf(1, 28, [
  { id: 'conv1', type: 'Conv2d', params: { out_channels: 6, kernel_size: 5, padding: 2 } },
  { id: 'bn1', type: 'BatchNorm2d' },
  { id: 'act1', type: 'Sigmoid' },
  { id: 'pool1', type: 'AvgPool2d', params: { kernel_size: 2, stride: 2 } },
  { id: 'flat', type: 'Flatten' },
  { id: 'fc1', type: 'Linear', params: { out_features: 120 } },
  { id: 'drop', type: 'Dropout', params: { p: 0.5 } },
  { id: 'fc2', type: 'Linear', params: { out_features: 10 } },
]);

const values = (t: tfc.Tensor) => Array.from(t.dataSync());

describe('compileModel', () => {
  it('names weights by state-dict key in PyTorch layout', () => {
    const model = compileModel(tf, inferValidGraph(lenet));
    const shapes = Object.fromEntries([...model.weights].map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'conv1.weight': [6, 1, 5, 5],
      'conv1.bias': [6],
      'bn1.weight': [6],
      'bn1.bias': [6],
      'bn1.running_mean': [6],
      'bn1.running_var': [6],
      'fc1.weight': [120, 6 * 14 * 14],
      'fc1.bias': [120],
      'fc2.weight': [10, 120],
      'fc2.bias': [10],
    });
    expect(model.trainable).toHaveLength(8);
    expect(model.trainable).not.toContain(model.weights.get('bn1.running_mean'));
    model.dispose();
  });

  it('initialises the same way for the same seed and differently for another', () => {
    const inference = inferValidGraph(lenet);
    const a = compileModel(tf, inference, { seed: 3 });
    const b = compileModel(tf, inference, { seed: 3 });
    const c = compileModel(tf, inference, { seed: 4 });
    const w = (m: typeof a) => values(m.weights.get('conv1.weight')!);
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    for (const m of [a, b, c]) m.dispose();
  });

  it('uses PyTorch’s uniform ±1/√fanIn by default and Xavier ±√(6/(fanIn+fanOut)) on request', () => {
    const inference = inferValidGraph(lenet);
    const torchInit = compileModel(tf, inference, { init: 'pytorch' });
    const xavier = compileModel(tf, inference, { init: 'xavier' });
    const maxAbs = (m: typeof xavier, key: string) =>
      values(m.weights.get(key)!).reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const fanIn = 6 * 14 * 14;
    // The largest of 141,120 uniform draws lies within 0.1% of the bound.
    expect(maxAbs(torchInit, 'fc1.weight')).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    expect(maxAbs(torchInit, 'fc1.weight')).toBeGreaterThan(0.999 / Math.sqrt(fanIn));
    const xavierBound = Math.sqrt(6 / (fanIn + 120));
    expect(maxAbs(xavier, 'fc1.weight')).toBeLessThanOrEqual(xavierBound);
    expect(maxAbs(xavier, 'fc1.weight')).toBeGreaterThan(0.999 * xavierBound);
    // init_cnn leaves biases at PyTorch's default.
    expect(maxAbs(xavier, 'fc1.bias')).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    // BatchNorm starts as the identity: scale 1, shift 0, running mean 0, variance 1.
    expect(values(xavier.weights.get('bn1.weight')!)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(values(xavier.weights.get('bn1.bias')!)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(values(xavier.weights.get('bn1.running_var')!)).toEqual([1, 1, 1, 1, 1, 1]);
    torchInit.dispose();
    xavier.dispose();
  });

  it('round-trips weights through getWeights/setWeights and the weights option', () => {
    const inference = inferValidGraph(lenet, { batch: 2 });
    const a = compileModel(tf, inference, { seed: 1 });
    const b = compileModel(tf, inference, { seed: 2, weights: a.getWeights() });
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 5) as tfc.Tensor4D;
    expect(values(b.forward(x, false))).toEqual(values(a.forward(x, false)));
    a.dispose();
    b.dispose();
  });

  it('keeps weights as the ops take them when compiled for training, and shows PyTorch’s layout outside', async () => {
    const graph = graphOf(4, 10, [
      { id: 'conv', type: 'Conv2d', params: { out_channels: 6, kernel_size: [3, 2], padding: 1 } },
      { id: 'dw', type: 'Conv2d', params: { out_channels: 12, kernel_size: 3, groups: 6 } },
      { id: 'flat', type: 'Flatten' },
      { id: 'fc', type: 'Linear', params: { out_features: 5 } },
    ]);
    const inference = inferValidGraph(graph, { batch: 2 });
    const plain = compileModel(tf, inference, { seed: 4 });
    const kept = compileModel(tf, inference, { seed: 4, layout: 'kernel' });
    // tfjs's filter layouts: [kh, kw, in, out] and, depthwise, [kh, kw, in, multiplier].
    expect(kept.weights.get('conv.weight')!.shape).toEqual([3, 2, 4, 6]);
    expect(kept.weights.get('dw.weight')!.shape).toEqual([3, 3, 6, 2]);
    expect(kept.weights.get('fc.weight')!.shape).toEqual(plain.weights.get('fc.weight')!.shape);
    // The same seed draws the same weights; both read and compute the same.
    expect(kept.getWeights()).toEqual(plain.getWeights());
    expect(await kept.readWeights()).toEqual(plain.getWeights());
    const x = tf.randomUniform([2, 10, 10, 4], -1, 1, 'float32', 6) as tfc.Tensor4D;
    expect(values(kept.forward(x, true))).toEqual(values(plain.forward(x, true)));
    const other = compileModel(tf, inference, { seed: 5 });
    kept.setWeights(other.getWeights());
    expect(values(kept.forward(x, false))).toEqual(values(other.forward(x, false)));
    // Anything shaped like a kept weight (an optimizer's slot) converts both ways.
    const slot = { shape: [3, 2, 4, 6], data: Float32Array.from({ length: 144 }, (_, i) => i) };
    const torchSlot = kept.toPyTorch('conv.weight', slot);
    expect(torchSlot.shape).toEqual([6, 4, 3, 2]);
    // PyTorch's [o, i, y, x] is tfjs's [y, x, i, o]: element (o=1, i=2, y=0, x=1).
    expect(torchSlot.data[1 * 24 + 2 * 6 + 0 * 2 + 1]).toBe(slot.data[0 * 48 + 1 * 24 + 2 * 6 + 1]);
    expect(kept.fromPyTorch('conv.weight', torchSlot)).toEqual(slot);
    for (const m of [plain, kept, other]) m.dispose();
  });

  it('reads the same weights asynchronously (for WebGPU, which cannot read synchronously in Node)', async () => {
    const model = compileModel(tf, inferValidGraph(lenet), { seed: 5 });
    expect(await model.readWeights()).toEqual(model.getWeights());
    model.dispose();
  });

  it('refuses weights that do not fit, naming every problem', () => {
    const model = compileModel(tf, inferValidGraph(lenet));
    const weights = model.getWeights();
    weights.delete('fc2.bias');
    weights.set('conv1.weight', { shape: [6, 1, 3, 3], data: new Float32Array(54) });
    weights.set('conv9.weight', { shape: [1], data: new Float32Array(1) });
    weights.set('bn1.num_batches_tracked', { shape: [], data: new Float32Array(1) });
    expect(() => model.setWeights(weights)).toThrow(
      "the weights do not fit this model: 'conv1.weight' is 6×1×3×3 but the model needs 6×1×5×5; missing 'fc2.bias' (10); unexpected 'conv9.weight' (no such weight in this model)",
    );
    model.dispose();
  });

  it('runs any batch size and refuses images of the wrong size', () => {
    const model = compileModel(tf, inferValidGraph(lenet, { batch: 1 }));
    expect(model.forward(tf.zeros([3, 28, 28, 1]) as tfc.Tensor4D, false).shape).toEqual([3, 10]);
    expect(() => model.forward(tf.zeros([3, 1, 28, 28]) as tfc.Tensor4D, false)).toThrow(
      'the model takes N×28×28×1 images (NHWC) but got 3×1×28×28; resize the images or change the Input node',
    );
    model.dispose();
  });

  it('refuses to train BatchNorm on one value per channel, as PyTorch', () => {
    const graph = graphOf(2, 1, [{ id: 'bn', type: 'BatchNorm2d' }]);
    const model = compileModel(tf, inferValidGraph(graph));
    const x = tf.ones([1, 1, 1, 2]) as tfc.Tensor4D;
    expect(() => model.forward(x, true)).toThrow(
      'BatchNorm2d needs more than one value per channel to train, but a batch of 1 gives 1×1 maps; use a batch of 2 or more',
    );
    expect(model.forward(x, false).shape).toEqual([1, 1, 1, 2]);
    model.dispose();
  });

  it('refuses to compile a graph with problems', () => {
    const broken = graphOf(1, 4, [{ id: 'fc', type: 'Linear' }]);
    expect(() => compileModel(tf, inferGraph(broken))).toThrow(ProjectError);
    expect(() => compileModel(tf, inferGraph(broken))).toThrow(/node 'fc'.*Flatten/);
  });

  it('gives every primitive’s output from forwardAll, NHWC for feature maps', () => {
    const model = compileModel(tf, inferValidGraph(lenet, { batch: 2 }));
    const x = tf.randomUniform([2, 28, 28, 1]) as tfc.Tensor4D;
    const outputs = model.forwardAll(x, false);
    expect([...outputs.keys()]).toEqual([
      'input',
      'conv1',
      'bn1',
      'act1',
      'pool1',
      'flat',
      'fc1',
      'drop',
      'fc2',
    ]);
    expect(outputs.get('pool1')!.shape).toEqual([2, 14, 14, 6]);
    expect(outputs.get('fc2')!.shape).toEqual([2, 10]);
    for (const t of outputs.values()) t.dispose();
    expect(x.isDisposed).toBe(false);
    model.dispose();
  });

  it('leaks no tensors per forward pass, in training (running stats) or not', () => {
    const model = compileModel(tf, inferValidGraph(lenet, { batch: 2 }));
    const x = tf.randomUniform([2, 28, 28, 1]) as tfc.Tensor4D;
    model.forward(x, true).dispose(); // the first pass may create lasting constants
    const before = tf.memory().numTensors;
    model.forward(x, true).dispose();
    model.forward(x, false).dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('applies dropout only in training: zeroes about p, scales the rest by 1/(1−p), repeatably per seed', () => {
    const graph = graphOf(1, 32, [{ id: 'drop', type: 'Dropout', params: { p: 0.25 } }]);
    const inference = inferValidGraph(graph, { batch: 4 });
    const x = tf.ones([4, 32, 32, 1]) as tfc.Tensor4D;
    const a = compileModel(tf, inference, { seed: 9 });
    expect(values(a.forward(x, false)).every((v) => v === 1)).toBe(true);
    const trained = values(a.forward(x, true));
    const zeros = trained.filter((v) => v === 0).length / trained.length;
    expect(zeros).toBeGreaterThan(0.2);
    expect(zeros).toBeLessThan(0.3);
    expect(trained.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    const b = compileModel(tf, inference, { seed: 9 });
    expect(values(b.forward(x, true))).toEqual(trained);
    // Successive batches draw new masks.
    expect(values(a.forward(x, true))).not.toEqual(trained);
  });

  it('computes no gradient for the input images in training (the first convolution has a bias)', async () => {
    const model = compileModel(tf, inferValidGraph(lenet));
    const x = tf.randomUniform([2, 28, 28, 1]) as tfc.Tensor4D;
    const { kernelNames } = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(model.forward(x, true)) as tfc.Scalar,
        model.trainable,
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(kernelNames).toContain('Conv2DBackpropFilter');
    expect(kernelNames).not.toContain('Conv2DBackpropInput');
    x.dispose();
    model.dispose();
  });
});
