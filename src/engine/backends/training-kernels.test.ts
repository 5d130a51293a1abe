/**
 * The wasm backend trains: every gradient a CNN needs, computed on wasm
 * (with the kernels this project supplies), matches the cpu backend and
 * real PyTorch. The cpu backend's replaced filter gradient matches PyTorch too.
 */
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeWith, PYTHON, pytorch } from '../../../test/support/requirements';
import { batchNormTraining } from '../../core/layers/norm';
import { initBackend } from './index';

type Shape = number[];

/** Deterministic values in [-1, 1). */
function values(shape: Shape, seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Gradients of sum(f(inputs) * weights) on one backend, as plain arrays. */
async function gradientsOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: { shape: Shape; data: Float32Array }[],
): Promise<{ output: Float32Array; grads: Float32Array[] }> {
  await tf.setBackend(backend);
  expect(tf.getBackend()).toBe(backend);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    const y = f(...xs);
    const weights = tf.tensor(values(y.shape, 99), y.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), weights)))(xs);
    return {
      output: y.dataSync() as Float32Array,
      grads: grads.map((g) => g.dataSync() as Float32Array),
    };
  });
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < actual.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

async function expectWasmMatchesCpu(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  shapes: Shape[],
  tolerance = 1e-5,
): Promise<void> {
  const inputs = shapes.map((shape, i) => ({ shape, data: values(shape, 7 + i) }));
  const cpu = await gradientsOn('cpu', f, inputs);
  const wasm = await gradientsOn('wasm', f, inputs);
  expect(relativeError(wasm.output, cpu.output)).toBeLessThan(tolerance);
  cpu.grads.forEach((g, i) => {
    expect(relativeError(wasm.grads[i], g), `gradient of input ${i}`).toBeLessThan(tolerance);
  });
}

type Pad = [[0, 0], [number, number], [number, number], [0, 0]];
const explicit = (t: number, b: number, l: number, r: number): Pad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

interface ConvCase {
  name: string;
  x: Shape; // NHWC
  filter: Shape; // [kh, kw, in, out]
  stride: [number, number];
  pad: 'valid' | 'same' | Pad;
  dilation: [number, number];
}

const convCases: ConvCase[] = [
  {
    name: 'LeNet conv1',
    x: [4, 28, 28, 1],
    filter: [5, 5, 1, 6],
    stride: [1, 1],
    pad: explicit(2, 2, 2, 2),
    dilation: [1, 1],
  },
  {
    name: 'LeNet conv2 (valid 5×5: the input gradient adds windows)',
    x: [2, 14, 14, 6],
    filter: [5, 5, 6, 16],
    stride: [1, 1],
    pad: 'valid',
    dilation: [1, 1],
  },
  {
    name: 'stride 2, 3×3, padding 1',
    x: [2, 9, 9, 3],
    filter: [3, 3, 3, 4],
    stride: [2, 2],
    pad: explicit(1, 1, 1, 1),
    dilation: [1, 1],
  },
  {
    name: 'stride 2, even size (unused last row)',
    x: [2, 8, 8, 3],
    filter: [3, 3, 3, 4],
    stride: [2, 2],
    pad: 'valid',
    dilation: [1, 1],
  },
  {
    name: 'stride (2, 3), kernel 3×2, uneven padding',
    x: [2, 10, 11, 3],
    filter: [3, 2, 3, 5],
    stride: [2, 3],
    pad: explicit(1, 2, 0, 1),
    dilation: [1, 1],
  },
  {
    name: 'ResNet stem 7×7 stride 2 padding 3',
    x: [1, 20, 20, 3],
    filter: [7, 7, 3, 8],
    stride: [2, 2],
    pad: explicit(3, 3, 3, 3),
    dilation: [1, 1],
  },
  {
    name: 'dilation 2, padding 2',
    x: [2, 9, 9, 2],
    filter: [3, 3, 2, 3],
    stride: [1, 1],
    pad: explicit(2, 2, 2, 2),
    dilation: [2, 2],
  },
  {
    name: 'dilation (2, 3)',
    x: [1, 12, 12, 2],
    filter: [3, 2, 2, 3],
    stride: [1, 1],
    pad: 'valid',
    dilation: [2, 3],
  },
  {
    name: 'stride 2, 3×3, uneven padding, 8 channels in',
    x: [2, 10, 9, 8],
    filter: [3, 3, 8, 4],
    stride: [2, 2],
    pad: explicit(1, 0, 2, 1),
    dilation: [1, 1],
  },
  {
    name: '1×1 stride 2 (ResNet shortcut)',
    x: [2, 8, 8, 4],
    filter: [1, 1, 4, 6],
    stride: [2, 2],
    pad: 'valid',
    dilation: [1, 1],
  },
  {
    name: '3×3 map, 256 channels in',
    x: [2, 3, 3, 256],
    filter: [3, 3, 256, 4],
    stride: [1, 1],
    pad: explicit(1, 1, 1, 1),
    dilation: [1, 1],
  },
  {
    name: '3×3 map, 256 channels out',
    x: [2, 3, 3, 4],
    filter: [3, 3, 4, 256],
    stride: [1, 1],
    pad: explicit(1, 1, 1, 1),
    dilation: [1, 1],
  },
  {
    name: '1×1 with padding 1 (border outputs read only padding)',
    x: [2, 5, 5, 3],
    filter: [1, 1, 3, 4],
    stride: [1, 1],
    pad: explicit(1, 1, 1, 1),
    dilation: [1, 1],
  },
  {
    name: 'dilation (2, 1), uneven padding',
    x: [2, 9, 8, 3],
    filter: [3, 3, 3, 4],
    stride: [1, 1],
    pad: explicit(2, 1, 1, 0),
    dilation: [2, 1],
  },
  {
    name: "'same' stride 2",
    x: [1, 12, 12, 2],
    filter: [3, 3, 2, 5],
    stride: [2, 2],
    pad: 'same',
    dilation: [1, 1],
  },
];

