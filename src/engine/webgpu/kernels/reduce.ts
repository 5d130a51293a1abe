/**
 * Per-column reductions of a row-major [rows, C] matrix (NHWC activations
 * seen as rows of channels), in two stages so that every GPU core works:
 * stage 1 reduces chunks of rows into partials (a workgroup per block of
 * columns and chunk of rows), stage 2 combines each column's partials and
 * finishes with layer-specific code (a bias gradient, BatchNorm's statistics
 * and running averages, BatchNorm's backward sums). Means and variances use
 * Welford's update and Chan's combination, so large means do not cancel.
 */
import { type Kernel, type KernelClass, type StorageDecl, WGSL_HELPERS } from '../kernel';

export type Accumulator = 'welford' | 'sum' | 'sum2';

/** Floats per column an accumulator keeps: (n, mean, M2), (s), (s1, s2). */
const WIDTH: Record<Accumulator, number> = { welford: 3, sum: 1, sum2: 2 };

export interface ColumnReduction {
  /** Unique per (inputs, value, finish): the two kernels' keys derive from it. */
  key: string;
  class: KernelClass;
  accumulator: Accumulator;
  /** Stage 1's inputs (read); `partials` is appended. */
  inputs: StorageDecl[];
  /** WGSL statements defining `v` (and `v2` for sum2) from element index `i` and column `c`. */
  value: string;
  /** Stage 2's buffers besides `partials` (first). */
  outputs: StorageDecl[];
  /**
   * WGSL run per column `c` with the combined `n`, `mean`, `m2` (welford),
   * `s` (sum) or `s1`, `s2` (sum2); `rows` is the row count as f32.
   */
  finish: string;
  /** Extra uniform fields both stages get (after rows, C, rowsPerChunk, chunks). */
  params?: [string, 'u32' | 'f32'][];
}

export interface ReductionShape {
  rows: number;
  columns: number;
}

/** Columns per workgroup: 64 for wide matrices, fewer for narrow ones (LeNet's 6 channels). */
function columnTile(columns: number): number {
  return columns >= 64 ? 64 : columns >= 16 ? 16 : 4;
}

/** Rows per chunk and chunk count: at least 16 rows per lane, at most 256 chunks. */
export function reductionChunks({ rows, columns }: ReductionShape): {
  rowsPerChunk: number;
  chunks: number;
  columnTile: number;
} {
  const tile = columnTile(columns);
  const lanes = 256 / tile;
  const rowsPerChunk = Math.max(lanes * 16, Math.ceil(rows / 256));
  return { rowsPerChunk, chunks: Math.max(1, Math.ceil(rows / rowsPerChunk)), columnTile: tile };
}

const BASE_PARAMS: [string, 'u32'][] = [
  ['rows', 'u32'],
  ['C', 'u32'],
  ['rowsPerChunk', 'u32'],
  ['chunks', 'u32'],
];

function combineCode(acc: Accumulator, a: string, b: string): string {
  // a and b are base indices into `sh`/`partials`-like arrays; combines b into a.
  if (acc === 'welford') {
    return `{
      let na = sh[${a}]; let nb = sh[${b}];
      let nn = na + nb;
      if (nn > 0.0) {
        let d = sh[${b} + 1u] - sh[${a} + 1u];
        sh[${a} + 2u] = sh[${a} + 2u] + sh[${b} + 2u] + d * d * na * nb / nn;
        sh[${a} + 1u] = sh[${a} + 1u] + d * nb / nn;
        sh[${a}] = nn;
      }
    }`;
  }
  return acc === 'sum'
    ? `sh[${a}] = sh[${a}] + sh[${b}];`
    : `sh[${a}] = sh[${a}] + sh[${b}]; sh[${a} + 1u] = sh[${a} + 1u] + sh[${b} + 1u];`;
}

