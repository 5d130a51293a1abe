/**
 * Blocks and the notes' shape examples, through the core's shape inference
 * (the same path the editor, summary and compiler take).
 */
import { describe, expect, it } from 'vitest';
import { inferGraph } from '../../infer';
import { formatIssue } from '../../issues';
import type { Shape } from '../../shape';

/** One layer (or block) applied to an input of the given N×C×H×W. */
function applyLayer(type: string, params: Record<string, unknown>, input: Shape) {
  return inferGraph(
    {
      nodes: [
        { id: 'input', type: 'Input' },
        { id: 'layer', type, params },
      ],
      edges: [{ source: 'input', target: 'layer' }],
    },
    { inputShape: input },
  );
}

function outputOf(type: string, params: Record<string, unknown>, input: Shape): Shape | undefined {
  const result = applyLayer(type, params, input);
  expect(result.issues.map(formatIssue)).toEqual([]);
  return result.outputShape;
}

describe('notes 7.3: padding and stride (LazyConv2d on an 8×8 input)', () => {
  const x: Shape = [1, 1, 8, 8];
  it('3×3 kernel, padding 1 keeps 8×8', () => {
    expect(outputOf('Conv2d', { out_channels: 1, kernel_size: 3, padding: 1 }, x)).toEqual([
      1, 1, 8, 8,
    ]);
  });
  it('5×3 kernel, padding (2, 1) keeps 8×8', () => {
    expect(
      outputOf('Conv2d', { out_channels: 1, kernel_size: [5, 3], padding: [2, 1] }, x),
    ).toEqual([1, 1, 8, 8]);
  });
  it('3×3 kernel, padding 1, stride 2 gives 4×4', () => {
    expect(
      outputOf('Conv2d', { out_channels: 1, kernel_size: 3, padding: 1, stride: 2 }, x),
    ).toEqual([1, 1, 4, 4]);
  });
  it('kernel (3, 5), padding (0, 1), stride (3, 4) gives 2×2', () => {
    expect(
      outputOf(
        'Conv2d',
        { out_channels: 1, kernel_size: [3, 5], padding: [0, 1], stride: [3, 4] },
        x,
      ),
    ).toEqual([1, 1, 2, 2]);
  });
});

describe('Residual (notes 8.6.2)', () => {
  it('Residual(3) keeps 4×3×6×6', () => {
    expect(outputOf('Residual', { num_channels: 3 }, [4, 3, 6, 6])).toEqual([4, 3, 6, 6]);
  });
  it('Residual(6, use_1x1conv=True, strides=2) halves the size and changes the channels', () => {
    expect(
      outputOf('Residual', { num_channels: 6, use_1x1conv: true, strides: 2 }, [4, 3, 6, 6]),
    ).toEqual([4, 6, 3, 3]);
  });
  it('has the course’s layers, named as its attributes, shortcut last', () => {
    const r = applyLayer(
      'Residual',
      { num_channels: 6, use_1x1conv: true, strides: 2 },
      [4, 3, 6, 6],
    );
    const block = r.byId.get('layer')!;
    expect(block.children!.map((c) => `${c.id}:${c.type}`)).toEqual([
      'layer/input:Input',
      'layer/conv1:Conv2d',
      'layer/bn1:BatchNorm2d',
      'layer/relu1:ReLU',
      'layer/conv2:Conv2d',
      'layer/bn2:BatchNorm2d',
      'layer/conv3:Conv2d',
      'layer/add:Add',
      'layer/relu2:ReLU',
    ]);
    expect(r.byId.get('layer/conv3')!.outputShape).toEqual([4, 6, 3, 3]);
  });
  it('without the 1×1 shortcut, a channel change is the block’s use_1x1conv to turn on', () => {
    const r = applyLayer('Residual', { num_channels: 6 }, [4, 3, 6, 6]);
    expect(r.issues).toEqual([
      {
        nodeId: 'layer',
        field: 'use_1x1conv',
        message:
          "the convolutions give 4×6×6×6 but the skip connection carries the block's input, 4×3×6×6, so the two cannot be added: turn on use_1x1conv (a 1×1 convolution on the skip connection then gives the block's channels and stride)",
      },
    ]);
    expect(r.byId.get('layer')!.error).toBe(r.issues[0].message);
    // A stride without the shortcut is the same fix.
    const strided = applyLayer('Residual', { num_channels: 3, strides: 2 }, [4, 3, 6, 6]);
    expect(strided.issues.map((i) => [i.nodeId, i.field])).toEqual([['layer', 'use_1x1conv']]);
    expect(strided.issues[0].message).toMatch(/give 4×3×3×3 but .* 4×3×6×6/);
  });
});