const conv = (c: ConvCase) => (x: tf.Tensor, w: tf.Tensor) =>
  tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);

const depthwise = (c: ConvCase) => (x: tf.Tensor, w: tf.Tensor) =>
  tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);

/** Depthwise filter [kh, kw, c, multiplier] for a case's input. */
const depthwiseFilter = (c: ConvCase): Shape => [c.filter[0], c.filter[1], c.x[3], 2];

beforeAll(async () => {
  const { backend } = await initBackend('wasm');
  expect(backend).toBe('wasm');
});

describe('wasm convolution gradients match the cpu backend', () => {
  for (const c of convCases) {
    it(`conv2d: ${c.name}`, async () => {
      await expectWasmMatchesCpu(conv(c), [c.x, c.filter]);
    });
    // tfjs refuses 'same' with a non-unit stride for depthwise gradients on every backend.
    if (!(c.pad === 'same' && c.stride[0] > 1)) {
      it(`depthwise: ${c.name}`, async () => {
        await expectWasmMatchesCpu(depthwise(c), [c.x, depthwiseFilter(c)]);
      });
    }
  }
});

describe('with 2 threads, the convolution kernels split their work and still match', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm', { threads: 2 })).threads).toBe(2);
  });
  for (const c of convCases) {
    it(`conv2d: ${c.name}`, async () => {
      await expectWasmMatchesCpu(conv(c), [c.x, c.filter]);
    });
  }
});

