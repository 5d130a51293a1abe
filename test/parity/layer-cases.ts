/**
 * Parity cases covering every primitive layer type and its PyTorch edge cases
 * (padding semantics, asymmetric geometry, groups, dilation, BatchNorm modes,
 * gradients). Shared by the PyTorch parity test and the backend comparison.
 */
import { chain, type ParityCase } from './harness';

const img = (c: number, h: number, w = h, n = 2) => [n, c, h, w];

export const layerCases: ParityCase[] = [
  {
    name: 'Conv2d 3×3, padding 1',
    graph: chain(img(3, 8), {
      type: 'Conv2d',
      params: { out_channels: 4, kernel_size: 3, padding: 1 },
    }),
    input: img(3, 8),
  },
  {
    name: 'Conv2d asymmetric kernel (3,5), stride (2,1), padding (1,2)',
    graph: chain(img(2, 9, 7), {
      type: 'Conv2d',
      params: { out_channels: 3, kernel_size: [3, 5], stride: [2, 1], padding: [1, 2] },
    }),
    input: img(2, 9, 7),
  },
  {
    name: 'Conv2d dilation 2',
    graph: chain(img(2, 10), {
      type: 'Conv2d',
      params: { out_channels: 3, kernel_size: 3, dilation: 2 },
    }),
    input: img(2, 10),
  },
  {
    name: 'Conv2d dilation 2 with stride 2',
    graph: chain(img(2, 11), {
      type: 'Conv2d',
      params: { out_channels: 3, kernel_size: 3, dilation: 2, stride: 2, padding: 1 },
    }),
    input: img(2, 11),
  },
  {
    name: 'Conv2d grouped (groups 2), no bias',
    graph: chain(img(4, 6), {
      type: 'Conv2d',
      params: { out_channels: 6, kernel_size: 3, groups: 2, bias: false, padding: 1 },
    }),
    input: img(4, 6),
  },
  {
    name: 'Conv2d depthwise (groups = channels, 2 outputs each), strided',
    graph: chain(img(3, 7), {
      type: 'Conv2d',
      params: { out_channels: 6, kernel_size: 3, groups: 3, stride: 2, padding: 1 },
    }),
    input: img(3, 7),
  },
  {
    name: 'Conv2d depthwise, dilated',
    graph: chain(img(4, 9), {
      type: 'Conv2d',
      params: { out_channels: 4, kernel_size: 3, groups: 4, dilation: [2, 1], padding: [2, 0] },
    }),
    input: img(4, 9),
  },
  {
    name: "Conv2d 'same' with an even kernel (4×2)",
    graph: chain(img(2, 7, 6), {
      type: 'Conv2d',
      params: { out_channels: 3, kernel_size: [4, 2], padding: 'same' },
    }),
    input: img(2, 7, 6),
  },
  {
    name: 'Conv2d Xavier init runs the same in PyTorch',
    graph: chain(img(1, 6), {
      type: 'Conv2d',
      params: { out_channels: 2, kernel_size: 5, padding: 2 },
    }),
    input: img(1, 6),
    init: 'xavier',
  },
  {
    name: 'MaxPool2d padded on all-negative input',
    graph: chain(img(2, 5), {
      type: 'MaxPool2d',
      params: { kernel_size: 3, stride: 2, padding: 1 },
    }),
    input: img(2, 5),
    range: [-3, -0.5],
  },
  {
    name: 'MaxPool2d asymmetric kernel (3,5), stride (2,1), padding (1,2), negative input',
    graph: chain(img(2, 7, 8), {
      type: 'MaxPool2d',
      params: { kernel_size: [3, 5], stride: [2, 1], padding: [1, 2] },
    }),
    input: img(2, 7, 8),
    range: [-2, -0.1],
  },
  {
    name: 'MaxPool2d default stride (= kernel)',
    graph: chain(img(3, 9), { type: 'MaxPool2d', params: { kernel_size: 2 } }),
    input: img(3, 9),
  },
  {
    name: 'AvgPool2d padded (padding counts in the average)',
    graph: chain(img(2, 5), {
      type: 'AvgPool2d',
      params: { kernel_size: 3, stride: 2, padding: 1 },
    }),
    input: img(2, 5),
    range: [0.5, 2],
  },
  {
    name: 'AvgPool2d asymmetric kernel (3,5), stride (2,1), padding (1,2)',
    graph: chain(img(2, 7, 8), {
      type: 'AvgPool2d',
      params: { kernel_size: [3, 5], stride: [2, 1], padding: [1, 2] },
    }),
    input: img(2, 7, 8),
  },
  {
    name: 'AdaptiveAvgPool2d to 1×1',
    graph: chain(img(3, 7), { type: 'AdaptiveAvgPool2d' }),
    input: img(3, 7),
  },
  {
    name: 'MaxPool2d ceil_mode: a last partial window (7×8, k3 s2 → 3×4)',
    graph: chain(img(2, 7, 8), {
      type: 'MaxPool2d',
      params: { kernel_size: 3, stride: 2, ceil_mode: true },
    }),
    input: img(2, 7, 8),
    range: [-3, -1],
  },
  {
    name: 'MaxPool2d ceil_mode with padding, where the extra window is dropped (5×5, k2 s2 p1)',
    graph: chain(img(2, 5), {
      type: 'MaxPool2d',
      params: { kernel_size: 2, stride: 2, padding: 1, ceil_mode: true },
    }),
    input: img(2, 5),
  },
  {
    name: 'AvgPool2d ceil_mode: partial windows average what they cover (7×6, k3 s2 p1)',
    graph: chain(img(2, 7, 6), {
      type: 'AvgPool2d',
      params: { kernel_size: 3, stride: 2, padding: 1, ceil_mode: true },
    }),
    input: img(2, 7, 6),
  },
  {
    name: 'Gradients: Conv2d → ceil_mode MaxPool2d → ceil_mode AvgPool2d → Flatten → Linear',
    graph: chain(
      img(2, 9),
      { type: 'Conv2d', params: { out_channels: 3, kernel_size: 2 } },
      { type: 'MaxPool2d', params: { kernel_size: 3, stride: 2, ceil_mode: true } },
      { type: 'AvgPool2d', params: { kernel_size: 2, stride: 2, ceil_mode: true } },
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 3 } },
    ),
    input: img(2, 9, 9, 3),
    labels: [1, 0, 2],
  },
  {
    name: 'AdaptiveAvgPool2d uneven windows (7×10 → 3×4)',
    graph: chain(img(3, 7, 10), { type: 'AdaptiveAvgPool2d', params: { output_size: [3, 4] } }),
    input: img(3, 7, 10),
  },
  {
    name: 'AdaptiveAvgPool2d evenly divisible (8×6 → 4×3)',
    graph: chain(img(2, 8, 6), { type: 'AdaptiveAvgPool2d', params: { output_size: [4, 3] } }),
    input: img(2, 8, 6),
  },
  {
    name: 'BatchNorm2d training (output and running stats)',
    graph: chain(
      img(3, 4),
      { type: 'Conv2d', params: { out_channels: 4, kernel_size: 1 } },
      { type: 'BatchNorm2d', params: { momentum: 0.3 } },
    ),
    input: img(3, 4, 4, 3),
    range: [0, 5],
    training: true,
  },
  {
    name: 'BatchNorm2d eval (running stats)',
    graph: chain(
      img(3, 4),
      { type: 'Conv2d', params: { out_channels: 4, kernel_size: 1 } },
      { type: 'BatchNorm2d', params: { eps: 1e-3 } },
    ),
    input: img(3, 4),
    training: false,
  },
  ...(
    [
      ['ReLU', {}],
      ['Sigmoid', {}],
      ['Tanh', {}],
      ['LeakyReLU', { negative_slope: 0.2 }],
      ['GELU', {}],
      ['GELU', { approximate: 'tanh' }],
      ['Softmax', {}],
    ] as const
  ).map(
    ([type, params]): ParityCase => ({
      name: `${type} ${JSON.stringify(params)}`,
      graph: chain(img(3, 4), { type, params }),
      input: img(3, 4),
      range: [-4, 4],
    }),
  ),
  {
    name: 'ReLU6 caps at 6 (inputs in [-9, 9])',
    graph: chain(img(3, 4), { type: 'ReLU6' }),
    input: img(3, 4),
    range: [-9, 9],
  },
  {
    name: 'Gradients: ZeroPad2d (0, 1, 2, 0) → stride-2 depthwise Conv2d → ReLU6 → Flatten → Linear, as MobileNet pads',
    graph: chain(
      img(3, 7),
      { type: 'ZeroPad2d', params: { padding: [0, 1, 2, 0] } },
      { type: 'Conv2d', params: { out_channels: 6, kernel_size: 3, stride: 2, groups: 3 } },
      { type: 'ReLU6' },
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 3 } },
    ),
    input: img(3, 7, 7, 3),
    range: [-4, 4],
    labels: [2, 1, 0],
  },
  {
    name: 'Softmax over features after Linear',
    graph: chain(
      img(2, 3),
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 5 } },
      { type: 'Softmax' },
    ),
    input: img(2, 3),
  },
  {
    name: 'Flatten in C,H,W order, then Linear',
    graph: chain(
      img(3, 4, 5),
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 7 } },
    ),
    input: img(3, 4, 5),
  },
  {
    name: 'BatchNorm1d training after Linear (output and running stats)',
    graph: chain(
      img(2, 3),
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 6 } },
      { type: 'BatchNorm1d', params: { momentum: 0.3 } },
    ),
    input: img(2, 3, 3, 5),
    range: [0, 5],
    training: true,
  },
  {
    name: 'BatchNorm1d eval (running stats)',
    graph: chain(
      img(2, 3),
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 6 } },
      { type: 'BatchNorm1d', params: { eps: 1e-3 } },
    ),
    input: img(2, 3),
    training: false,
  },
  {
    name: 'Gradients: d2l’s BN LeNet head, Linear → BatchNorm1d → Sigmoid → Linear',
    graph: chain(
      img(3, 4),
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 8 } },
      { type: 'BatchNorm1d' },
      { type: 'Sigmoid' },
      { type: 'Linear', params: { out_features: 3 } },
    ),
    input: img(3, 4, 4, 4),
    labels: [2, 0, 1, 2],
  },
  {
    name: 'Flatten alone keeps PyTorch’s order',
    graph: chain(img(3, 2, 4), { type: 'Flatten' }),
    input: img(3, 2, 4),
  },
  {
    name: 'Linear without bias',
    graph: chain(
      img(1, 3),
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 4, bias: false } },
    ),
    input: img(1, 3),
  },
  {
    name: 'Dropout in eval mode passes values through',
    graph: chain(img(2, 3), { type: 'Dropout', params: { p: 0.5 } }),
    input: img(2, 3),
    training: false,
  },
  {
    name: 'Dropout2d in eval mode passes values through',
    graph: chain(img(3, 4), { type: 'Dropout2d', params: { p: 0.5 } }),
    input: img(3, 4),
    training: false,
  },
  {
    name: 'Dropout2d with p = 1 in training zeroes every channel',
    graph: chain(img(3, 4), { type: 'Dropout2d', params: { p: 1 } }),
    input: img(3, 4),
    training: true,
  },
  {
    name: 'Add of a residual branch',
    graph: {
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 3, height: 5, width: 5 } },
        { id: 'conv', type: 'Conv2d', params: { out_channels: 3, kernel_size: 3, padding: 1 } },
        { id: 'sum', type: 'Add' },
      ],
      edges: [
        { source: 'input', target: 'conv' },
        { source: 'conv', target: 'sum' },
        { source: 'input', target: 'sum' },
      ],
    },
    input: img(3, 5),
  },
  {
    name: 'Concat along channels (edge order)',
    graph: {
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 2, height: 5, width: 5 } },
        { id: 'a', type: 'Conv2d', params: { out_channels: 3, kernel_size: 1 } },
        { id: 'b', type: 'Conv2d', params: { out_channels: 4, kernel_size: 3, padding: 1 } },
        { id: 'cat', type: 'Concat' },
      ],
      edges: [
        { source: 'input', target: 'a' },
        { source: 'input', target: 'b' },
        { source: 'b', target: 'cat' },
        { source: 'a', target: 'cat' },
        { source: 'input', target: 'cat' },
      ],
    },
    input: img(2, 5),
  },
  {
    name: 'Gradients: Conv2d dilation 2 with stride 2 → Flatten → Linear',
    graph: chain(
      img(2, 11),
      {
        type: 'Conv2d',
        params: { out_channels: 3, kernel_size: 3, dilation: 2, stride: 2, padding: 1 },
      },
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 4 } },
    ),
    input: img(2, 11, 11, 3),
    labels: [3, 0, 1],
  },
  {
    name: 'Gradients: Conv2d → ReLU → padded MaxPool2d → Flatten → Linear',
    graph: chain(
      img(2, 8),
      { type: 'Conv2d', params: { out_channels: 4, kernel_size: 3, padding: 1 } },
      { type: 'ReLU' },
      { type: 'MaxPool2d', params: { kernel_size: 3, stride: 2, padding: 1 } },
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 5 } },
    ),
    input: img(2, 8, 8, 4),
    labels: [0, 3, 4, 1],
  },
  {
    name: 'Gradients: asymmetric Conv2d → depthwise Conv2d → Tanh → Flatten → Linear',
    graph: chain(
      img(2, 9, 7),
      {
        type: 'Conv2d',
        params: { out_channels: 4, kernel_size: [3, 5], stride: [2, 1], padding: [1, 2] },
      },
      { type: 'Conv2d', params: { out_channels: 8, kernel_size: 3, groups: 4, padding: 1 } },
      { type: 'Tanh' },
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 3 } },
    ),
    input: img(2, 9, 7, 3),
    labels: [1, 2, 0],
  },
  {
    name: 'Gradients: Conv2d → LeakyReLU → uneven AdaptiveAvgPool2d (7×10 → 3×4) → Flatten → Linear',
    graph: chain(
      img(2, 7, 10),
      { type: 'Conv2d', params: { out_channels: 3, kernel_size: 3, padding: 1 } },
      { type: 'LeakyReLU', params: { negative_slope: 0.1 } },
      { type: 'AdaptiveAvgPool2d', params: { output_size: [3, 4] } },
      { type: 'Flatten' },
      { type: 'Linear', params: { out_features: 4 } },
    ),
    input: img(2, 7, 10, 3),
    labels: [3, 0, 2],
  },
  {
    name: 'Gradients: strided grouped Conv2d → BatchNorm2d → GELU → Dropout2d (p 0) → AvgPool2d → AdaptiveAvgPool2d → Linear',
    graph: chain(
      img(4, 9),
      {
        type: 'Conv2d',
        params: { out_channels: 6, kernel_size: 3, stride: 2, groups: 2, padding: 1 },
      },
      { type: 'BatchNorm2d' },
      { type: 'GELU' },
      { type: 'Dropout2d', params: { p: 0 } },
      { type: 'AvgPool2d', params: { kernel_size: 2, stride: 1 } },
      { type: 'AdaptiveAvgPool2d', params: { output_size: 2 } },
      { type: 'Flatten' },
      { type: 'Dropout', params: { p: 0 } },
      { type: 'Linear', params: { out_features: 3 } },
    ),
    input: img(4, 9, 9, 3),
    labels: [2, 0, 1],
  },
];