/** Stage 1: partial accumulators per (chunk, column). */
export function partialKernel(r: ColumnReduction, tile: number): Kernel {
  const width = WIDTH[r.accumulator];
  const lanes = 256 / tile;
  const init =
    r.accumulator === 'welford'
      ? 'var n = 0.0; var mean = 0.0; var m2 = 0.0;'
      : r.accumulator === 'sum'
        ? 'var s = 0.0;'
        : 'var s1 = 0.0; var s2 = 0.0;';
  const update =
    r.accumulator === 'welford'
      ? 'n = n + 1.0; let d = v - mean; mean = mean + d / n; m2 = m2 + d * (v - mean);'
      : r.accumulator === 'sum'
        ? 's = s + v;'
        : 's1 = s1 + v; s2 = s2 + v2;';
  const store =
    r.accumulator === 'welford'
      ? 'sh[slot] = n; sh[slot + 1u] = mean; sh[slot + 2u] = m2;'
      : r.accumulator === 'sum'
        ? 'sh[slot] = s;'
        : 'sh[slot] = s1; sh[slot + 1u] = s2;';
  return {
    key: `reduce-partial:${r.key}:${tile}`,
    class: r.class,
    params: [...BASE_PARAMS, ...(r.params ?? [])],
    storage: [...r.inputs, { name: 'partials', access: 'read_write' }],
    body: `
const CW: u32 = ${tile}u;
const RL: u32 = ${lanes}u;
const W: u32 = ${width}u;
var<workgroup> sh: array<f32, ${256 * width}>;
@compute @workgroup_size(${tile}, ${lanes})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x * CW + lid.x;
  let chunk = wid.y;
  let r0 = chunk * p.rowsPerChunk;
  let r1 = min(p.rows, r0 + p.rowsPerChunk);
  ${init}
  if (c < p.C) {
    for (var r = r0 + lid.y; r < r1; r = r + RL) {
      let i = r * p.C + c;
      ${r.value}
      ${update}
    }
  }
  let slot = (lid.y * CW + lid.x) * W;
  ${store}
  workgroupBarrier();
  for (var half = RL / 2u; half > 0u; half = half / 2u) {
    if (lid.y < half) {
      let other = slot + half * CW * W;
      ${combineCode(r.accumulator, 'slot', 'other')}
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && c < p.C) {
    for (var j = 0u; j < W; j = j + 1u) {
      partials[(chunk * p.C + c) * W + j] = sh[slot + j];
    }
  }
}`,
  };
}

/** Stage 2: combines a column's partials and runs `finish`. */
export function finishKernel(r: ColumnReduction): Kernel {
  const load =
    r.accumulator === 'welford'
      ? `var n = 0.0; var mean = 0.0; var m2 = 0.0;
  for (var k = 0u; k < p.chunks; k = k + 1u) {
    let b = (k * p.C + c) * 3u;
    let nb = partials[b];
    let nn = n + nb;
    if (nn > 0.0) {
      let d = partials[b + 1u] - mean;
      m2 = m2 + partials[b + 2u] + d * d * n * nb / nn;
      mean = mean + d * nb / nn;
      n = nn;
    }
  }`
      : r.accumulator === 'sum'
        ? `var s = 0.0;
  for (var k = 0u; k < p.chunks; k = k + 1u) { s = s + partials[k * p.C + c]; }`
        : `var s1 = 0.0; var s2 = 0.0;
  for (var k = 0u; k < p.chunks; k = k + 1u) {
    let b = (k * p.C + c) * 2u;
    s1 = s1 + partials[b]; s2 = s2 + partials[b + 1u];
  }`;
  return {
    key: `reduce-finish:${r.key}`,
    class: r.class,
    params: [...BASE_PARAMS, ...(r.params ?? [])],
    storage: [{ name: 'partials', access: 'read' }, ...r.outputs],
    body: `
${WGSL_HELPERS.finite}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  let rows = f32(p.rows);
  ${load}
  ${r.finish}
}`,
  };
}

/** Floats of the partials buffer a reduction needs. */
export function partialsSize(r: ColumnReduction, shape: ReductionShape): number {
  return reductionChunks(shape).chunks * shape.columns * WIDTH[r.accumulator];
}

/** A bias gradient: the column sums of dy [rows, C], written to the gradient. */
export const BIAS_GRADIENT: ColumnReduction = {
  key: 'bias-grad',
  class: 'reduction',
  accumulator: 'sum',
  inputs: [{ name: 'dy', access: 'read' }],
  value: 'let v = dy[i];',
  outputs: [{ name: 'grad', access: 'read_write' }],
  finish: 'grad[c] = s;',
};