describe('every other gradient a CNN needs runs on wasm and matches cpu', () => {
  const x: Shape = [2, 9, 9, 3];
  const cases: [string, (...xs: tf.Tensor[]) => tf.Tensor, Shape[]][] = [
    ['maxPool 3×3 stride 2', (a) => tf.maxPool(a as tf.Tensor4D, 3, 2, 'valid'), [x]],
    [
      'maxPool 2×2 stride 2 after ReLU (ties go to the first maximum)',
      (a) => tf.maxPool(tf.relu(a) as tf.Tensor4D, 2, 2, 'valid'),
      [[2, 8, 8, 3]],
    ],
    [
      'maxPool over -Infinity padding',
      (a) =>
        tf.maxPool(
          tf.pad(a, explicit(1, 1, 1, 1), Number.NEGATIVE_INFINITY) as tf.Tensor4D,
          3,
          2,
          'valid',
        ),
      [x],
    ],
    [
      "maxPool (3, 2) stride (1, 2), 'same' padding",
      (a) => tf.maxPool(a as tf.Tensor4D, [3, 2], [1, 2], 'same'),
      [x],
    ],
    [
      'maxPool 3×3 stride 2 padding 1, all windows of a channel negative',
      (a) => tf.maxPool(tf.sub(a, 2) as tf.Tensor4D, 3, 2, 1),
      [x],
    ],
    [
      'avgPool 2×2 stride 2 (LeNet)',
      (a) => tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid'),
      [[2, 8, 8, 3]],
    ],
    [
      'avgPool 3×3 stride 1 over zero padding (counted, as PyTorch)',
      (a) => tf.avgPool(tf.pad(a, explicit(1, 1, 1, 1)) as tf.Tensor4D, 3, 1, 'valid'),
      [x],
    ],
    [
      'avgPool same padding (tfjs divides by the in-bounds count)',
      (a) => tf.avgPool(a as tf.Tensor4D, 3, 2, 'same'),
      [x],
    ],
    [
      'batch-norm arithmetic',
      (a, g, b) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
      },
      [x, [3], [3]],
    ],
    [
      "the studio's training batch norm (closed-form gradient)",
      (a, g, b) =>
        batchNormTraining(tf, a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y,
      [x, [3], [3]],
    ],
    [
      'fused batchNorm op',
      (a, m, v, g, b) => tf.batchNorm(a, m, tf.abs(v), b, g, 1e-5),
      [x, [3], [3], [3], [3]],
    ],
    [
      'relu, sigmoid, tanh, leakyRelu, erf',
      (a) => tf.addN([tf.relu(a), tf.sigmoid(a), tf.tanh(a), tf.leakyRelu(a, 0.1), tf.erf(a)]),
      [x],
    ],
    [
      'softmax cross-entropy',
      (logits) =>
        tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 4, 0, 9], 'int32'), 10), logits),
      [[4, 10]],
    ],
    [
      'slice, split and concat (grouped convolution plumbing)',
      (a) => {
        const [p, q, r] = tf.split(a, 3, 3);
        return tf.concat(
          [r, tf.pad(tf.slice(p, [0, 1, 1, 0], [2, 7, 7, 1]), explicit(1, 1, 1, 1)), q],
          3,
        );
      },
      [x],
    ],
    [
      'reverse: leading axes (a flipped filter), a middle axis, the last axes',
      (a) =>
        tf.addN([tf.reverse(a, [0, 1]), tf.reverse(a, 1), tf.reverse(tf.reverse(a, 3), [1, 2])]),
      [x],
    ],
    [
      'slice: an inner window, whole trailing axes, one batch row',
      (a) =>
        tf.concat([
          tf.reshape(tf.slice(a, [1, 2, 3, 1], [1, 4, 5, 2]), [-1]),
          tf.reshape(tf.slice(a, [0, 3, 0, 0], [2, 2, -1, -1]), [-1]),
          tf.reshape(tf.slice(a, [1, 0, 0, 0], [1, -1, -1, -1]), [-1]),
        ]),
      [x],
    ],
    ['transpose and reshape', (a) => tf.reshape(tf.transpose(a, [0, 3, 1, 2]), [2, -1]), [x]],
    [
      'resizeBilinear (the input pipeline resize)',
      (a) => tf.image.resizeBilinear(a as tf.Tensor4D, [14, 13]),
      [x],
    ],
    [
      'dense layer: matMul with bias',
      (a, w, b) => tf.add(tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D), b),
      [[8, 20], [20, 6], [6]],
    ],
    [
      'dense layer as PyTorch stores it (x · Wᵀ): sizes not multiples of 4 or 8',
      (a, w) => tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D, false, true),
      [
        [9, 13],
        [11, 13],
      ],
    ],
    [
      'matMul of a transposed left operand (a weight gradient), 10 columns',
      (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, false),
      [
        [7, 10],
        [7, 5],
      ],
    ],
    [
      'batched matMul with transposes',
      (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, true),
      [
        [2, 5, 4],
        [2, 3, 5],
      ],
    ],
    [
      'sum and mean over leading axes (batch-norm statistics, bias gradients), keepDims',
      (a, b) =>
        tf.add(
          tf.add(tf.sum(a, [0, 1, 2]), tf.mean(a, [0, 1], true)),
          tf.add(tf.sum(tf.mul(a, 3), [0], true), tf.mean(b, 0)),
        ),
      [x, [7, 3]],
    ],
    [
      'sum and mean over leading axes of 10 channels in several blocks of rows (four columns at a time, then the rest)',
      (a) => tf.add(tf.sum(a, [0, 1, 2]), tf.mean(tf.square(a), [0, 1, 2])),
      [[4, 40, 40, 10]],
    ],
    [
      'maxPool 3×3 stride 2 padding 1 after ReLU over 10 channels (four at a time, then the rest)',
      (a) => tf.maxPool(tf.relu(a) as tf.Tensor4D, 3, 2, 1),
      [[2, 9, 9, 10]],
    ],
    [
      'a vector over the last axis added, subtracted either way round and multiplied (6 channels, rows not a multiple of 2)',
      (a, v, w) => tf.add(tf.mul(tf.sub(a, v), w), tf.sub(w, tf.add(v, a))),
      [[3, 5, 7, 6], [6], [1, 1, 1, 6]],
    ],
    [
      'avgPool 3×3 stride 2 over 10 channels (overlapping windows)',
      (a) => tf.avgPool(a as tf.Tensor4D, 3, 2, 'valid'),
      [[2, 9, 9, 10]],
    ],
    [
      'global average pool and dropout-style mask',
      (a) => tf.mul(tf.mean(a, [1, 2]), tf.tensor([1, 0, 2])),
      [x],
    ],
  ];
  for (const [name, f, shapes] of cases) {
    it(name, async () => {
      await expectWasmMatchesCpu(f, shapes);
    });
  }

  it('stridedSlice has no gradient in tfjs (on any backend): crop with slice instead', async () => {
    await tf.setBackend('wasm');
    const a = tf.ones([4, 4]);
    expect(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.stridedSlice(t, [0, 0], [4, 4], [2, 2])))(a),
    ).toThrow(/gradient function not found for StridedSlice/);
  });
});

