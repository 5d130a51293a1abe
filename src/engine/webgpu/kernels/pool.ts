/**
 * Pooling with PyTorch's semantics, forward and backward, one thread per
 * output (forward) or per input element (backward: it gathers from the
 * windows that cover it, so overlapping windows need no atomics).
 * - max: padding never wins; the first maximum of a window (row-major) is
 *   kept as its index, and its gradient goes there (ties to the first, as
 *   PyTorch and tfjs do).
 * - average: padded zeros count (count_include_pad); a ceil_mode window
 *   running past the padded input divides by what it covers.
 * - adaptive average: window i spans [⌊i·in/out⌋, ⌈(i+1)·in/out⌉).
 */
import { type Kernel, MAIN_1D } from '../kernel';
import type { GradWrite } from './elementwise';

export const POOL_PARAMS: [string, 'u32'][] = [
  ['count', 'u32'],
  ['C', 'u32'],
  ['ih', 'u32'],
  ['iw', 'u32'],
  ['oh', 'u32'],
  ['ow', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['sh', 'u32'],
  ['sw', 'u32'],
  ['ph', 'u32'],
  ['pw', 'u32'],
];

const DECODE_OUT =
  'let c = i % p.C; let t = i / p.C; let ox = t % p.ow; let t2 = t / p.ow; let oy = t2 % p.oh; let n = t2 / p.oh;';
const DECODE_IN =
  'let c = i % p.C; let t = i / p.C; let x = t % p.iw; let t2 = t / p.iw; let y = t2 % p.ih; let n = t2 / p.ih;';

/** Windows [lo, hi] along one axis whose span (start o·s − pad, length k) covers position v. */
const COVERING = (v: string, k: string, s: string, pad: string, out: string, name: string) => `
  let ${name}Pos = ${v} + p.${pad};
  var ${name}Lo = 0u;
  if (${name}Pos + 1u > p.${k}) { ${name}Lo = (${name}Pos + 1u - p.${k} + p.${s} - 1u) / p.${s}; }
  let ${name}Hi = min(${name}Pos / p.${s}, p.${out} - 1u);`;

/** Max pooling: the maximum and the index (y·W + x) it came from. */
export const MAX_POOL_FORWARD: Kernel = {
  key: 'maxpool-fwd',
  class: 'pooling',
  params: POOL_PARAMS,
  storage: [
    { name: 'x_in', access: 'read' },
    { name: 'y_out', access: 'read_write' },
    { name: 'argmax', access: 'read_write', type: 'u32' },
  ],
  body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  ${DECODE_OUT}
  var best = 0.0;
  var found = 0xffffffffu;
  for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    if (iy < 0 || iy >= i32(p.ih)) { continue; }
    for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
      let ix = i32(ox * p.sw + kx) - i32(p.pw);
      if (ix < 0 || ix >= i32(p.iw)) { continue; }
      let at = u32(iy) * p.iw + u32(ix);
      let v = x_in[(n * p.ih * p.iw + at) * p.C + c];
      if (found == 0xffffffffu || v > best) { best = v; found = at; }
    }
  }
  y_out[i] = best;
  argmax[i] = found;
}`,
};

export function maxPoolBackward(mode: GradWrite): Kernel {
  return {
    key: `maxpool-bwd:${mode}`,
    class: 'pooling',
    params: POOL_PARAMS,
    storage: [
      { name: 'dy', access: 'read' },
      { name: 'argmax', access: 'read', type: 'u32' },
      { name: 'dx', access: 'read_write' },
    ],
    body: `
${MAIN_1D}
  if (i >= p.count) { return; }
  ${DECODE_IN}
  ${COVERING('y', 'kh', 'sh', 'ph', 'oh', 'r')}
  ${COVERING('x', 'kw', 'sw', 'pw', 'ow', 'q')}
  let me = y * p.iw + x;
  var g = 0.0;
  for (var oy = rLo; oy <= rHi; oy = oy + 1u) {
    for (var ox = qLo; ox <= qHi; ox = ox + 1u) {
      let o = ((n * p.oh + oy) * p.ow + ox) * p.C + c;
      if (argmax[o] == me) { g = g + dy[o]; }
    }
  }
  dx[i] ${mode === 'accumulate' ? '+=' : '='} g;
}`,
  };
}

/** The divisor of average window (oy, ox): positions inside input + padding. */
const AVG_DIVISOR = `fn divisor(oy: u32, ox: u32) -> f32 {
  let y0 = oy * p.sh; let x0 = ox * p.sw;
  let y1 = min(y0 + p.kh, p.ih + 2u * p.ph); let x1 = min(x0 + p.kw, p.iw + 2u * p.pw);
  return f32((y1 - y0) * (x1 - x0));
}`;

export const AVG_POOL_FORWARD: Kernel = {
  key: 'avgpool-fwd',
  class: 'pooling',
  params: POOL_PARAMS,
  storage: [
    { name: 'x_in', access: 'read' },
    { name: 'y_out', access: 'read_write' },
  ],
  body: `
