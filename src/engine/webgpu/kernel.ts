/**
 * What a compiled kernel is: WGSL with generated declarations (a uniform
 * record of static parameters, the per-step uniform, storage buffers in a
 * fixed order), and a dispatch of it with the buffers it binds. Pure: the
 * executor turns kernels into pipelines and dispatches into bind groups.
 */

/** What GPU time is grouped by when the adapter can time passes (bench). */
export type KernelClass =
  | 'convolution'
  | 'normalisation'
  | 'pooling'
  | 'elementwise'
  | 'reduction'
  | 'layout'
  | 'loss'
  | 'optimizer'
  | 'statistics';

export type ScalarType = 'u32' | 'i32' | 'f32';

export interface StorageDecl {
  name: string;
  /** What the kernel does with it (documentation: every binding is read_write, see kernelSource). */
  access: 'read' | 'read_write';
  /** Element type (default f32). */
  type?: 'f32' | 'u32';
}

export interface Kernel {
  /** Identity of the WGSL: kernels with equal keys share one pipeline. */
  key: string;
  class: KernelClass;
  /** The fields of the op's static uniform record, in order. */
  params: [string, ScalarType][];
  /** Binds the per-step uniform (learning rate, step index…) as `step`. */
  usesStep?: boolean;
  storage: StorageDecl[];
  /** WGSL after the declarations; defines `main`. */
  body: string;
}

/** The per-step uniform every kernel may read (written once per step). */
export const STEP_FIELDS: [string, ScalarType][] = [
  ['lr', 'f32'],
  ['biasCorrection1', 'f32'],
  ['biasCorrection2', 'f32'],
  ['index', 'u32'],
  ['seed', 'u32'],
];

/** Bytes of a uniform record of n 4-byte fields, padded to 16 as WGSL requires. */
export function uniformBytes(fields: number): number {
  return Math.max(16, Math.ceil((fields * 4) / 16) * 16);
}

function struct(name: string, fields: [string, ScalarType][]): string {
  // An empty struct is not valid WGSL.
  const members = fields.length > 0 ? fields : ([['unused', 'u32']] as [string, ScalarType][]);
  return `struct ${name} {\n${members.map(([n, t]) => `  ${n}: ${t},`).join('\n')}\n}`;
}

/** Binding numbers: 0 the op's uniform, 1 the step uniform, storage from 2 on. */
export const PARAMS_BINDING = 0;
export const STEP_BINDING = 1;
export const FIRST_STORAGE_BINDING = 2;

export function kernelSource(kernel: Kernel): string {
  const lines = [
    struct('Params', kernel.params),
    `@group(0) @binding(${PARAMS_BINDING}) var<uniform> p: Params;`,
  ];
  if (kernel.usesStep) {
    lines.push(struct('Step', STEP_FIELDS));
    lines.push(`@group(0) @binding(${STEP_BINDING}) var<uniform> step: Step;`);
  }
  // Every storage binding is read_write: pooled values share buffers, and WebGPU refuses a
  // buffer bound both read-only and writable in one dispatch (ranges do not matter).
  kernel.storage.forEach((s, i) => {
    lines.push(
      `@group(0) @binding(${FIRST_STORAGE_BINDING + i}) var<storage, read_write> ${s.name}: array<${s.type ?? 'f32'}>;`,
    );
  });
  return `${lines.join('\n')}\n${kernel.body}`;
}

/** Threads per workgroup of the one-dimensional kernels. */
export const WORKGROUP = 256;
/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * Workgroups for `count` threads of a one-dimensional kernel: x up to the
 * per-dimension limit, y for the rest (GLOBAL_INDEX recovers the index).
 */
export function grid1d(count: number, perGroup = WORKGROUP): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / perGroup));
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIMENSION);
  return [x, Math.ceil(groups / x), 1];
}

/** The entry of a one-dimensional kernel: `i` is the thread's global index. */
export const MAIN_1D = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WORKGROUP}u + lid;`;

/**
 * WGSL helpers several kernels share. WGSL promises nothing about NaN and
 * infinity in arithmetic, so finiteness is judged on the bits, and functions
 * that overflow (exp) clamp their argument.
 */
export const WGSL_HELPERS = {
  finite: `fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }`,
  /** A 32-bit integer hash (PCG's output function): the dropout masks' random stream. */
  hash: `fn hash_u32(x: u32) -> u32 {
  let s = x * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}`,
  /** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), as tfjs computes erf. */
  erf: `fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}`,
};
