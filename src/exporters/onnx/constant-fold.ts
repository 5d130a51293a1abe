/**
 * Nodes whose inputs are all constants, evaluated while importing: exporters
 * write small computations on constants into the graph (torch.onnx.export
 * builds F.pad's pads from ConstantOfShape, Concat, Reshape, Slice, Transpose
 * and Cast), which the layers that read them need as plain values.
 */
import type { AttributeValue } from './import-ops';

export interface Constant {
  shape: number[];
  values: Float64Array;
}

/** Larger results are left unevaluated (and refused where a layer would need them). */
const MAX_FOLDED_VALUES = 1 << 16;

type Fold = (
  inputs: Constant[],
  attribute: (name: string) => AttributeValue | undefined,
) => Constant;

/** ONNX's integer and boolean data types (TensorProto.DataType). */
const INTEGER_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--)
    strides[axis] = strides[axis + 1] * shape[axis + 1];
  return strides;
}

/** The values at each index of `shape` (row-major), read through `at` (an index per axis → offset). */
function gather(shape: number[], at: (index: number[]) => number, from: Float64Array): Constant {
  const values = new Float64Array(sizeOf(shape));
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    values[i] = from[at(index)];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return { shape, values };
}

const normalAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const FOLDS: Record<string, Fold> = {
  Identity: ([x]) => x,
  Cast([x], attribute) {
    const whole = INTEGER_TYPES.has(attribute('to') as number);
    return whole ? { shape: x.shape, values: x.values.map(Math.trunc) } : x;
  },
  ConstantOfShape([shape], attribute) {
    const value = attribute('value');
    const fill = value && typeof value === 'object' && !Array.isArray(value) ? value.data[0] : 0;
    const dims = Array.from(shape.values);
    return { shape: dims, values: new Float64Array(sizeOf(dims)).fill(fill) };
  },
  Reshape([x, target]) {
    const known = Array.from(target.values).map((d, i) => (d === 0 ? x.shape[i] : d));
    const rest = sizeOf(known.filter((d) => d !== -1));
    const shape = known.map((d) => (d === -1 ? sizeOf(x.shape) / rest : d));
    return { shape, values: x.values };
  },
  Unsqueeze([x, axesInput], attribute) {
    const axes = (attribute('axes') as number[] | undefined) ?? Array.from(axesInput.values);
    const rank = x.shape.length + axes.length;
    const shape = [...x.shape];
    for (const axis of axes.map((a) => normalAxis(a, rank)).sort((a, b) => a - b))
      shape.splice(axis, 0, 1);
    return { shape, values: x.values };
  },
  Squeeze([x, axesInput], attribute) {
    const listed =
      (attribute('axes') as number[] | undefined) ?? Array.from(axesInput?.values ?? []);
    const axes = listed.map((a) => normalAxis(a, x.shape.length));
    const shape = x.shape.filter((d, axis) => (axes.length ? !axes.includes(axis) : d !== 1));
    return { shape, values: x.values };
  },
  Concat(inputs, attribute) {
    const rank = inputs[0].shape.length;
    const axis = normalAxis((attribute('axis') as number | undefined) ?? 0, rank);
    const shape = [...inputs[0].shape];
    shape[axis] = inputs.reduce((a, t) => a + t.shape[axis], 0);
    // Blocks of the axis and everything after it, input by input, for each index before the axis.
    const outer = sizeOf(shape.slice(0, axis));
    const values = new Float64Array(sizeOf(shape));
    let offset = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of inputs) {
        const block = sizeOf(t.shape.slice(axis));
        values.set(t.values.subarray(o * block, (o + 1) * block), offset);
        offset += block;
      }
    }
    return { shape, values };
  },
  Transpose([x], attribute) {
    const rank = x.shape.length;
    const perm = (attribute('perm') as number[] | undefined) ?? x.shape.map((_, i) => rank - 1 - i);
    const strides = stridesOf(x.shape);
    const shape = perm.map((p) => x.shape[p]);
    return gather(
      shape,
      (index) => index.reduce((a, v, i) => a + v * strides[perm[i]], 0),
      x.values,
    );
  },
  Slice([x, startsIn, endsIn, axesIn, stepsIn], attribute) {
    // Opset 10 and later: starts, ends, axes and steps are inputs; before, attributes.
    const list = (name: string, input: Constant | undefined) =>
      (attribute(name) as number[] | undefined) ?? (input ? Array.from(input.values) : undefined);
    const starts = list('starts', startsIn) ?? [];
    const ends = list('ends', endsIn) ?? [];
    const axes = list('axes', axesIn) ?? starts.map((_, i) => i);
    const steps = list('steps', stepsIn) ?? starts.map(() => 1);
    const rank = x.shape.length;
    const first = new Array<number>(rank).fill(0);
    const step = new Array<number>(rank).fill(1);
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const axis = normalAxis(a, rank);
      const dim = x.shape[axis];
      const s = steps[i];
      const clampTo = (v: number, low: number, high: number) => Math.max(low, Math.min(high, v));
      const resolve = (v: number) => (v < 0 ? v + dim : v);
      const start =
        s > 0 ? clampTo(resolve(starts[i]), 0, dim) : clampTo(resolve(starts[i]), -1, dim - 1);
      const end =
        s > 0 ? clampTo(resolve(ends[i]), 0, dim) : clampTo(resolve(ends[i]), -1, dim - 1);
      first[axis] = start;
      step[axis] = s;
      shape[axis] = Math.max(0, Math.ceil((end - start) / s));
    });
    const strides = stridesOf(x.shape);
    return gather(
      shape,
      (index) =>
        index.reduce((a, v, axis) => a + (first[axis] + v * step[axis]) * strides[axis], 0),
      x.values,
    );
  },
};

interface FoldableNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

/**
 * Evaluates, in graph order, every node of an operator above whose inputs are
 * all constants, adding its output to `constants` and turning the node into a
 * Constant (which the importer passes over).
 */
export function foldConstants(nodes: FoldableNode[], constants: Map<string, Constant>): void {
  for (const node of nodes) {
    const fold = FOLDS[node.op];
    if (!fold || node.outputs.length !== 1) continue;
    const inputs = node.inputs.map((name) => (name === '' ? undefined : constants.get(name)));
    if (inputs.some((c, i) => c === undefined && node.inputs[i] !== '')) continue;
    // Small, well-formed inputs only: every fold's result is then no larger than they are together
    // (ConstantOfShape's is checked before it is made).
    const wellFormed = (c: Constant | undefined) =>
      c === undefined ||
      (c.values.length <= MAX_FOLDED_VALUES && sizeOf(c.shape) === c.values.length);
    if (!inputs.every(wellFormed)) continue;
    const filled = node.op === 'ConstantOfShape' ? sizeOf(Array.from(inputs[0]?.values ?? [])) : 0;
    if (!(Number.isSafeInteger(filled) && filled >= 0 && filled <= MAX_FOLDED_VALUES)) continue;
    const result = fold(inputs as Constant[], (name) => node.attributes.get(name));
    if (!wellFormed(result)) continue;
    constants.set(node.outputs[0], result);
    node.op = 'Constant';
    node.inputs = [];
  }
}
