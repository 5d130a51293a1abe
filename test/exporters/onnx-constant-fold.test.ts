/**
 * Constant folding in the ONNX importer: the chain torch.onnx.export writes
 * for F.pad's pads evaluates to the pads, and what a small file could make
 * large is left unevaluated.
 */
import { describe, expect, it } from 'vitest';
import { type Constant, foldConstants } from '../../src/exporters/onnx/constant-fold';
import type { AttributeValue } from '../../src/exporters/onnx/import-ops';

const tensor = (shape: number[], values: number[]): Constant => ({
  shape,
  values: Float64Array.from(values),
});

const node = (op: string, inputs: string[], output: string, attributes = {}) => ({
  op,
  inputs,
  outputs: [output],
  attributes: new Map<string, AttributeValue>(Object.entries(attributes)),
});

describe('folding nodes that compute on constants', () => {
  it("evaluates F.pad's pads chain (nn.ZeroPad2d((0, 1, 2, 3)) at opset 13) to ONNX's pads", () => {
    // INT64_MAX as the importer holds it (a double).
    const int64Max = 2 ** 63 - 1;
    const constants = new Map<string, Constant>([
      ['rank-minus-2', tensor([1], [4])],
      ['given', tensor([4], [0, 1, 2, 3])],
      ['pairs', tensor([2], [-1, 2])],
      ['axes', tensor([1], [0])],
      ['starts', tensor([1], [-1])],
      ['ends', tensor([1], [-int64Max])],
      ['steps', tensor([1], [-1])],
      ['flat', tensor([1], [-1])],
    ]);
    const nodes = [
      node('ConstantOfShape', ['rank-minus-2'], 'zeros', {
        value: { shape: [1], data: Float32Array.of(0) },
      }),
      node('Concat', ['given', 'zeros'], 'all', { axis: 0 }),
      node('Reshape', ['all', 'pairs'], 'paired'),
      node('Slice', ['paired', 'starts', 'ends', 'axes', 'steps'], 'reversed'),
      node('Transpose', ['reversed'], 'columns', { perm: [1, 0] }),
      node('Reshape', ['columns', 'flat'], 'pads-float'),
      node('Cast', ['pads-float'], 'pads', { to: 7 }),
      node('Pad', ['x', 'pads'], 'y'),
    ];
    foldConstants(nodes, constants);
    // [N, C, H, W] begins then ends: H gets 2 before and 3 after, W 0 and 1.
    expect(Array.from(constants.get('pads')!.values)).toEqual([0, 0, 2, 0, 0, 0, 3, 1]);
    expect(nodes.slice(0, 7).every((n) => n.op === 'Constant')).toBe(true);
    // The Pad reads a computed input: it stays for the importer.
    expect(nodes[7].op).toBe('Pad');
  });

  it('leaves a ConstantOfShape that a few bytes could make huge unevaluated', () => {
    const constants = new Map([['shape', tensor([2], [100000, 100000])]]);
    const nodes = [node('ConstantOfShape', ['shape'], 'big')];
    foldConstants(nodes, constants);
    expect(constants.has('big')).toBe(false);
    expect(nodes[0].op).toBe('ConstantOfShape');
  });
});