describe('wasm kernels keep memory flat', () => {
  it('a clone shares the memory of its input (tfjs clones every tensor it saves for the backward pass)', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { getMemoryOffset(dataId: object): number };
    const a = tf.tensor(values([4, 5], 1), [4, 5]);
    const b = tf.clone(a);
    expect(backend.getMemoryOffset(b.dataId)).toBe(backend.getMemoryOffset(a.dataId));
    const expected = a.dataSync().slice();
    a.dispose();
    expect(b.dataSync()).toEqual(expected);
    b.dispose();
  });

  it('a training step leaves no tensors behind', async () => {
    await tf.setBackend('wasm');
    const w = tf.variable(tf.tensor(values([3, 3, 3, 4], 3), [3, 3, 3, 4]));
    const x = tf.tensor(values([2, 9, 9, 3], 4), [2, 9, 9, 3]) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const c = tf.conv2d(x, w as tf.Tensor4D, 2, explicit(1, 1, 1, 1));
          const { y, mean, variance } = batchNormTraining(tf, c, tf.ones([4]), tf.zeros([4]), 1e-5);
          tf.dispose([mean, variance]);
          return tf.sum(tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid'));
        });
        w.assign(tf.sub(w, tf.mul(grads[w.name], 0.01)));
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** Runs every case through PyTorch in one process: [{x, xShape, w, wShape, r, pad, stride, dilation, groups}] -> [{dx, dw}]. */
const TORCH_CONV = `
import json, sys, torch
out = []
for c in json.load(sys.stdin):
    x = torch.tensor(c['x']).reshape(c['xShape']).permute(0, 3, 1, 2).contiguous().requires_grad_()
    w = torch.tensor(c['w']).reshape(c['wShape']).permute(3, 2, 0, 1).contiguous().requires_grad_()
    (pt, pb, pl, pr) = c['pad']
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (pl, pr, pt, pb)), w,
        stride=c['stride'], dilation=c['dilation'], groups=c['groups'])
    weights = torch.tensor(c['r']).reshape(y.permute(0, 2, 3, 1).shape).permute(0, 3, 1, 2)
    (y * weights).sum().backward()
    out.append({'dx': x.grad.permute(0, 2, 3, 1).flatten().tolist(),
                'dw': w.grad.permute(2, 3, 1, 0).flatten().tolist()})
json.dump(out, sys.stdout)
`;

describeWith([pytorch], 'wasm and cpu convolution gradients match PyTorch', () => {
  const explicitCases = convCases.filter((c) => c.pad !== 'same');
  const cases: (ConvCase & { groups: number })[] = [
    ...explicitCases.map((c) => ({ ...c, groups: 1 })),
    // Depthwise: PyTorch's groups = channels, with 2 output channels per group.
    ...explicitCases
      .slice(0, 4)
      .map((c) => ({ ...c, name: `${c.name}, depthwise`, groups: c.x[3] })),
  ];
  const BACKENDS = ['wasm', 'cpu'];
  const ours: Record<string, { dx: Float32Array; dw: Float32Array }[]> = { wasm: [], cpu: [] };
  let torch: { dx: number[]; dw: number[] }[] = [];

  beforeAll(async () => {
    await initBackend('cpu');
    await initBackend('wasm');
    const requests = cases.map((c) => {
      const wShape = c.groups === 1 ? c.filter : depthwiseFilter(c);
      const x = values(c.x, 11);
      const w = values(wShape, 12);
      const f = c.groups === 1 ? conv(c) : depthwise(c);
      let r: Float32Array<ArrayBufferLike> = new Float32Array(0);
      for (const backend of BACKENDS) {
        tf.setBackend(backend);
        r = tf.tidy(() => {
          const xt = tf.tensor(x, c.x);
          const wt = tf.tensor(w, wShape);
          const y = f(xt, wt);
          const r = values(y.shape, 13);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(f(a, b), tf.tensor(r, y.shape))),
          )([xt, wt]);
          ours[backend].push({
            dx: dx.dataSync() as Float32Array,
            dw: dw.dataSync() as Float32Array,
          });
          return r;
        });
      }
      const pad =
        c.pad === 'valid' ? [0, 0, 0, 0] : [c.pad[1][0], c.pad[1][1], c.pad[2][0], c.pad[2][1]];
      return {
        x: Array.from(x),
        xShape: c.x,
        w: Array.from(w),
        // PyTorch's depthwise weight [c * m, 1, kh, kw] is tfjs's [kh, kw, c, m] reshaped.
        wShape: c.groups === 1 ? wShape : [wShape[0], wShape[1], 1, wShape[2] * wShape[3]],
        r: Array.from(r),
        pad,
        stride: c.stride,
        dilation: c.dilation,
        groups: c.groups,
      };
    });
    const out = execFileSync(PYTHON, ['-c', TORCH_CONV], {
      input: JSON.stringify(requests),
      maxBuffer: 256 * 1024 * 1024,
    });
    torch = JSON.parse(out.toString());
  });

  cases.forEach((c, i) => {
    it(c.name, () => {
      for (const backend of BACKENDS) {
        const { dx, dw } = ours[backend][i];
        expect(relativeError(dx, Float32Array.from(torch[i].dx)), backend).toBeLessThan(1e-5);
        expect(relativeError(dw, Float32Array.from(torch[i].dw)), backend).toBeLessThan(1e-5);
      }
    });
  });
});