describe('ResNeXtBlock (notes 8.6.5)', () => {
  it('ResNeXtBlock(32, 16, 1) keeps 4×32×96×96', () => {
    expect(
      outputOf('ResNeXtBlock', { num_channels: 32, groups: 16, bot_mul: 1 }, [4, 32, 96, 96]),
    ).toEqual([4, 32, 96, 96]);
  });
  it('its 3×3 convolution has bot_channels // groups groups', () => {
    const r = applyLayer(
      'ResNeXtBlock',
      { num_channels: 32, groups: 16, bot_mul: 1 },
      [1, 32, 8, 8],
    );
    expect(r.byId.get('layer/conv2')!.params!.groups).toBe(2);
  });
  it('downsamples with a 1×1 conv + BatchNorm shortcut', () => {
    const r = applyLayer(
      'ResNeXtBlock',
      { num_channels: 64, groups: 16, bot_mul: 0.5, use_1x1conv: true, strides: 2 },
      [2, 32, 8, 8],
    );
    expect(r.issues).toEqual([]);
    expect(r.outputShape).toEqual([2, 64, 4, 4]);
    expect(r.byId.get('layer/bn4')!.outputShape).toEqual([2, 64, 4, 4]);
  });
  it('says which groups fit when the bottleneck cannot be split', () => {
    const r = applyLayer('ResNeXtBlock', { num_channels: 8, groups: 16, bot_mul: 1 }, [1, 8, 4, 4]);
    expect(r.issues[0]).toMatchObject({ nodeId: 'layer', field: 'groups' });
    expect(r.issues[0].message).toMatch(/8 bottleneck channels/);
  });
});

describe('other course blocks', () => {
  it('VGG block: n 3×3 convs keep the size, max pooling halves it', () => {
    expect(outputOf('VGGBlock', { num_convs: 2, out_channels: 128 }, [1, 64, 112, 112])).toEqual([
      1, 128, 56, 56,
    ]);
  });
  it('VGG block children are numbered as nn.Sequential', () => {
    const r = applyLayer('VGGBlock', { num_convs: 2, out_channels: 8 }, [1, 1, 8, 8]);
    expect(r.primitives.map((p) => p.id)).toEqual([
      'input',
      'layer/0',
      'layer/1',
      'layer/2',
      'layer/3',
      'layer/4',
    ]);
  });
  it('NiN block: a kernel larger than the input is the block’s kernel_size', () => {
    const r = applyLayer(
      'NiNBlock',
      { out_channels: 96, kernel_size: 11, strides: 4 },
      [1, 1, 8, 8],
    );
    expect(r.issues.map((i) => [i.nodeId, i.field])).toEqual([['layer', 'kernel_size']]);
    expect(r.issues[0].message).toMatch(
      /kernel 11×11 is larger than its padded input 8×8.*\(in 0, whose kernel_size is the block's kernel_size\)$/,
    );
  });
  it('NiN block: 11×11 stride 4 on 224×224 gives 54×54', () => {
    expect(
      outputOf(
        'NiNBlock',
        { out_channels: 96, kernel_size: 11, strides: 4, padding: 0 },
        [1, 1, 224, 224],
      ),
    ).toEqual([1, 96, 54, 54]);
  });
  it('Inception(64, (96, 128), (16, 32), 32) gives 256 channels at the same size', () => {
    expect(
      outputOf('Inception', { c1: 64, c2: [96, 128], c3: [16, 32], c4: 32 }, [1, 192, 12, 12]),
    ).toEqual([1, 256, 12, 12]);
  });
  it('Inception needs two numbers in c2', () => {
    const r = applyLayer('Inception', { c1: 1, c2: [1], c3: [1, 1], c4: 1 }, [1, 3, 8, 8]);
    expect(r.issues[0]).toMatchObject({ nodeId: 'layer', field: 'c2' });
  });
  it('DenseBlock(2, 10) on 4×3×8×8 grows to 23 channels; transition_block(10) gives 4×10×4×4', () => {
    expect(outputOf('DenseBlock', { num_convs: 2, num_channels: 10 }, [4, 3, 8, 8])).toEqual([
      4, 23, 8, 8,
    ]);
    expect(outputOf('TransitionBlock', { num_channels: 10 }, [4, 23, 8, 8])).toEqual([4, 10, 4, 4]);
  });
});

describe('user Block', () => {
  const project = (blockName: string) => ({
    nodes: [
      { id: 'input', type: 'Input' },
      { id: 'stem', type: 'Block', params: { block: blockName } },
    ],
    edges: [{ source: 'input', target: 'stem' }],
    blocks: {
      conv_relu: {
        nodes: [
          { id: 'input', type: 'Input' },
          { id: 'conv', type: 'Conv2d', params: { out_channels: 4, kernel_size: 3 } },
          { id: 'relu', type: 'ReLU' },
        ],
        edges: [
          { source: 'input', target: 'conv' },
          { source: 'conv', target: 'relu' },
        ],
      },
    },
  });
  it('expands the project’s block by name', () => {
    const r = inferGraph(project('conv_relu'), { inputShape: [1, 1, 8, 8] });
    expect(r.issues).toEqual([]);
    expect(r.outputShape).toEqual([1, 4, 6, 6]);
    expect(r.primitives.map((p) => p.id)).toEqual(['input', 'stem/conv', 'stem/relu']);
    expect(r.byId.get('stem')!.paramCount).toBe(4 * 9 + 4);
  });
  it('names the missing block and lists the existing ones', () => {
    const r = inferGraph(project('conv_rleu'), { inputShape: [1, 1, 8, 8] });
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ nodeId: 'stem', field: 'block' });
    expect(r.issues[0].message).toMatch(/no block named 'conv_rleu'.*conv_relu/);
  });
});
