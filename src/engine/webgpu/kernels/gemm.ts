/**
 * Convolution (and Linear, a 1×1 convolution of a 1×1 map) as tiled
 * implicit GEMM: the im2col matrix is never materialised, each tile of it is
 * gathered from the NHWC activation straight into workgroup memory.
 *
 * - forward:         Y[m=(n,oy,ox), co]   = Σ_k X(m, k=(ky,kx,ci)) · W(k, co)      (+ bias)
 * - input gradient:  dX[m=(n,y,x), ci]    = Σ_k dY(m, k=(ky,kx,co)) · W(k, ci)      (dY gathered
 *   where (y + pad − ky·dil) is a multiple of the stride: a transposed convolution)
 * - weight gradient: dW[co, (ky,kx,ci)]   = Σ_k dY(k=(n,oy,ox), co) · X(k, (ky,kx,ci))
 *   split over k into partial sums when the output is small (LeNet: 6×25 outputs, 100k terms).
 *
 * Groups run as the z dimension of the dispatch (with the weight gradient's
 * splits). Weights stay in PyTorch's [out, in/groups, kh, kw] layout.
 */
import { grid1d, type Kernel, WGSL_HELPERS } from '../kernel';
import { ACTIVATIONS, type ActivationKind } from './elementwise';

export type GemmRole = 'forward' | 'input-grad' | 'weight-grad';

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  groups: number;
}

/** A tile: BM×BN outputs per workgroup of 256 threads, 4×4 per thread, BK deep. */
export interface Tile {
  bm: number;
  bn: number;
  bk: number;
}

const TILES: Tile[] = [
  { bm: 64, bn: 64, bk: 16 },
  { bm: 128, bn: 32, bk: 16 },
  { bm: 32, bn: 128, bk: 16 },
  { bm: 256, bn: 16, bk: 8 },
  { bm: 16, bn: 256, bk: 8 },
];

/** The tile wasting least on padding (ties: the squarest, listed first). */
export function chooseTile(m: number, n: number): Tile {
  let best = TILES[0];
  let bestWaste = Number.POSITIVE_INFINITY;
  for (const t of TILES) {
    const waste = Math.ceil(m / t.bm) * t.bm * Math.ceil(n / t.bn) * t.bn;
    if (waste < bestWaste) {
      best = t;
      bestWaste = waste;
    }
  }
  return best;
}