/**
 * Pooling and normalisation gradients against PyTorch: [{op, inputs, shapes, r}]
 * -> [{y, grads}], NHWC in and out. 'maxpool3s2p1' is ResNet's stem pool
 * (MaxPool2d(3, 2, 1)); 'maxpool2s2' follows a ReLU, so windows tie at 0;
 * 'batchnorm' is BatchNorm2d (x NHWC) or BatchNorm1d (x N×F) in training mode
 * (eps 1e-5), inputs x, weight, bias.
 */
const TORCH_POOL_NORM = `
import json, sys, torch
F = torch.nn.functional
out = []
for c in json.load(sys.stdin):
    ts = [torch.tensor(v).reshape(s) for v, s in zip(c['inputs'], c['shapes'])]
    nhwc = ts[0].dim() == 4
    if nhwc:
        ts[0] = ts[0].permute(0, 3, 1, 2).contiguous()
    for t in ts:
        t.requires_grad_()
    x = ts[0]
    if c['op'] == 'maxpool3s2p1':
        y = F.max_pool2d(x, 3, 2, 1)
    elif c['op'] == 'maxpool2s2':
        y = F.max_pool2d(torch.relu(x), 2, 2)
    else:
        y = F.batch_norm(x, None, None, ts[1], ts[2], training=True, eps=1e-5)
    # NHWC <-> NCHW for 4-D tensors; N×F as is.
    tf_layout = (lambda t: t.permute(0, 2, 3, 1)) if nhwc else (lambda t: t)
    r = torch.tensor(c['r']).reshape(tf_layout(y).shape)
    if nhwc:
        r = r.permute(0, 3, 1, 2)
    (y * r).sum().backward()
    grads = [t.grad.permute(0, 2, 3, 1) if t.dim() == 4 else t.grad for t in ts]
    out.append({'y': tf_layout(y).flatten().tolist(),
                'grads': [g.flatten().tolist() for g in grads]})
json.dump(out, sys.stdout)
`;

