/**
 * Losses as PyTorch defines them, with their gradient in the same pass, and
 * the step's numbers for the host: metrics = [loss, correct rows, finite]
 * (finite is 1 when the loss is a finite number; the optimizer skips a step
 * whose loss is not, so a diverging step never reaches the weights).
 * One workgroup: batches are small next to the work of the network.
 */
import { type Kernel, WGSL_HELPERS } from '../kernel';

/** Floats of the metrics buffer. */
export const METRICS_FLOATS = 4;

const REDUCE = `
  total[lid] = lossPart;
  hits[lid] = hitPart;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half = half / 2u) {
    if (lid < half) {
      total[lid] = total[lid] + total[lid + half];
      hits[lid] = hits[lid] + hits[lid + half];
    }
    workgroupBarrier();
  }`;

/**
 * nn.CrossEntropyLoss on logits [rows, classes] with int labels: loss_r =
 * logsumexp(x_r) − x_r[label]; dlogits = (softmax − onehot)·scale (scale 1/rows
 * for the mean); correct when the first largest logit is the label (tfjs's argMax).
 */
export const CROSS_ENTROPY: Kernel = {
  key: 'cross-entropy',
  class: 'loss',
  params: [
    ['rows', 'u32'],
    ['classes', 'u32'],
    ['scale', 'f32'],
  ],
  storage: [
    { name: 'logits', access: 'read' },
    { name: 'labels', access: 'read', type: 'u32' },
    { name: 'dlogits', access: 'read_write' },
    { name: 'metrics', access: 'read_write' },
  ],
  body: `
${WGSL_HELPERS.finite}
var<workgroup> total: array<f32, 256>;
var<workgroup> hits: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var lossPart = 0.0;
  var hitPart = 0.0;
  for (var r = lid; r < p.rows; r = r + 256u) {
    let base = r * p.classes;
    let label = labels[r];
    var top = logits[base];
    var best = 0u;
    for (var c = 1u; c < p.classes; c = c + 1u) {
      let v = logits[base + c];
      if (v > top) { top = v; best = c; }
    }
    var sum = 0.0;
    for (var c = 0u; c < p.classes; c = c + 1u) { sum = sum + exp(logits[base + c] - top); }
    let lse = top + log(sum);
    var picked = 0.0;
    for (var c = 0u; c < p.classes; c = c + 1u) {
      let prob = exp(logits[base + c] - top) / sum;
      var onehot = 0.0;
      if (c == label) { onehot = 1.0; picked = logits[base + c]; }
      dlogits[base + c] = (prob - onehot) * p.scale;
    }
    lossPart = lossPart + (lse - picked);
    if (best == label) { hitPart = hitPart + 1.0; }
  }
  ${REDUCE}
  if (lid == 0u) {
    let loss = total[0] * p.scale;
    metrics[0] = loss;
    metrics[1] = hits[0];
    metrics[2] = select(0.0, 1.0, is_finite(loss));
  }
}`,
};

/** nn.MSELoss: loss = Σ(y − t)²·scale, dy = 2(y − t)·scale (scale 1/count for the mean). */
export const MEAN_SQUARED_ERROR: Kernel = {
  key: 'mse',
  class: 'loss',
  params: [
    ['count', 'u32'],
    ['scale', 'f32'],
  ],
  storage: [
    { name: 'y', access: 'read' },
    { name: 'targets', access: 'read' },
    { name: 'dy', access: 'read_write' },
    { name: 'metrics', access: 'read_write' },
  ],
  body: `
${WGSL_HELPERS.finite}
var<workgroup> total: array<f32, 256>;
var<workgroup> hits: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var lossPart = 0.0;
  let hitPart = 0.0;
  for (var i = lid; i < p.count; i = i + 256u) {
    let d = y[i] - targets[i];
    lossPart = lossPart + d * d;
    dy[i] = 2.0 * d * p.scale;
  }
  ${REDUCE}
  if (lid == 0u) {
    let loss = total[0] * p.scale;
    metrics[0] = loss;
    metrics[1] = 0.0;
    metrics[2] = select(0.0, 1.0, is_finite(loss));
  }
}`,
};

/**
 * Evaluation: summed cross-entropy and correct rows, added to metrics (the
 * validation loop runs it over several batches before one read).
 */
export const CROSS_ENTROPY_SUM: Kernel = {
  key: 'cross-entropy-sum',
  class: 'loss',
  params: [
    ['rows', 'u32'],
    ['classes', 'u32'],
  ],
  storage: [
    { name: 'logits', access: 'read' },
    { name: 'labels', access: 'read', type: 'u32' },
    { name: 'metrics', access: 'read_write' },
  ],
  body: `
var<workgroup> total: array<f32, 256>;
var<workgroup> hits: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var lossPart = 0.0;
  var hitPart = 0.0;
  for (var r = lid; r < p.rows; r = r + 256u) {
    let base = r * p.classes;
    let label = labels[r];
    var top = logits[base];
    var best = 0u;
    for (var c = 1u; c < p.classes; c = c + 1u) {
      let v = logits[base + c];
      if (v > top) { top = v; best = c; }
    }
    var sum = 0.0;
    var picked = 0.0;
    for (var c = 0u; c < p.classes; c = c + 1u) {
      sum = sum + exp(logits[base + c] - top);
      if (c == label) { picked = logits[base + c]; }
    }
    lossPart = lossPart + (top + log(sum) - picked);
    if (best == label) { hitPart = hitPart + 1.0; }
  }
  ${REDUCE}
  if (lid == 0u) {
    metrics[0] = metrics[0] + total[0];
    metrics[1] = metrics[1] + hits[0];
  }
}`,
};