export const GEMM_PARAMS: [string, 'u32'][] = [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['kChunk', 'u32'],
  ['groups', 'u32'],
  ['splitStride', 'u32'],
  ['batch', 'u32'],
  ['ih', 'u32'],
  ['iw', 'u32'],
  ['cin', 'u32'],
  ['oh', 'u32'],
  ['ow', 'u32'],
  ['cout', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['sh', 'u32'],
  ['sw', 'u32'],
  ['dh', 'u32'],
  ['dw', 'u32'],
  ['pt', 'u32'],
  ['pl', 'u32'],
  ['cig', 'u32'],
  ['cog', 'u32'],
];

/** The GEMM sizes of a role: M×N outputs per group, K terms each. */
export function gemmSizes(role: GemmRole, g: ConvGeometry): { m: number; n: number; k: number } {
  const cig = g.inC / g.groups;
  const cog = g.outC / g.groups;
  const taps = g.kernelH * g.kernelW;
  switch (role) {
    case 'forward':
      return { m: g.batch * g.outH * g.outW, n: cog, k: taps * cig };
    case 'input-grad':
      return { m: g.batch * g.inH * g.inW, n: cig, k: taps * cog };
    case 'weight-grad':
      return { m: cog, n: taps * cig, k: g.batch * g.outH * g.outW };
  }
}

/** Decodes a tap index k = (ky, kx, c) with `c` channels innermost. */
const TAP = (k: string, channels: string) =>
  `let c_ = ${k} % ${channels}; let t_ = ${k} / ${channels}; let kx = t_ % p.kw; let ky = t_ / p.kw;`;

/** Per role: gathers of A(m, k) and B(k, n), the store of C(m, n), and which index is contiguous. */
function roleCode(
  role: GemmRole,
  opts: {
    bias: boolean;
    accumulate: boolean;
    activation?: ActivationKind;
    split: boolean;
    pointwise: boolean;
  },
) {
  const assign = opts.accumulate ? '+=' : '=';
  const activate = opts.activation ? ACTIVATIONS[opts.activation].forward : 'x';
  // Split over k: each part writes its raw sum; splitSum adds them up and finishes.
  const partial = (index: string) =>
    `fn store(m: u32, n: u32, g: u32, split: u32, v: f32) {
  out[split * p.splitStride + ${index}] = v;
}`;
  if (opts.pointwise) return pointwiseCode(role, { ...opts, assign, activate, partial });
  switch (role) {
    case 'forward':
      return {
        aContiguous: 'k' as const,
        bContiguous: 'k' as const,
        loadA: `fn loadA(m: u32, k: u32, g: u32) -> f32 {
  ${TAP('k', 'p.cig')}
  let ox = m % p.ow; let t2 = m / p.ow; let oy = t2 % p.oh; let b = t2 / p.oh;
  let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
  let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
  if (iy < 0 || ix < 0 || iy >= i32(p.ih) || ix >= i32(p.iw)) { return 0.0; }
  return a_in[((b * p.ih + u32(iy)) * p.iw + u32(ix)) * p.cin + g * p.cig + c_];
}`,
        loadB: `fn loadB(k: u32, n: u32, g: u32) -> f32 {
  ${TAP('k', 'p.cig')}
  return b_in[(((g * p.cog + n) * p.cig + c_) * p.kh + ky) * p.kw + kx];
}`,
        store: opts.split
          ? partial('m * p.cout + g * p.cog + n')
          : `fn store(m: u32, n: u32, g: u32, split: u32, v: f32) {
  let c = g * p.cog + n;
  let x = v${opts.bias ? ' + bias[c]' : ''};
  out[m * p.cout + c] ${assign} ${activate};
}`,
      };
    case 'input-grad':
      return {
        aContiguous: 'k' as const,
        bContiguous: 'k' as const,
        loadA: `fn loadA(m: u32, k: u32, g: u32) -> f32 {
  ${TAP('k', 'p.cog')}
  let x = m % p.iw; let t2 = m / p.iw; let y = t2 % p.ih; let b = t2 / p.ih;
  let ty = i32(y + p.pt) - i32(ky * p.dh);
  let tx = i32(x + p.pl) - i32(kx * p.dw);
  if (ty < 0 || tx < 0) { return 0.0; }
  let uy = u32(ty); let ux = u32(tx);
  if (uy % p.sh != 0u || ux % p.sw != 0u) { return 0.0; }
  let oy = uy / p.sh; let ox = ux / p.sw;
  if (oy >= p.oh || ox >= p.ow) { return 0.0; }
  return a_in[((b * p.oh + oy) * p.ow + ox) * p.cout + g * p.cog + c_];
}`,
        loadB: `fn loadB(k: u32, n: u32, g: u32) -> f32 {
  ${TAP('k', 'p.cog')}
  return b_in[(((g * p.cog + c_) * p.cig + n) * p.kh + ky) * p.kw + kx];
}`,
        store: opts.split
          ? partial('m * p.cin + g * p.cig + n')
          : `fn store(m: u32, n: u32, g: u32, split: u32, v: f32) {
  out[m * p.cin + g * p.cig + n] ${assign} v;
}`,
      };
    case 'weight-grad':
      return {
        aContiguous: 'm' as const,
        bContiguous: 'n' as const,
        loadA: `fn loadA(m: u32, k: u32, g: u32) -> f32 {
  return a_in[k * p.cout + g * p.cog + m];
}`,
        loadB: `fn loadB(k: u32, n: u32, g: u32) -> f32 {
  ${TAP('n', 'p.cig')}
  let ox = k % p.ow; let t2 = k / p.ow; let oy = t2 % p.oh; let b = t2 / p.oh;
  let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
  let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
  if (iy < 0 || ix < 0 || iy >= i32(p.ih) || ix >= i32(p.iw)) { return 0.0; }
  return b_in[((b * p.ih + u32(iy)) * p.iw + u32(ix)) * p.cin + g * p.cig + c_];
}`,
        store: `fn store(m: u32, n: u32, g: u32, split: u32, v: f32) {
  ${TAP('n', 'p.cig')}
  out[split * p.splitStride + (((g * p.cog + m) * p.cig + c_) * p.kh + ky) * p.kw + kx] = v;
}`,
      };
  }
}

export interface GemmOptions {
  /** Forward: add the bias. */
  bias?: boolean;
  /** Forward: apply this activation (a layer followed only by a ReLU, sigmoid or tanh). */
  activation?: ActivationKind;
  /** Input gradient: add to what is there. */
  accumulate?: boolean;
}

/**
 * A pointwise layer (Linear; a 1×1 convolution with stride 1, no padding, one
 * group) is a plain matrix product of rows of channels: the gathers need no
 * index arithmetic. Weights [out, in].
 */
function pointwiseCode(
  role: GemmRole,
  o: {
    bias: boolean;
    split: boolean;
    assign: string;
    activate: string;
    partial: (index: string) => string;
  },
) {
  const store = (index: string, finish: string) =>
    o.split
      ? o.partial(index)
      : `fn store(m: u32, n: u32, g: u32, split: u32, v: f32) {
  ${finish}
}`;
  switch (role) {
    case 'forward':
      return {
        aContiguous: 'k' as const,
        bContiguous: 'k' as const,
        loadA: 'fn loadA(m: u32, k: u32, g: u32) -> f32 { return a_in[m * p.cin + k]; }',
        loadB: 'fn loadB(k: u32, n: u32, g: u32) -> f32 { return b_in[n * p.cin + k]; }',
        store: store(
          'm * p.cout + n',
          `let x = v${o.bias ? ' + bias[n]' : ''};
  out[m * p.cout + n] ${o.assign} ${o.activate};`,
        ),
      };
    case 'input-grad':
      return {
        aContiguous: 'k' as const,
        bContiguous: 'other' as const,
        loadA: 'fn loadA(m: u32, k: u32, g: u32) -> f32 { return a_in[m * p.cout + k]; }',
        loadB: 'fn loadB(k: u32, n: u32, g: u32) -> f32 { return b_in[k * p.cin + n]; }',
        store: store('m * p.cin + n', `out[m * p.cin + n] ${o.assign} v;`),
      };
    case 'weight-grad':
      return {
        aContiguous: 'm' as const,
        bContiguous: 'n' as const,
        loadA: 'fn loadA(m: u32, k: u32, g: u32) -> f32 { return a_in[k * p.cout + m]; }',
        loadB: 'fn loadB(k: u32, n: u32, g: u32) -> f32 { return b_in[k * p.cin + n]; }',
        store: `fn store(m: u32, n: u32, g: u32, split: u32, v: f32) {
  out[split * p.splitStride + m * p.cin + n] = v;
}`,
      };
  }
}

/** Linear, or a 1×1 convolution that is one (stride 1, no padding, one group). */
export function isPointwise(g: ConvGeometry): boolean {
  return (
    g.kernelH === 1 &&
    g.kernelW === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.groups === 1
  );
}

/**
 * The GEMM kernel of a role and tile. With `split`, each part of the k range
 * writes its raw sum (bias, activation and accumulation move to splitSum).
 */
export function gemmKernel(
  role: GemmRole,
  tile: Tile,
  opts: GemmOptions,
  split = false,
  pointwise = false,
): Kernel {
  const bias = opts.bias === true && !split;
  const accumulate = opts.accumulate === true && !split;
  const activation = split ? undefined : opts.activation;
  const code = roleCode(role, { bias, accumulate, activation, split, pointwise });
  const { bm, bn, bk } = tile;
  const wx = bn / 4;
  const wy = bm / 4;
  // Tile loads: consecutive threads read consecutive addresses of the operand.
  const tileLoad = (name: 'A' | 'B', rows: number, contiguous: 'k' | 'other') => {
    const size = rows * bk;
    const decode =
      contiguous === 'k'
        ? `let kk = e % ${bk}u; let rr = e / ${bk}u;`
        : `let rr = e % ${rows}u; let kk = e / ${rows}u;`;
    const origin = name === 'A' ? 'm0' : 'n0';
    const limit = name === 'A' ? 'p.M' : 'p.N';
    const call = name === 'A' ? 'loadA(row, k, g)' : 'loadB(k, row, g)';
    return `for (var e = li; e < ${size}u; e = e + 256u) {
      ${decode}
      let row = ${origin} + rr; let k = k0 + kk;
      var v = 0.0;
      if (row < ${limit} && k < kEnd) { v = ${call}; }
      ${name}s[kk * ${rows}u + rr] = v;
    }`;
  };
  const storage = [
    { name: 'a_in', access: 'read' as const },
    { name: 'b_in', access: 'read' as const },
    { name: 'out', access: 'read_write' as const },
    ...(bias ? [{ name: 'bias', access: 'read' as const }] : []),
  ];
  return {
    key: `gemm:${role}${pointwise ? ':pointwise' : ''}:${bm}x${bn}x${bk}${bias ? ':bias' : ''}${accumulate ? ':acc' : ''}${activation ? `:${activation}` : ''}${split && role !== 'weight-grad' ? ':split' : ''}`,
    class: 'convolution',
    params: [...GEMM_PARAMS, ['slope', 'f32']],
    storage,
    body: `
${WGSL_HELPERS.erf}
${code.loadA}
${code.loadB}
${code.store}
var<workgroup> As: array<f32, ${bm * bk}>;
var<workgroup> Bs: array<f32, ${bn * bk}>;
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let g = wid.z % p.groups;
  let split = wid.z / p.groups;
  let m0 = wid.x * ${bm}u;
  let n0 = wid.y * ${bn}u;
  let kBegin = split * p.kChunk;
  let kEnd = min(p.K, kBegin + p.kChunk);
  var acc0 = vec4f(); var acc1 = vec4f(); var acc2 = vec4f(); var acc3 = vec4f();
  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + ${bk}u) {
    ${tileLoad('A', bm, code.aContiguous === 'k' ? 'k' : 'other')}
    ${tileLoad('B', bn, code.bContiguous === 'k' ? 'k' : 'other')}
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk = kk + 1u) {
      let ab = kk * ${bm}u + lid.y;
      let bb = kk * ${bn}u + lid.x;
      let b = vec4f(Bs[bb], Bs[bb + ${wx}u], Bs[bb + ${2 * wx}u], Bs[bb + ${3 * wx}u]);
      acc0 = fma(vec4f(As[ab]), b, acc0);
      acc1 = fma(vec4f(As[ab + ${wy}u]), b, acc1);
      acc2 = fma(vec4f(As[ab + ${2 * wy}u]), b, acc2);
      acc3 = fma(vec4f(As[ab + ${3 * wy}u]), b, acc3);
    }
    workgroupBarrier();
  }
  let rows = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i = i + 1u) {
    let m = m0 + lid.y + i * ${wy}u;
    if (m >= p.M) { break; }
    let row = rows[i];
    for (var j = 0u; j < 4u; j = j + 1u) {
      let n = n0 + lid.x + j * ${wx}u;
      if (n < p.N) { store(m, n, g, split, row[j]); }
    }
  }
}`,
  };
}

/**
 * A GEMM without tiles, for shapes tiles waste: few rows (the last layers of
 * a small batch, Linear at batch 2) or few terms (weight gradients of 1×1
 * maps). Each thread sums one output column for four rows straight from
 * memory; no workgroup memory, no barriers.
 */
export function directGemmKernel(
  role: GemmRole,
  opts: GemmOptions,
  split = false,
  pointwise = false,
): Kernel {
  const bias = opts.bias === true && !split;
  const accumulate = opts.accumulate === true && !split;
  const activation = split ? undefined : opts.activation;
  const code = roleCode(role, { bias, accumulate, activation, split, pointwise });
  const storage = [
    { name: 'a_in', access: 'read' as const },
    { name: 'b_in', access: 'read' as const },
    { name: 'out', access: 'read_write' as const },
    ...(bias ? [{ name: 'bias', access: 'read' as const }] : []),
  ];
  return {
    key: `gemm-direct:${role}${pointwise ? ':pointwise' : ''}${bias ? ':bias' : ''}${accumulate ? ':acc' : ''}${activation ? `:${activation}` : ''}${split && role !== 'weight-grad' ? ':split' : ''}`,
    class: 'convolution',
    params: [...GEMM_PARAMS, ['slope', 'f32']],
    storage,
    body: `
${WGSL_HELPERS.erf}
${code.loadA}
${code.loadB}
${code.store}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  let n = t % p.N;
  let m0 = (t / p.N) * 4u;
  if (m0 >= p.M) { return; }
  let g = wid.z % p.groups;
  let split = wid.z / p.groups;
  let kBegin = split * p.kChunk;
  let kEnd = min(p.K, kBegin + p.kChunk);
  let rows = min(4u, p.M - m0);
  var acc = vec4f();
  for (var k = kBegin; k < kEnd; k = k + 1u) {
    let b = loadB(k, n, g);
    acc.x = fma(loadA(m0, k, g), b, acc.x);
    if (rows > 1u) { acc.y = fma(loadA(m0 + 1u, k, g), b, acc.y); }
    if (rows > 2u) { acc.z = fma(loadA(m0 + 2u, k, g), b, acc.z); }
    if (rows > 3u) { acc.w = fma(loadA(m0 + 3u, k, g), b, acc.w); }
  }
  for (var r = 0u; r < rows; r = r + 1u) { store(m0 + r, n, g, split, acc[r]); }
}`,
  };
}

/** Whether tiles would waste most of their work: few rows, or few terms per output. */
export function prefersDirectGemm(role: GemmRole, g: ConvGeometry): boolean {
  const { m, k } = gemmSizes(role, g);
  return m <= 8 || k <= 32;
}

/** Splits of a direct GEMM: about 512 workgroups of 256 threads in all, each part ≥ 256 terms. */
export function directSplits(role: GemmRole, g: ConvGeometry): number {
  const { m, n, k } = gemmSizes(role, g);
  const groups = Math.ceil((Math.ceil(m / 4) * n) / 256) * g.groups;
  const wanted = Math.ceil(512 / groups);
  const most = Math.max(1, Math.floor(k / 256));
  return Math.max(1, Math.min(wanted, most, Math.floor(65535 / g.groups)));
}

/** Workgroups of a direct GEMM: (four-row block, column) threads over x and y, groups × splits over z. */
export function directWorkgroups(
  role: GemmRole,
  g: ConvGeometry,
  splits: number,
): [number, number, number] {
  const { m, n } = gemmSizes(role, g);
  const [x, y] = grid1d(Math.ceil(m / 4) * n);
  return [x, y, g.groups * splits];
}

/**
 * How many parts a GEMM's k range is split into: enough workgroups to fill a
 * large GPU (about 512) where the outputs alone give few (the last layers of
 * a small batch, LeNet's weight gradients: 6×25 outputs of 100k terms), each
 * part at least 512 terms (a split costs a dispatch and a pass over parts).
 */
export function gemmSplits(role: GemmRole, g: ConvGeometry, tile: Tile): number {
  const { m, n, k } = gemmSizes(role, g);
  const tiles = Math.ceil(m / tile.bm) * Math.ceil(n / tile.bn) * g.groups;
  const wanted = Math.ceil(512 / tiles);
  const most = Math.max(1, Math.floor(k / 512));
  return Math.max(1, Math.min(wanted, most, Math.floor(65535 / g.groups)));
}

/** Elements of a role's output (the stride between split parts). */
export function gemmOutputSize(role: GemmRole, g: ConvGeometry): number {
  switch (role) {
    case 'forward':
      return g.batch * g.outH * g.outW * g.outC;
    case 'input-grad':
      return g.batch * g.inH * g.inW * g.inC;
    case 'weight-grad':
      return g.outC * (g.inC / g.groups) * g.kernelH * g.kernelW;
  }
}

/** The uniform record of a GEMM dispatch. */
export function gemmParams(role: GemmRole, g: ConvGeometry, splits = 1): Record<string, number> {
  const { m, n, k } = gemmSizes(role, g);
  const kChunk = splits > 1 ? Math.ceil(k / splits / 16) * 16 : k;
  return {
    slope: 0,
    M: m,
    N: n,
    K: k,
    kChunk,
    groups: g.groups,
    splitStride: gemmOutputSize(role, g),
    batch: g.batch,
    ih: g.inH,
    iw: g.inW,
    cin: g.inC,
    oh: g.outH,
    ow: g.outW,
    cout: g.outC,
    kh: g.kernelH,
    kw: g.kernelW,
    sh: g.strideH,
    sw: g.strideW,
    dh: g.dilationH,
    dw: g.dilationW,
    pt: g.padTop,
    pl: g.padLeft,
    cig: g.inC / g.groups,
    cog: g.outC / g.groups,
  };
}

/** Workgroups of a GEMM dispatch. */
export function gemmWorkgroups(
  role: GemmRole,
  g: ConvGeometry,
  tile: Tile,
  splits = 1,
): [number, number, number] {
  const { m, n } = gemmSizes(role, g);
  return [Math.ceil(m / tile.bm), Math.ceil(n / tile.bn), g.groups * splits];
}

/**
 * Sums a split GEMM's parts into its output, then finishes as the unsplit
 * kernel would: bias and activation (forward), or adds to the gradient.
 */
export function splitSum(opts: GemmOptions): Kernel {
  const activate = opts.activation ? ACTIVATIONS[opts.activation].forward : 'x';
  return {
    key: `split-sum${opts.bias ? ':bias' : ''}${opts.activation ? `:${opts.activation}` : ''}${opts.accumulate ? ':acc' : ''}`,
    class: 'convolution',
    params: [
      ['count', 'u32'],
      ['splits', 'u32'],
      ['C', 'u32'],
      ['slope', 'f32'],
    ],
    storage: [
      { name: 'partials', access: 'read' },
      { name: 'out', access: 'read_write' },
      ...(opts.bias ? [{ name: 'bias', access: 'read' as const }] : []),
    ],
    body: `
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= p.count) { return; }
  var x = 0.0;
  for (var k = 0u; k < p.splits; k = k + 1u) { x = x + partials[k * p.count + i]; }
  ${opts.bias ? 'x = x + bias[i % p.C];' : ''}
  out[i] ${opts.accumulate ? '+=' : '='} ${activate};
}`,
  };
}