describeWith([pytorch], 'wasm pooling and batch-norm gradients match PyTorch', () => {
  const cases: { op: string; shapes: Shape[]; f: (...xs: tf.Tensor[]) => tf.Tensor }[] = [
    {
      op: 'maxpool3s2p1',
      shapes: [[2, 12, 11, 5]],
      f: (x) =>
        tf.maxPool(
          tf.pad(x, explicit(1, 1, 1, 1), Number.NEGATIVE_INFINITY) as tf.Tensor4D,
          3,
          2,
          'valid',
        ),
    },
    {
      op: 'maxpool2s2',
      shapes: [[2, 8, 8, 3]],
      f: (x) => tf.maxPool(tf.relu(x) as tf.Tensor4D, 2, 2, 'valid'),
    },
    {
      op: 'batchnorm',
      shapes: [[3, 5, 6, 4], [4], [4]],
      f: (x, g, b) =>
        batchNormTraining(tf, x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y,
    },
    {
      op: 'batchnorm',
      shapes: [[6, 5], [5], [5]],
      f: (x, g, b) => batchNormTraining(tf, x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y,
    },
  ];
  const ours: { y: Float32Array; grads: Float32Array[] }[] = [];
  let torch: { y: number[]; grads: number[][] }[] = [];

  beforeAll(async () => {
    await tf.setBackend('wasm');
    const requests = cases.map((c) => {
      // Off-centre values, so that the batch mean matters.
      const inputs = c.shapes.map((shape, i) => values(shape, 21 + i).map((v) => 2 * v + 0.5));
      return tf.tidy(() => {
        const xs = inputs.map((v, i) => tf.tensor(v, c.shapes[i]));
        const y = c.f(...xs);
        const r = values(y.shape, 29);
        const grads = tf.grads((...a: tf.Tensor[]) =>
          tf.sum(tf.mul(c.f(...a), tf.tensor(r, y.shape))),
        )(xs);
        ours.push({
          y: y.dataSync() as Float32Array,
          grads: grads.map((g) => g.dataSync() as Float32Array),
        });
        return {
          op: c.op,
          inputs: inputs.map((v) => Array.from(v)),
          shapes: c.shapes,
          r: Array.from(r),
        };
      });
    });
    const out = execFileSync(PYTHON, ['-c', TORCH_POOL_NORM], {
      input: JSON.stringify(requests),
      maxBuffer: 64 * 1024 * 1024,
    });
    torch = JSON.parse(out.toString());
  });

  cases.forEach((c, i) => {
    it(`${c.op} ${c.shapes[0].join('×')}`, () => {
      expect(relativeError(ours[i].y, Float32Array.from(torch[i].y))).toBeLessThan(1e-5);
      ours[i].grads.forEach((g, j) => {
        expect(
          relativeError(g, Float32Array.from(torch[i].grads[j])),
          `gradient of input ${j}`,
        ).toBeLessThan(1e-5);
      });
    });
  });
});
