/**
 * The per-layer statistics a training step reports every N batches
 * (layer-stats.ts): computed on the GPU from the very buffers of the step.
 */
import type { Kernel } from '../kernel';

/**
 * Layer statistics of one value: [count, mean, M2, zeros, saturated] at
 * `slot`·5 of the stats buffer (one workgroup; Welford per thread, Chan's
 * combination across threads). kind 1 counts exact zeros (ReLU), 2 sigmoid
 * outputs within the margin of 0 or 1, 3 tanh outputs within it of ±1.
 */
export const LAYER_STATISTICS: Kernel = {
  key: 'layer-stats',
  class: 'statistics',
  params: [
    ['count', 'u32'],
    ['slot', 'u32'],
    ['kind', 'u32'],
    ['margin', 'f32'],
  ],
  storage: [
    { name: 'x', access: 'read' },
    { name: 'stats', access: 'read_write' },
  ],
  body: `
var<workgroup> sh: array<f32, 1280>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var n = 0.0; var mean = 0.0; var m2 = 0.0; var zeros = 0.0; var saturated = 0.0;
  for (var i = lid; i < p.count; i = i + 256u) {
    let v = x[i];
    n = n + 1.0; let d = v - mean; mean = mean + d / n; m2 = m2 + d * (v - mean);
    if (p.kind == 1u && v == 0.0) { zeros = zeros + 1.0; }
    if (p.kind == 2u && (v < p.margin || v > 1.0 - p.margin)) { saturated = saturated + 1.0; }
    if (p.kind == 3u && abs(v) > 1.0 - p.margin) { saturated = saturated + 1.0; }
  }
  let s = lid * 5u;
  sh[s] = n; sh[s + 1u] = mean; sh[s + 2u] = m2; sh[s + 3u] = zeros; sh[s + 4u] = saturated;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) {
      let o = (lid + half) * 5u;
      let na = sh[s]; let nb = sh[o]; let nn = na + nb;
      if (nn > 0.0) {
        let d = sh[o + 1u] - sh[s + 1u];
        sh[s + 2u] = sh[s + 2u] + sh[o + 2u] + d * d * na * nb / nn;
        sh[s + 1u] = sh[s + 1u] + d * nb / nn;
        sh[s] = nn;
      }
      sh[s + 3u] = sh[s + 3u] + sh[o + 3u];
      sh[s + 4u] = sh[s + 4u] + sh[o + 4u];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    for (var j = 0u; j < 5u; j = j + 1u) { stats[p.slot * 5u + j] = sh[j]; }
  }
}`,
};