${AVG_DIVISOR}
${MAIN_1D}
  if (i >= p.count) { return; }
  ${DECODE_OUT}
  var s = 0.0;
  for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    if (iy < 0 || iy >= i32(p.ih)) { continue; }
    for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
      let ix = i32(ox * p.sw + kx) - i32(p.pw);
      if (ix < 0 || ix >= i32(p.iw)) { continue; }
      s = s + x_in[((n * p.ih + u32(iy)) * p.iw + u32(ix)) * p.C + c];
    }
  }
  y_out[i] = s / divisor(oy, ox);
}`,
};

export function avgPoolBackward(mode: GradWrite): Kernel {
  return {
    key: `avgpool-bwd:${mode}`,
    class: 'pooling',
    params: POOL_PARAMS,
    storage: [
      { name: 'dy', access: 'read' },
      { name: 'dx', access: 'read_write' },
    ],
    body: `
${AVG_DIVISOR}
${MAIN_1D}
  if (i >= p.count) { return; }
  ${DECODE_IN}
  ${COVERING('y', 'kh', 'sh', 'ph', 'oh', 'r')}
  ${COVERING('x', 'kw', 'sw', 'pw', 'ow', 'q')}
  var g = 0.0;
  for (var oy = rLo; oy <= rHi; oy = oy + 1u) {
    for (var ox = qLo; ox <= qHi; ox = ox + 1u) {
      g = g + dy[((n * p.oh + oy) * p.ow + ox) * p.C + c] / divisor(oy, ox);
    }
  }
  dx[i] ${mode === 'accumulate' ? '+=' : '='} g;
}`,
  };
}

const ADAPTIVE_PARAMS: [string, 'u32'][] = [
  ['count', 'u32'],
  ['C', 'u32'],
  ['ih', 'u32'],
  ['iw', 'u32'],
  ['oh', 'u32'],
  ['ow', 'u32'],
];

const ADAPTIVE_SPAN = `fn span(o: u32, size: u32, out: u32) -> vec2u {
  return vec2u((o * size) / out, ((o + 1u) * size + out - 1u) / out);
}`;

export const ADAPTIVE_POOL_FORWARD: Kernel = {
  key: 'adaptive-avgpool-fwd',
  class: 'pooling',
  params: ADAPTIVE_PARAMS,
  storage: [
    { name: 'x_in', access: 'read' },
    { name: 'y_out', access: 'read_write' },
  ],
  body: `
${ADAPTIVE_SPAN}
${MAIN_1D}
  if (i >= p.count) { return; }
  ${DECODE_OUT}
  let ys = span(oy, p.ih, p.oh);
  let xs = span(ox, p.iw, p.ow);
  var s = 0.0;
  for (var y = ys.x; y < ys.y; y = y + 1u) {
    for (var x = xs.x; x < xs.y; x = x + 1u) {
      s = s + x_in[((n * p.ih + y) * p.iw + x) * p.C + c];
    }
  }
  y_out[i] = s / f32((ys.y - ys.x) * (xs.y - xs.x));
}`,
};

export function adaptivePoolBackward(mode: GradWrite): Kernel {
  return {
    key: `adaptive-avgpool-bwd:${mode}`,
    class: 'pooling',
    params: ADAPTIVE_PARAMS,
    storage: [
      { name: 'dy', access: 'read' },
      { name: 'dx', access: 'read_write' },
    ],
    body: `
${ADAPTIVE_SPAN}
${MAIN_1D}
  if (i >= p.count) { return; }
  ${DECODE_IN}
  // Windows containing y: from ⌊y·out/in⌋ to ⌈(y+1)·out/in⌉ − 1.
  let yLo = (y * p.oh) / p.ih;
  let yHi = min(((y + 1u) * p.oh + p.ih - 1u) / p.ih, p.oh) - 1u;
  let xLo = (x * p.ow) / p.iw;
  let xHi = min(((x + 1u) * p.ow + p.iw - 1u) / p.iw, p.ow) - 1u;
  var g = 0.0;
  for (var oy = yLo; oy <= yHi; oy = oy + 1u) {
    let ys = span(oy, p.ih, p.oh);
    for (var ox = xLo; ox <= xHi; ox = ox + 1u) {
      let xs = span(ox, p.iw, p.ow);
      g = g + dy[((n * p.oh + oy) * p.ow + ox) * p.C + c] / f32((ys.y - ys.x) * (xs.y - xs.x));
    }
  }
  dx[i] ${mode === 'accumulate' ? '+=' : '='} g;
}`,
  };
}
