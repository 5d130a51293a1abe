/**
 * One-thread-per-element kernels: activations and their gradients, sums,
 * channel-slice copies (Concat, Add's gradient), Flatten's reordering,
 * ZeroPad2d, dropout, row softmax and the bilinear resize of the input pipeline.
 * Kernels that produce a gradient either write it (the first contribution)
 * or add to it (every later one), fixed when the step is planned.
 */
import { type Kernel, MAIN_1D, WGSL_HELPERS } from '../kernel';

export type GradWrite = 'write' | 'accumulate';

const assign = (mode: GradWrite) => (mode === 'accumulate' ? '+=' : '=');

export type ActivationKind = 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'leaky' | 'gelu' | 'gelu-tanh';

/**
 * Each activation: its forward expression in `x`, which value its gradient
 * needs (the output where it determines the slope, so the input can be
 * freed), and the slope expression in that saved value `s`.
 */
export const ACTIVATIONS: Record<
  ActivationKind,
  { forward: string; saves: 'input' | 'output'; slope: (saved: string) => string }
> = {
  relu: { forward: 'max(x, 0.0)', saves: 'output', slope: (s) => `select(0.0, 1.0, ${s} > 0.0)` },
  // PyTorch's hardtanh gradient: 1 strictly inside (0, 6), which the output shows as well as the input.
  relu6: {
    forward: 'clamp(x, 0.0, 6.0)',
    saves: 'output',
    slope: (s) => `select(0.0, 1.0, ${s} > 0.0 && ${s} < 6.0)`,
  },
  sigmoid: {
    forward: '1.0 / (1.0 + exp(-clamp(x, -88.0, 88.0)))',
    saves: 'output',
    slope: (s) => `${s} * (1.0 - ${s})`,
  },
  // tanh of a large argument is NaN on some drivers (exp overflow): clamp where it is ±1 anyway.
  tanh: {
    forward: 'tanh(clamp(x, -15.0, 15.0))',
    saves: 'output',
    slope: (s) => `1.0 - ${s} * ${s}`,
  },
  leaky: {
    forward: 'select(x * p.slope, x, x > 0.0)',
    saves: 'input',
    slope: (s) => `select(p.slope, 1.0, ${s} > 0.0)`,
  },
  gelu: {
    forward: '0.5 * x * (1.0 + erf_f32(x * 0.7071067811865476))',
    saves: 'input',
    slope: (s) =>
      `0.5 * (1.0 + erf_f32(${s} * 0.7071067811865476)) + ${s} * exp(-0.5 * ${s} * ${s}) * 0.3989422804014327`,
  },
  'gelu-tanh': {
    forward:
      '0.5 * x * (1.0 + tanh(clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0)))',
    saves: 'input',
    slope: (s) => `gelu_tanh_slope(${s})`,
  },
};

const GELU_TANH_SLOPE = `fn gelu_tanh_slope(x: f32) -> f32 {
  let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  let t = tanh(u);
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 0.134145 * x * x);
}`;

const ELEMENTWISE_PARAMS: [string, 'u32' | 'f32'][] = [
  ['count', 'u32'],
  ['slope', 'f32'],
];

export function activationForward(kind: ActivationKind): Kernel {
  return {
    key: `act-fwd:${kind}`,
    class: 'elementwise',
    params: ELEMENTWISE_PARAMS,
    storage: [
      { name: 'x_in', access: 'read' },
      { name: 'y_out', access: 'read_write' },
    ],
    body: `
${WGSL_HELPERS.erf}
${MAIN_1D}
  if (i >= p.count) { return; }
  let x = x_in[i];
  y_out[i] = ${ACTIVATIONS[kind].forward};
}`,
  };
}

export function activationBackward(kind: ActivationKind, mode: GradWrite): Kernel {
  return {
    key: `act-bwd:${kind}:${mode}`,
    class: 'elementwise',
    params: ELEMENTWISE_PARAMS,
    storage: [
      { name: 'dy', access: 'read' },
      { name: 'saved', access: 'read' },
      { name: 'dx', access: 'read_write' },
    ],
    body: `
${WGSL_HELPERS.erf}
${GELU_TANH_SLOPE}
${MAIN_1D}
  if (i >= p.count) { return; }
  let s = saved[i];
  dx[i] ${assign(mode)} dy[i] * (${ACTIVATIONS[kind].slope('s')});
}`,
  };
}

