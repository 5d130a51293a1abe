/**
 * The compiled step's plan, without a GPU: memory shared by liveness, the
 * dispatches a network needs, what is fused, what cannot compile and what a
 * device's limits refuse. (The GPU side runs in the *.gpu.test.ts files.)
 */
import { describe, expect, it } from 'vitest';
import { layerCases } from '../../../test/parity/layer-cases';
import { inferValidGraph } from '../../core/infer';
import { primitiveTypes } from '../../core/layers/registry';
import { presets } from '../../core/presets';
import {
  dispatchCounts,
  largestPlannableBatch,
  NotCompilable,
  type PlanOptions,
  placeByLiveness,
  planStep,
  TooLarge,
} from './plan';

const LIMITS = {
  maxBufferSize: 2 ** 31,
  maxStorageBufferBindingSize: 2 ** 30,
  maxComputeWorkgroupsPerDimension: 65535,
};

const options = (batch: number, size: [number, number]): PlanOptions => ({
  mode: 'train',
  batch,
  imageSize: size,
  loss: 'cross-entropy',
  optimizer: {
    kind: 'sgd-momentum',
    weightDecay: 0,
    momentum: 0.9,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
  },
  limits: LIMITS,
});

const plan = (name: string, batch: number, size: number, extra: Partial<PlanOptions> = {}) => {
  const graph = presets.find((p) => p.name === name)?.build();
  const inference = inferValidGraph(graph as NonNullable<typeof graph>, {
    inputShape: [batch, 1, size, size],
  });
  return { inference, plan: planStep(inference, { ...options(batch, [size, size]), ...extra }) };
};

describe('placing values by liveness', () => {
  it('lets values that are never alive together share memory, and keeps the others apart', () => {
    const items = [
      { bytes: 1024, first: 0, last: 2 },
      { bytes: 1024, first: 3, last: 5 },
      { bytes: 512, first: 1, last: 4 },
    ];
    const places = placeByLiveness(items, 2 ** 20);
    expect(places[0].offset).toBe(places[1].offset);
    const overlap = (a: number, b: number) =>
      places[a].offset < places[b].offset + items[b].bytes &&
      places[b].offset < places[a].offset + items[a].bytes;
    expect(overlap(0, 2)).toBe(false);
    expect(overlap(1, 2)).toBe(false);
  });

  it('opens another heap where one would exceed the buffer size', () => {
    const items = [
      { bytes: 600, first: 0, last: 1 },
      { bytes: 600, first: 0, last: 1 },
    ];
    const places = placeByLiveness(items, 1024);
    expect(places.map((p) => p.heap).sort()).toEqual([0, 1]);
  });
});

