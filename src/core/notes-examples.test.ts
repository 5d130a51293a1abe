/**
 * The study notes' numeric examples (sections 7.2–7.5), reproduced through the
 * studio's own core: graph → shape inference → compiled tfjs model, with the
 * notes' kernels loaded as weights. Values are the ones the notes print; the
 * single-channel cross-correlation and the three-output-channel result are
 * not printed in the notes and come from the same d2l sections they follow.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuTf } from '../../test/support/tfjs-cpu';
import { compileModel } from './compile/model';
import { inferValidGraph } from './infer';
import type { TF } from './layers/types';
import type { TensorMap } from './weights/safetensors';

let tf: TF;
beforeAll(async () => {
  tf = await cpuTf();
});

type Nested = number | Nested[];
type Layer = { type: string; params?: Record<string, unknown> };

/** A graph Input → layer (id 'layer') for a C×H×W input. */
function graphFor([c, h, w]: number[], layer: Layer) {
  return {
    nodes: [
      { id: 'input', type: 'Input', params: { channels: c, height: h, width: w } },
      { id: 'layer', ...layer },
    ],
    edges: [{ source: 'input', target: 'layer' }],
  };
}

function shapeOf(a: Nested): number[] {
  return Array.isArray(a) ? [a.length, ...shapeOf(a[0])] : [];
}

/** Runs one layer on one C×H×W image (nested arrays, PyTorch layout) and returns C×H×W. */
function runLayer(layer: Layer, image: Nested[], weights: Record<string, Nested> = {}): Nested {
  const inference = inferValidGraph(graphFor(shapeOf(image), layer));
  const tensors: TensorMap = new Map(
    Object.entries(weights).map(([name, value]) => [
      `layer.${name}`,
      { shape: shapeOf(value), data: Float32Array.from((value as number[]).flat(3) as number[]) },
    ]),
  );
  const model = compileModel(tf, inference, { weights: tensors.size > 0 ? tensors : undefined });
  const out = tf.tidy(() => {
    const x = tf.transpose(tf.tensor([image] as number[][][][]), [0, 2, 3, 1]) as tfc.Tensor4D;
    return tf.transpose(model.forward(x, false), [0, 3, 1, 2]);
  });
  model.dispose();
  return (out.arraySync() as Nested[])[0];
}

const arange = (n: number, rows: number) =>
  Array.from({ length: n / rows }, (_, i) => Array.from({ length: rows }, (_, j) => i * rows + j));

const conv = (out: number, kernel: number | number[], extra: Record<string, unknown> = {}) => ({
  type: 'Conv2d',
  params: { out_channels: out, kernel_size: kernel, bias: false, ...extra },
});

describe('study notes 7.2: convolutions for images', () => {
  it('cross-correlates X = arange(9) with K = [[0, 1], [2, 3]]', () => {
    expect(
      runLayer(conv(1, 2), [arange(9, 3)], {
        weight: [
          [
            [
              [0, 1],
              [2, 3],
            ],
          ],
        ],
      }),
    ).toEqual([
      [
        [19, 25],
        [37, 43],
      ],
    ]);
  });

  // X = torch.ones((6, 8)); X[:, 2:6] = 0
  const edges = Array.from({ length: 6 }, () => [1, 1, 0, 0, 0, 0, 1, 1]);
  const edgeKernel = { weight: [[[[1, -1]]]] };
  const edgeRow = [0, 1, 0, 0, 0, -1, 0];

  it('detects the vertical edges of the 6×8 image with K = [[1, -1]]', () => {
    expect(runLayer(conv(1, [1, 2]), [edges], edgeKernel)).toEqual([
      Array.from({ length: 6 }, () => edgeRow),
    ]);
  });

  it('finds nothing in the transposed image: K only detects vertical edges', () => {
    const transposed = edges[0].map((_, j) => edges.map((r) => r[j]));
    const y = runLayer(conv(1, [1, 2]), [transposed], edgeKernel) as number[][][];
    expect(shapeOf(y)).toEqual([1, 8, 5]);
    expect(y.flat(2).every((v) => v === 0)).toBe(true);
  });

  it('learns the edge kernel back from X and Y by gradient descent (7.2.4)', () => {
    // nn.LazyConv2d(1, kernel_size=(1, 2), bias=False), lr 3e-2, 10 steps of the summed squared error.
    const model = compileModel(tf, inferValidGraph(graphFor([1, 6, 8], conv(1, [1, 2]))), {
      seed: 0,
    });
    const x = tf.tensor4d(edges.flat(), [1, 6, 8, 1]);
    const y = tf.tensor4d(Array(6).fill(edgeRow).flat(), [1, 6, 7, 1]);
    const kernel = model.weights.get('layer.weight')!;
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(tf.sub(model.forward(x, true), y))) as tfc.Scalar,
        [kernel],
      );
      losses.push(value.dataSync()[0]);
      tf.tidy(() => kernel.assign(tf.sub(kernel, tf.mul(grads[kernel.name], 3e-2))));
    }
    // The notes print a falling loss (10.382 … 0.009) and a learned kernel close to [1, −1].
    expect(losses[9]).toBeLessThan(losses[0] / 100);
    const [a, b] = Array.from(kernel.dataSync());
    expect(a).toBeCloseTo(1, 1);
    expect(b).toBeCloseTo(-1, 1);
    model.dispose();
  });
});

