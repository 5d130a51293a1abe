/**
 * tfjs on its pure-JS `cpu` backend for tests (the same on every machine).
 * tfjs-core alone registers no gradients; tfjs-layers' bundle registers them all.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';

export async function cpuTf(): Promise<typeof tf> {
  if (tf.getBackend() !== 'cpu') {
    const ok = await tf.setBackend('cpu');
    if (!ok) throw new Error('the tfjs cpu backend failed to start');
  }
  return tf;
}
