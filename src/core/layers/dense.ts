/** Linear (fully connected) with PyTorch's weight layout [out_features, in_features]. */
import { expectVector } from '../shape';
import { bool, int } from './fields';
import { defineLayer } from './types';

type Tensor2D = import('@tensorflow/tfjs-core').Tensor2D;

export const Linear = defineLayer({
  type: 'Linear',
  label: 'Linear',
  category: 'dense',
  description:
    'Fully connected: every output is a weighted sum of all inputs; in_features is inferred.',
  inputs: { min: 1, max: 1 },
  idStem: 'fc',
  learnsKernels: true,
  fields: {
    out_features: int({ default: 10, min: 1, help: 'Number of outputs (10 for the 10 classes).' }),
    bias: bool({ default: true, help: 'Add a learned bias per output.' }),
  },
  infer([input], p) {
    const [n, f] = expectVector(input, 'Linear');
    return { output: [n, p.out_features], macs: n * f * p.out_features };
  },
  weights([input], p) {
    const fanIn = input[1];
    const fanOut = p.out_features;
    return [
      {
        name: 'weight',
        shape: [p.out_features, fanIn],
        trainable: true,
        init: { role: 'kernel', fanIn, fanOut },
      },
      ...(p.bias
        ? [
            {
              name: 'bias',
              shape: [p.out_features],
              trainable: true,
              init: { role: 'bias' as const, fanIn, fanOut },
            },
          ]
        : []),
    ];
  },
  forward(ctx, [x], p) {
    const { tf } = ctx;
    // y = x·Wᵀ: matMul's transposeB reads PyTorch's [out, in] layout without copying it.
    // The bias is added separately: tfjs-backend-wasm 4.22's fused matMul gets
    // transposeB together with a bias wrong (test/parity/backends-layers.test.ts).
    const y = tf.matMul(x as Tensor2D, ctx.weight('weight') as Tensor2D, false, true);
    return p.bias ? tf.add(y, ctx.weight('bias')) : y;
  },
  explain([input], p) {
    if (input?.length !== 2) return [];
    return [
      `y = x·Wᵀ${p.bias ? ' + b' : ''}, W is ${p.out_features}×${input[1]} (out_features × in_features)`,
    ];
  },
});
