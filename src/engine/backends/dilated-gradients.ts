/**
 * tfjs-core's gradients of Conv2D and DepthwiseConv2dNative refuse dilation
 * > 1 ("not yet supported"), so a dilated convolution could not train on any
 * backend. These replacements keep tfjs's own gradient for undilated
 * convolutions and use the composites of composite-gradients.ts (ordinary
 * ops, any backend) for dilated ones.
 */

import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvGeometry,
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
} from './composite-gradients';

function dilated(attrs: NamedAttrMap): boolean {
  const d = attrs.dilations as number | [number, number] | undefined;
  if (d == null) return false;
  return typeof d === 'number' ? d > 1 : d[0] > 1 || d[1] > 1;
}

function withDilatedCase(
  kernelName: string,
  inputGradient: typeof conv2dInputGradient,
  filterGradient: typeof conv2dFilterGradient,
): GradConfig | null {
  const original = tf.getGradient(kernelName);
  if (original == null) return null;
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      if (!dilated(attrs)) return original.gradFunc(dy, saved, attrs);
      if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') {
        throw new Error(`The gradient of a dilated ${kernelName} supports NHWC only.`);
      }
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const geometry = attrs as unknown as ConvGeometry;
      return {
        x: () => inputGradient(x.shape, dy as tf.Tensor4D, filter, geometry),
        filter: () => filterGradient(x, dy as tf.Tensor4D, filter.shape, geometry),
      };
    },
  };
}

let registered = false;

/** Makes dilated Conv2D and DepthwiseConv2dNative differentiable (once; needs tfjs's gradients registered). */
export function registerDilatedConvolutionGradients(): void {
  if (registered) return;
  const configs = [
    withDilatedCase(tf.Conv2D, conv2dInputGradient, conv2dFilterGradient),
    withDilatedCase(tf.DepthwiseConv2dNative, depthwiseInputGradient, depthwiseFilterGradient),
  ];
  if (configs.some((c) => c == null)) {
    throw new Error(
      "tfjs's convolution gradients are not registered: import '@tensorflow/tfjs-layers' (or tfjs-core's register_all_gradients) first.",
    );
  }
  for (const config of configs) tf.registerGradient(config!);
  registered = true;
}