describe('planning a training step', () => {
  it('LeNet: one dispatch per kernel of its step, sigmoids fused into the layers they follow', () => {
    const { plan: lenet } = plan('lenet', 128, 28);
    const counts = dispatchCounts(lenet);
    // 5 layers with weights: forward, weight gradient (+ sum of parts), bias gradient (2);
    // the first convolution needs no input gradient.
    expect(counts.convolution).toBeGreaterThanOrEqual(5 + 4 + 5);
    expect(counts.optimizer).toBe(1);
    expect(counts.loss).toBe(1);
    // Sigmoids after convolutions and Linear run inside them; only their gradients are dispatches.
    const sigmoidForward = lenet.dispatches.filter((d) => d.kernel.key === 'act-fwd:sigmoid');
    expect(sigmoidForward).toEqual([]);
    expect(lenet.dispatches.length).toBeLessThan(50);
  });

  it('shares memory by liveness: the pool is far below the sum of every value', () => {
    const { plan: resnet, inference } = plan('resnet18', 32, 96);
    const everything = resnet.values
      .filter((v) => v.alias === undefined && v.external === undefined)
      .reduce((a, v) => a + v.elements * 4, 0);
    expect(resnet.bytes.activations).toBeLessThan(everything * 0.75);
    // Training keeps every activation for the backward pass: about twice the forward's.
    expect(resnet.bytes.activations).toBeLessThan(inference.totals.memoryBytes * 3);
    expect(resnet.bytes.weights).toBeGreaterThan(2 * 4 * inference.totals.params * 0.99);
  });

  it("skips a bias gradient that is exactly zero (a convolution's only consumer is a training BatchNorm)", () => {
    const { plan: resnet } = plan('resnet18', 4, 32);
    const labels = resnet.dispatches.map((d) => d.label);
    expect(labels).toContain('b2/0/conv1 weight gradient');
    expect(labels.filter((l) => l.startsWith('b2/0/conv1 bias gradient'))).toEqual([]);
    // A convolution whose output also feeds something else keeps it (none in ResNet-18); a Linear
    // at the end does.
    expect(labels.some((l) => /bias gradient/.test(l))).toBe(true);
  });

  it('plans every preset', () => {
    const sizes: Record<string, number> = {
      lenet: 28,
      alexnet: 224,
      vgg11: 224,
      'vgg11-tiny': 224,
      nin: 224,
      googlenet: 96,
      resnet18: 96,
      resnext18: 96,
      densenet: 96,
    };
    for (const preset of presets) {
      const { plan: p } = plan(preset.name, 8, sizes[preset.name]);
      expect(p.dispatches.length, preset.name).toBeGreaterThan(10);
    }
  });

  it("plans MobileNet's layers: ZeroPad2d, a depthwise convolution with ReLU6 fused, Dropout2d", () => {
    const inference = inferValidGraph(
      {
        nodes: [
          { id: 'input', type: 'Input', params: { channels: 4, height: 8, width: 8 } },
          { id: 'pad', type: 'ZeroPad2d', params: { padding: [0, 1, 0, 1] } },
          {
            id: 'dw',
            type: 'Conv2d',
            params: { out_channels: 4, kernel_size: 3, stride: 2, groups: 4 },
          },
          { id: 'relu6', type: 'ReLU6' },
          { id: 'drop', type: 'Dropout2d', params: { p: 0.2 } },
          { id: 'flat', type: 'Flatten' },
          { id: 'fc', type: 'Linear', params: { out_features: 3 } },
        ],
        edges: [
          { source: 'input', target: 'pad' },
          { source: 'pad', target: 'dw' },
          { source: 'dw', target: 'relu6' },
          { source: 'relu6', target: 'drop' },
          { source: 'drop', target: 'flat' },
          { source: 'flat', target: 'fc' },
        ],
      },
      { inputShape: [2, 4, 8, 8] },
    );
    const p = planStep(inference, { ...options(2, [8, 8]), inputGradient: true });
    const keys = p.dispatches.map((d) => `${d.label}: ${d.kernel.key}`);
    expect(keys).toContain('pad forward: zero-pad:forward:write');
    expect(keys).toContain('pad input gradient: zero-pad:backward:write');
    expect(keys).toContain('drop forward: dropout:channel:forward:write');
    // ReLU6 runs inside the convolution; only its gradient is a dispatch of its own.
    expect(keys.some((k) => k.startsWith('relu6 forward'))).toBe(false);
    expect(keys.some((k) => k.startsWith('relu6 input gradient: act-bwd:relu6'))).toBe(true);
    const evaluation = planStep(inference, { ...options(2, [8, 8]), mode: 'eval' });
    expect(evaluation.dispatches.some((d) => d.label.startsWith('drop'))).toBe(false);
  });

  it('plans evaluation without gradients or an update', () => {
    const { plan: p } = plan('resnet18', 8, 96, { mode: 'eval' });
    const classes = new Set(p.dispatches.map((d) => d.kernel.class));
    expect(classes.has('optimizer')).toBe(false);
    expect(p.dispatches.some((d) => /gradient/.test(d.label))).toBe(false);
    expect(p.bytes.gradients).toBe(0);
  });

  it('resizes the images first when they are written at another size', () => {
    const graph = presets.find((p) => p.name === 'resnet18')?.build();
    const inference = inferValidGraph(graph as NonNullable<typeof graph>, {
      inputShape: [4, 1, 96, 96],
    });
    const p = planStep(inference, options(4, [28, 28]));
    expect(p.dispatches[0].label).toBe('resize images 28×28 → 96×96');
    expect(p.imageShape).toEqual([4, 28, 28, 1]);
  });
});

describe('the layer catalog on the compiled step', () => {
  // Each type that computes, through the first parity case that uses it (the SwiftShader
  // tests run the same cases against the op-by-op path).
  it.each(primitiveTypes().filter((t) => t !== 'Input'))('%s plans', (type) => {
    const c = layerCases.find((c) =>
      inferValidGraph(c.graph).primitives.some((p) => p.type === type),
    );
    expect(c, `no parity case in test/parity/layer-cases.ts uses ${type}`).toBeDefined();
    const { graph, input } = c as (typeof layerCases)[number];
    const inference = inferValidGraph(graph, { inputShape: input });
    const [batch, , h, w] = input;
    // Mean squared error takes an output of any shape.
    expect(() => planStep(inference, { ...options(batch, [h, w]), loss: 'mse' })).not.toThrow();
  });
});

describe('what the compiled step refuses', () => {
  it('names a layer type it has no kernels for (the run then goes op by op)', () => {
    const inference = inferValidGraph({
      nodes: [
        { id: 'input', type: 'Input', params: { channels: 1, height: 4, width: 4 } },
        { id: 'flat', type: 'Flatten' },
        { id: 'fc', type: 'Linear', params: { out_features: 3 } },
      ],
      edges: [
        { source: 'input', target: 'flat' },
        { source: 'flat', target: 'fc' },
      ],
    });
    const renamed = {
      ...inference,
      // A type outside the catalog, which the typed PrimitiveNode cannot name without a cast.
      primitives: inference.primitives.map((p) =>
        p.id === 'fc' ? ({ ...p, type: 'Bilinear' } as unknown as typeof p) : p,
      ),
    };
    expect(() => planStep(renamed, options(1, [4, 4]))).toThrow(
      new NotCompilable('fc', 'the compiled step has no kernels for Bilinear layers'),
    );
  });

  it('refuses a batch whose activation the device cannot bind, and finds one that fits', () => {
    const graph = presets.find((p) => p.name === 'resnet18')?.build();
    const inference = inferValidGraph(graph as NonNullable<typeof graph>, {
      inputShape: [256, 1, 96, 96],
    });
    const small = { ...LIMITS, maxStorageBufferBindingSize: 128 * 2 ** 20 };
    const o = { ...options(256, [96, 96]), limits: small };
    expect(() => planStep(inference, o)).toThrow(TooLarge);
    const fits = largestPlannableBatch(inference, o);
    expect(fits).toBeGreaterThan(8);
    expect(fits).toBeLessThan(256);
  });
});