describe('study notes 7.3: padding and stride keep or shrink the 8×8 input', () => {
  it.each([
    [{ kernel_size: 3, padding: 1 }, [8, 8]],
    [{ kernel_size: [5, 3], padding: [2, 1] }, [8, 8]],
    [{ kernel_size: 3, padding: 1, stride: 2 }, [4, 4]],
    [{ kernel_size: [3, 5], padding: [0, 1], stride: [3, 4] }, [2, 2]],
  ])('LazyConv2d(1, %j) gives %j', (params, size) => {
    const inference = inferValidGraph(
      graphFor([1, 8, 8], { type: 'Conv2d', params: { out_channels: 1, ...params } }),
    );
    expect(inference.outputShape).toEqual([1, 1, ...size]);
  });
});

describe('study notes 7.4: multiple input and output channels', () => {
  const X = [
    [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ],
    [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ],
  ];
  const K = [
    [
      [0, 1],
      [2, 3],
    ],
    [
      [1, 2],
      [3, 4],
    ],
  ];
  const plus = (k: number[][][], d: number) => k.map((c) => c.map((r) => r.map((v) => v + d)));

  it('sums the per-channel cross-correlations: [[56, 72], [104, 120]]', () => {
    expect(runLayer(conv(1, 2), X, { weight: [K] })).toEqual([
      [
        [56, 72],
        [104, 120],
      ],
    ]);
  });

  it('stacks one output channel per kernel (K, K+1, K+2)', () => {
    expect(runLayer(conv(3, 2), X, { weight: [K, plus(K, 1), plus(K, 2)] })).toEqual([
      [
        [56, 72],
        [104, 120],
      ],
      [
        [76, 100],
        [148, 172],
      ],
      [
        [96, 128],
        [192, 224],
      ],
    ]);
  });

  it('computes a 1×1 convolution as the matrix product K·X over the channels', () => {
    const x = tf.randomNormal([3, 3, 3], 0, 1, 'float32', 1);
    const k = tf.randomNormal([2, 3, 1, 1], 0, 1, 'float32', 2);
    const y1 = tf.reshape(tf.matMul(tf.reshape(k, [2, 3]), tf.reshape(x, [3, 9])), [2, 3, 3]);
    const y2 = runLayer(conv(2, 1), x.arraySync() as Nested[], { weight: k.arraySync() as Nested });
    expect(tf.sum(tf.abs(tf.sub(y1, tf.tensor(y2 as number[][][])))).dataSync()[0]).toBeLessThan(
      1e-5,
    );
  });
});

describe('study notes 7.5: pooling', () => {
  const X3 = arange(9, 3);
  const X4 = arange(16, 4);

  it('max and average pooling of the 3×3 example with a 2×2 window (stride 1)', () => {
    const params = { kernel_size: 2, stride: 1 };
    expect(runLayer({ type: 'MaxPool2d', params }, [X3])).toEqual([
      [
        [4, 5],
        [7, 8],
      ],
    ]);
    expect(runLayer({ type: 'AvgPool2d', params }, [X3])).toEqual([
      [
        [2, 3],
        [5, 6],
      ],
    ]);
  });

  it('MaxPool2d(3) on arange(16) gives [[10]] (stride defaults to the window)', () => {
    expect(runLayer({ type: 'MaxPool2d', params: { kernel_size: 3 } }, [X4])).toEqual([[[10]]]);
  });

  const expected = [
    [5, 7],
    [13, 15],
  ];

  it('MaxPool2d(3, padding=1, stride=2) gives [[5, 7], [13, 15]]', () => {
    expect(
      runLayer({ type: 'MaxPool2d', params: { kernel_size: 3, padding: 1, stride: 2 } }, [X4]),
    ).toEqual([expected]);
  });

  it('MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)) gives [[5, 7], [13, 15]]', () => {
    expect(
      runLayer(
        { type: 'MaxPool2d', params: { kernel_size: [2, 3], stride: [2, 3], padding: [0, 1] } },
        [X4],
      ),
    ).toEqual([expected]);
  });

  it('pools each channel on its own: cat(X, X + 1) gives two channels', () => {
    const X4plus1 = X4.map((r) => r.map((v) => v + 1));
    expect(
      runLayer({ type: 'MaxPool2d', params: { kernel_size: 3, padding: 1, stride: 2 } }, [
        X4,
        X4plus1,
      ]),
    ).toEqual([
      expected,
      [
        [6, 8],
        [14, 16],
      ],
    ]);
  });
});