/** y = a + b (Add's first two inputs), then an activation when fused (a ReLU after a residual sum). */
export function add(activation?: ActivationKind): Kernel {
  return {
    key: `add${activation ? `:${activation}` : ''}`,
    class: 'elementwise',
    params: ELEMENTWISE_PARAMS,
    storage: [
      { name: 'a', access: 'read' },
      { name: 'b', access: 'read' },
      { name: 'y', access: 'read_write' },
    ],
    body: `
${WGSL_HELPERS.erf}
${MAIN_1D}
  if (i >= p.count) { return; }
  let x = a[i] + b[i];
  y[i] = ${activation ? ACTIVATIONS[activation].forward : 'x'};
}`,
  };
}

/**
 * Copies (or adds) a block of `width` channels per row between two row-major
 * matrices with their own channel counts and offsets: Concat's forward pass
 * and gradients, Add's third and later inputs, and Add's gradients.
 */
export function channelCopy(mode: GradWrite): Kernel {
  return {
    key: `channel-copy:${mode}`,
    class: 'layout',
    params: [
      ['count', 'u32'],
      ['width', 'u32'],
      ['srcChannels', 'u32'],
      ['srcOffset', 'u32'],
      ['dstChannels', 'u32'],
      ['dstOffset', 'u32'],
    ],
    storage: [
      { name: 'src', access: 'read' },
      { name: 'dst', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  let r = i / p.width;
  let c = i % p.width;
  dst[r * p.dstChannels + p.dstOffset + c] ${assign(mode)} src[r * p.srcChannels + p.srcOffset + c];
}`,
  };
}

/**
 * Flatten's reorder between NHWC [n, hw, c] and PyTorch's C,H,W order
 * [n, c, hw]: 'to-chw' (forward), 'to-hwc' (its gradient).
 */
export function flattenOrder(direction: 'to-chw' | 'to-hwc', mode: GradWrite): Kernel {
  const index =
    direction === 'to-chw'
      ? // output [n, c, hw] from input [n, hw, c]
        'let hw = i % p.hw; let t = i / p.hw; let c = t % p.c; let n = t / p.c; let src = (n * p.hw + hw) * p.c + c;'
      : // output [n, hw, c] from input [n, c, hw]
        'let c = i % p.c; let t = i / p.c; let hw = t % p.hw; let n = t / p.hw; let src = (n * p.c + c) * p.hw + hw;';
  return {
    key: `flatten:${direction}:${mode}`,
    class: 'layout',
    params: [
      ['count', 'u32'],
      ['hw', 'u32'],
      ['c', 'u32'],
    ],
    storage: [
      { name: 'src_in', access: 'read' },
      { name: 'dst', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  ${index}
  dst[i] ${assign(mode)} src_in[src];
}`,
  };
}

/**
 * Dropout: element i is kept when a hash of (step, layer, i) is at least p,
 * and scaled by 1/(1−p); Dropout2d hashes the (sample, channel) pair instead,
 * so a whole map is kept or dropped. The gradient recomputes the same mask,
 * so nothing is stored. (A stream of its own: not tfjs's dropout numbers.)
 */
export function dropout(
  direction: 'forward' | 'backward',
  mode: GradWrite = 'write',
  unit: 'element' | 'channel' = 'element',
): Kernel {
  // NHWC: a sample is `plane` values, its channel is the last axis.
  const key = unit === 'channel' ? '(i / p.plane) * p.channels + i % p.channels' : 'i';
  return {
    key: `dropout:${unit}:${direction}:${mode}`,
    class: 'elementwise',
    params: [
      ['count', 'u32'],
      ['rate', 'f32'],
      ['scale', 'f32'],
      ['salt', 'u32'],
      ['plane', 'u32'],
      ['channels', 'u32'],
    ],
    usesStep: true,
    storage: [
      { name: 'src', access: 'read' },
      { name: 'dst', access: 'read_write' },
    ],
    body: `
${WGSL_HELPERS.hash}
${MAIN_1D}
  if (i >= p.count) { return; }
  let stream = hash_u32(step.seed ^ hash_u32(p.salt ^ hash_u32(step.index)));
  let u = f32(hash_u32((${key}) ^ stream) >> 8u) * (1.0 / 16777216.0);
  let keep = select(0.0, p.scale, u >= p.rate);
  dst[i] ${direction === 'forward' ? '=' : assign(mode)} src[i] * keep;
}`,
  };
}

/**
 * ZeroPad2d over NHWC maps: forward writes the padded map (zeros outside the
 * input), backward takes the input's part of the padded gradient.
 */
export function zeroPad(direction: 'forward' | 'backward', mode: GradWrite = 'write'): Kernel {
  const body =
    direction === 'forward'
      ? `  // i indexes the padded output [n, outH, outW, C].
  let c = i % p.C; let t = i / p.C; let ow = t % p.outW; let t2 = t / p.outW;
  let oh = t2 % p.outH; let n = t2 / p.outH;
  let h = i32(oh) - i32(p.top); let w = i32(ow) - i32(p.left);
  var v = 0.0;
  if (h >= 0 && h < i32(p.H) && w >= 0 && w < i32(p.W)) {
    v = src[((n * p.H + u32(h)) * p.W + u32(w)) * p.C + c];
  }
  dst[i] = v;`
      : `  // i indexes the input [n, H, W, C]; src is the padded gradient.
  let c = i % p.C; let t = i / p.C; let w = t % p.W; let t2 = t / p.W;
  let h = t2 % p.H; let n = t2 / p.H;
  dst[i] ${assign(mode)} src[((n * p.outH + h + p.top) * p.outW + w + p.left) * p.C + c];`;
  return {
    key: `zero-pad:${direction}:${mode}`,
    class: 'layout',
    params: [
      ['count', 'u32'],
      ['C', 'u32'],
      ['H', 'u32'],
      ['W', 'u32'],
      ['outH', 'u32'],
      ['outW', 'u32'],
      ['top', 'u32'],
      ['left', 'u32'],
    ],
    storage: [
      { name: 'src', access: 'read' },
      { name: 'dst', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
${body}
}`,
  };
}

/** Softmax over the last axis (PyTorch's dim=1 of N×C or N×C×H×W), one thread per row. */
export const SOFTMAX_FORWARD: Kernel = {
  key: 'softmax-fwd',
  class: 'elementwise',
  params: [
    ['rows', 'u32'],
    ['C', 'u32'],
  ],
  storage: [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ],
  body: `
${MAIN_1D}
  if (i >= p.rows) { return; }
  let base = i * p.C;
  var top = x[base];
  for (var c = 1u; c < p.C; c = c + 1u) { top = max(top, x[base + c]); }
  var total = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { total = total + exp(x[base + c] - top); }
  for (var c = 0u; c < p.C; c = c + 1u) { y[base + c] = exp(x[base + c] - top) / total; }
}`,
};

/** dx = y ⊙ (dy − Σ dy·y) per row. */
export function softmaxBackward(mode: GradWrite): Kernel {
  return {
    key: `softmax-bwd:${mode}`,
    class: 'elementwise',
    params: [
      ['rows', 'u32'],
      ['C', 'u32'],
    ],
    storage: [
      { name: 'dy', access: 'read' },
      { name: 'y', access: 'read' },
      { name: 'dx', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.rows) { return; }
  let base = i * p.C;
  var dot = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { dot = dot + dy[base + c] * y[base + c]; }
  for (var c = 0u; c < p.C; c = c + 1u) {
    dx[base + c] ${assign(mode)} y[base + c] * (dy[base + c] - dot);
  }
}`,
  };
}

/**
 * Bilinear resize of NHWC images as PyTorch's F.interpolate(mode='bilinear',
 * align_corners=False) computes it (tfjs's resizeBilinear with halfPixelCenters):
 * source = (destination + ½) · in/out − ½, clamped at 0.
 */
export const RESIZE_BILINEAR: Kernel = {
  key: 'resize-bilinear',
  class: 'layout',
  params: [
    ['count', 'u32'],
    ['inH', 'u32'],
    ['inW', 'u32'],
    ['outH', 'u32'],
    ['outW', 'u32'],
    ['C', 'u32'],
    ['ratioH', 'f32'],
    ['ratioW', 'f32'],
  ],
  storage: [
    { name: 'src', access: 'read' },
    { name: 'dst', access: 'read_write' },
  ],
  body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  let c = i % p.C; let t = i / p.C; let ox = t % p.outW; let t2 = t / p.outW;
  let oy = t2 % p.outH; let n = t2 / p.outH;
  let fy = max(0.0, p.ratioH * (f32(oy) + 0.5) - 0.5);
  let fx = max(0.0, p.ratioW * (f32(ox) + 0.5) - 0.5);
  let y0 = min(p.inH - 1u, u32(floor(fy))); let x0 = min(p.inW - 1u, u32(floor(fx)));
  let y1 = min(p.inH - 1u, y0 + 1u); let x1 = min(p.inW - 1u, x0 + 1u);
  let dy = fy - f32(y0); let dx = fx - f32(x0);
  let row0 = (n * p.inH + y0) * p.inW; let row1 = (n * p.inH + y1) * p.inW;
  let tl = src[(row0 + x0) * p.C + c]; let tr = src[(row0 + x1) * p.C + c];
  let bl = src[(row1 + x0) * p.C + c]; let br = src[(row1 + x1) * p.C + c];
  let top = tl + (tr - tl) * dx;
  let bottom = bl + (br - bl) * dx;
  dst[i] = top + (bottom - top) * dy;
}`,
};
