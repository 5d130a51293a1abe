/**
 * Runs planned steps on the GPU. Everything is made once: buffers (weights
 * in arenas and in per-weight buffers that tfjs wraps as the model's
 * tensors, optimizer slots, the activation pool), pipelines, bind groups and
 * uniforms. A step then writes the batch and the per-step uniform, encodes
 * its dispatches into one compute pass, copies the updated weights into the
 * buffers tfjs sees and the step's metrics into a read-back slot, and
 * submits once; the metrics are read a few steps later without stalling.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { LayerStat } from '../../api/training-protocol';
import type { CompiledModel } from '../../core/compile/model';
import type { GraphInference } from '../../core/infer';
import type { TF } from '../../core/layers/types';
import type { TensorMap } from '../../core/weights/safetensors';
import type { OptimizerConfig, OptimizerState } from '../training/optimizers';
import { DeviceLost, deviceLimits, flushTfjs, lossReason, tfjsWebgpuBackend } from './device';
import {
  FIRST_STORAGE_BINDING,
  type Kernel,
  type KernelClass,
  kernelSource,
  PARAMS_BINDING,
  STEP_BINDING,
  STEP_FIELDS,
  uniformBytes,
} from './kernel';
import { METRICS_FLOATS } from './kernels/loss';
import type { OptimizerKind } from './kernels/optimizer';
import {
  ALIGNMENT,
  type ArenaName,
  type BufferRef,
  type LossKind,
  largestPlannableBatch,
  mib,
  NotCompilable,
  type Plan,
  type PlanOptions,
  planStep,
  rebatch,
  TooLarge,
} from './plan';

export interface CompiledStepOptions {
  optimizer: OptimizerConfig;
  loss?: LossKind;
  batch: number;
  /** [height, width] of the images written each step (resized on the GPU when the network takes another size). */
  imageSize?: [number, number];
  /** Seeds the dropout masks (with the step index). */
  seed?: number;
  /** Tests: also the input images' gradient. */
  inputGradient?: boolean;
}

export interface StepMetrics {
  loss: number;
  correct: number;
  /** Per-layer statistics, when asked for (layer-stats.ts's numbers). */
  layerStats?: LayerStat[];
}

export interface StepInput {
  images: Float32Array;
  /** Class indices (cross-entropy). */
  labels?: Int32Array | Uint32Array;
  /** Targets of the output's shape (MSE). */
  targets?: Float32Array;
}

/** Numbers for the bench: what one step costs to issue. */
export interface StepProfile {
  dispatches: number;
  byClass: Record<string, number>;
  /** GPU time per kernel class (ms), where the device can time passes. */
  gpuMs?: Partial<Record<KernelClass, number>>;
  /** And per dispatch, in step order. */
  dispatchMs?: { label: string; kernel: string; ms: number }[];
}

interface Program {
  plan: Plan;
  uniforms: GPUBuffer;
  commands: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; workgroups: number[] }[];
  stats?: GPUBuffer;
}

/** Optimizer state slots live in one arena per slot; names as PyTorch's state. */
const OPTIMIZER_KIND = (config: OptimizerConfig): OptimizerKind =>
  config.name === 'sgd' ? ((config.momentum ?? 0) > 0 ? 'sgd-momentum' : 'sgd') : config.name;

/** Pipelines by kernel key, per device: every compiled step on a device shares them. */
const PIPELINES = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** How many steps may be in flight before the oldest one's metrics are awaited. */
const READBACK_DEPTH = 3;

const STORAGE = 0x0080;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const MAP_READ = 0x0001;
const QUERY_RESOLVE = 0x0200;

export class CompiledStep {
  /** The learning rate of the next step; schedules set it each epoch. */
  lr: number;
  /** Updates taken (Adam's bias correction, checkpoints). */
  stepCount = 0;
  readonly train: Plan;
  private readonly device: GPUDevice;
  private readonly programs = new Map<string, Program>();
  private pool: GPUBuffer[] = [];
  private readonly arenas = new Map<ArenaName, GPUBuffer[]>();
  /** Per-weight buffers tfjs wraps (the truth for non-trainable state such as running statistics). */
  private readonly mirrors = new Map<string, GPUBuffer>();
  /** The dataId each model variable had when wrapped: a change means someone replaced the weights. */
  private readonly wrapped = new Map<string, object>();
  private readonly external: Record<'images' | 'labels' | 'targets' | 'metrics', GPUBuffer>;
  private readonly stepUniform: GPUBuffer;
  private readonly stepData = new ArrayBuffer(uniformBytes(STEP_FIELDS.length));
  private readonly readback: { buffer: GPUBuffer; pending?: Promise<unknown> }[] = [];
  private nextReadback = 0;
  private lostReason: string | undefined;
  private disposed = false;

  private constructor(
    private readonly tf: TF,
    private readonly model: CompiledModel,
    private readonly options: CompiledStepOptions & { loss: LossKind; imageSize: [number, number] },
    device: GPUDevice,
    train: Plan,
  ) {
    this.device = device;
    this.train = train;
    this.lr = options.optimizer.lr;
    const io = (bytes: number, usage: number) =>
      device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
    const [n, h, w, c] = train.imageShape;
    this.external = {
      images: io(n * h * w * c * 4, STORAGE | COPY_DST),
      labels: io(n * 4, STORAGE | COPY_DST),
      targets: io(train.outputShape.reduce((a, b) => a * b, 1) * 4, STORAGE | COPY_DST),
      metrics: io(METRICS_FLOATS * 4, STORAGE | COPY_SRC | COPY_DST),
    };
    this.stepUniform = device.createBuffer({
      size: this.stepData.byteLength,
      usage: UNIFORM | COPY_DST,
    });
    for (let i = 0; i < READBACK_DEPTH; i++) {
      this.readback.push({
        buffer: device.createBuffer({ size: METRICS_FLOATS * 4, usage: MAP_READ | COPY_DST }),
      });
    }
    device.lost.then((info) => {
      if (!this.disposed) this.lostReason = lossReason(info);
    });
  }

  /**
   * Compiles the model's training step on tfjs's WebGPU device and takes
   * over its weights (the model's variables then wrap the step's buffers).
   * Throws NotCompilable (run op by op instead) or TooLarge (refuse the batch).
   */
  static async create(
    tf: TF,
    model: CompiledModel,
    options: CompiledStepOptions,
  ): Promise<CompiledStep> {
    const backend = tfjsWebgpuBackend(tf);
    if (!backend) {
      throw new NotCompilable(undefined, `tfjs runs on ${tf.getBackend()}, not webgpu`);
    }
    const device = backend.device;
    const inference = model.inference;
    const [, , h, w] = inference.inputShape as number[];
    const full = {
      ...options,
      loss: options.loss ?? 'cross-entropy',
      imageSize: options.imageSize ?? ([h, w] as [number, number]),
    };
    const trainOptions = planOptions(full, 'train', options.batch, device);
    let train: Plan;
    try {
      train = planStep(inference, trainOptions);
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      const fits = largestPlannableBatch(inference, trainOptions);
      throw tooLarge(error.message, options.batch, error.neededBytes, fits);
    }
    const step = new CompiledStep(tf, model, full, device, train);
    try {
      await step.allocate(train, () => probeFittingBatch(device, inference, trainOptions));
      await step.loadWeights();
      step.programs.set(programKey('train', options.batch, false), await step.build(train));
    } catch (error) {
      await step.dispose();
      throw error;
    }
    return step;
  }

  /** Dispatches per training step. */
  get dispatchesPerStep(): number {
    return this.train.dispatches.length;
  }

  /** Creates the arenas, the per-weight buffers and the pool, inside an out-of-memory scope. */
  private async allocate(plan: Plan, fitting: () => Promise<number>): Promise<void> {
    const { device } = this;
    device.pushErrorScope('out-of-memory');
    const arenas: ArenaName[] = [
      'params',
      'grads',
      ...plan.optimizerSlots.map((_, i) => `slot${i}` as ArenaName),
    ];
    for (const name of arenas) {
      this.arenas.set(
        name,
        plan.arenaHeaps.map((bytes) =>
          device.createBuffer({ size: Math.max(16, bytes), usage: STORAGE | COPY_SRC | COPY_DST }),
        ),
      );
    }
    for (const p of plan.params) {
      // Exactly the weight's size: tfjs reads a wrapped buffer whole.
      this.mirrors.set(
        p.key,
        device.createBuffer({ size: p.elements * 4, usage: STORAGE | COPY_SRC | COPY_DST }),
      );
    }
    this.ensurePool(plan.poolHeaps);
    const error = await device.popErrorScope();
    if (error) {
      // Nothing has used them yet: released now, so the smaller batches tried have their room.
      for (const b of [...this.pool, ...[...this.arenas.values()].flat(), ...this.mirrors.values()])
        b.destroy();
      this.pool = [];
      this.arenas.clear();
      this.mirrors.clear();
      throw tooLarge(
        `the GPU could not allocate them (${error.message})`,
        plan.batch,
        plan.bytes.total,
        await fitting(),
      );
    }
  }

  /** Grows the pool to at least these heap sizes (rebuilding what was bound to it). */
  private ensurePool(heaps: number[]): void {
    const fits = heaps.every((bytes, i) => (this.pool[i]?.size ?? 0) >= bytes);
    if (fits) return;
    const sizes = heaps.map((bytes, i) => Math.max(bytes, this.pool[i]?.size ?? 0, 16));
    for (const b of this.pool) b.destroy();
    this.pool = sizes.map((size) =>
      this.device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST }),
    );
    for (const [key, program] of this.programs) {
      program.uniforms.destroy();
      this.programs.delete(key);
    }
  }

  /** Copies the model's weights into the step's buffers and has the model's variables wrap them. */
  private async loadWeights(): Promise<void> {
    const { tf, device, model } = this;
    const weights = await model.readWeights();
    this.writeWeights(weights);
    for (const p of this.train.params) {
      const variable = model.weights.get(p.key) as tfc.Variable;
      const mirror = this.mirrors.get(p.key) as GPUBuffer;
      const wrapper = tf.tensor({ buffer: mirror, zeroCopy: true }, p.shape, 'float32');
      variable.assign(wrapper);
      wrapper.dispose();
      this.wrapped.set(p.key, variable.dataId);
    }
    await device.queue.onSubmittedWorkDone();
  }

  private writeWeights(weights: TensorMap): void {
    const { device } = this;
    for (const p of this.train.params) {
      const t = weights.get(p.key);
      if (!t) throw new Error(`the model has no weight '${p.key}'`);
      device.queue.writeBuffer(this.mirrors.get(p.key) as GPUBuffer, 0, t.data);
      if (p.trainable) {
        const arena = (this.arenas.get('params') as GPUBuffer[])[p.heap as number];
        device.queue.writeBuffer(arena, p.offset as number, t.data);
      }
    }
  }

  /**
   * Someone assigned new values to the model's variables (tfjs replaced
   * their buffers): take them over again.
   */
  private async resyncIfReplaced(): Promise<void> {
    const replaced = [...this.wrapped].some(
      ([key, dataId]) => this.model.weights.get(key)?.dataId !== dataId,
    );
    if (!replaced) return;
    const weights = new Map(
      await Promise.all(
        this.train.params.map(async (p) => {
          const v = this.model.weights.get(p.key) as tfc.Variable;
          return [p.key, { shape: p.shape, data: (await v.data()) as Float32Array }] as const;
        }),
      ),
    );
    await this.loadWeightsFrom(weights);
  }

  private async loadWeightsFrom(weights: TensorMap): Promise<void> {
    const { tf, model } = this;
    this.writeWeights(weights);
    for (const p of this.train.params) {
      const variable = model.weights.get(p.key) as tfc.Variable;
      if (variable.dataId === this.wrapped.get(p.key)) continue;
      const wrapper = tf.tensor(
        { buffer: this.mirrors.get(p.key) as GPUBuffer, zeroCopy: true },
        p.shape,
        'float32',
      );
      variable.assign(wrapper);
      wrapper.dispose();
      this.wrapped.set(p.key, variable.dataId);
    }
    await this.device.queue.onSubmittedWorkDone();
  }

  private pipeline(kernel: Kernel): GPUComputePipeline {
    const { device } = this;
    let cache = PIPELINES.get(device);
    if (!cache) {
      cache = new Map();
      PIPELINES.set(device, cache);
    }
    let pipeline = cache.get(kernel.key);
    if (pipeline) return pipeline;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: PARAMS_BINDING, visibility: 4, buffer: { type: 'uniform' } },
      ...(kernel.usesStep
        ? [{ binding: STEP_BINDING, visibility: 4, buffer: { type: 'uniform' as const } }]
        : []),
      ...kernel.storage.map((_, i) => ({
        binding: FIRST_STORAGE_BINDING + i,
        visibility: 4,
        buffer: { type: 'storage' as const },
      })),
    ];
    const layout = device.createBindGroupLayout({ label: kernel.key, entries });
    pipeline = device.createComputePipeline({
      label: kernel.key,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: {
        module: device.createShaderModule({ label: kernel.key, code: kernelSource(kernel) }),
        entryPoint: 'main',
      },
    });
    cache.set(kernel.key, pipeline);
    return pipeline;
  }

  private binding(ref: BufferRef, plan: Plan, program: Program): GPUBufferBinding {
    if ('value' in ref) {
      let v = plan.values[ref.value];
      while (v.alias !== undefined) v = plan.values[v.alias];
      const size = Math.max(4, v.elements * 4);
      if (v.external === 'stats') return { buffer: program.stats as GPUBuffer, offset: 0, size };
      if (v.external) return { buffer: this.external[v.external], offset: 0, size };
      return { buffer: this.pool[v.heap as number], offset: v.offset as number, size };
    }
    if ('arena' in ref) {
      return {
        buffer: (this.arenas.get(ref.arena) as GPUBuffer[])[ref.heap],
        offset: ref.offset,
        size: ref.bytes,
      };
    }
    const key = 'param' in ref ? ref.param : ref.grad;
    const p = plan.params.find((q) => q.key === key);
    if (!p) throw new Error(`the plan has no weight '${key}'`);
    if ('param' in ref && !p.trainable) {
      return { buffer: this.mirrors.get(key) as GPUBuffer, offset: 0, size: p.elements * 4 };
    }
    const arena = (this.arenas.get('param' in ref ? 'params' : 'grads') as GPUBuffer[])[
      p.heap as number
    ];
    return { buffer: arena, offset: p.offset as number, size: p.elements * 4 };
  }

  /** Pipelines, uniforms and bind groups of a plan, made once; validation errors become exceptions. */
  private async build(plan: Plan): Promise<Program> {
    const { device } = this;
    this.ensurePool(plan.poolHeaps);
    device.pushErrorScope('validation');
    const record = (d: Plan['dispatches'][number]) =>
      Math.ceil(uniformBytes(d.kernel.params.length) / ALIGNMENT) * ALIGNMENT;
    const total = plan.dispatches.reduce((a, d) => a + record(d), 0);
    const uniforms = device.createBuffer({ size: Math.max(16, total), usage: UNIFORM | COPY_DST });
    const data = new ArrayBuffer(Math.max(16, total));
    const view = new DataView(data);
    const statsValue = plan.values.find((v) => v.external === 'stats');
    const program: Program = {
      plan,
      uniforms,
      commands: [],
      stats: statsValue
        ? device.createBuffer({
            size: Math.max(16, statsValue.elements * 4),
            usage: STORAGE | COPY_SRC,
          })
        : undefined,
    };
    let offset = 0;
    for (const d of plan.dispatches) {
      d.kernel.params.forEach(([name, type], i) => {
        const value = d.params[name];
        if (value === undefined) throw new Error(`${d.label}: no value for uniform '${name}'`);
        if (type === 'f32') view.setFloat32(offset + i * 4, value, true);
        else if (type === 'i32') view.setInt32(offset + i * 4, value, true);
        else view.setUint32(offset + i * 4, value, true);
      });
      const pipeline = this.pipeline(d.kernel);
      const entries: GPUBindGroupEntry[] = [
        {
          binding: PARAMS_BINDING,
          resource: { buffer: uniforms, offset, size: uniformBytes(d.kernel.params.length) },
        },
        ...(d.kernel.usesStep
          ? [{ binding: STEP_BINDING, resource: { buffer: this.stepUniform } }]
          : []),
        ...d.buffers.map((ref, i) => ({
          binding: FIRST_STORAGE_BINDING + i,
          resource: this.binding(ref, plan, program),
        })),
      ];
      const bindGroup = device.createBindGroup({
        label: d.label,
        layout: pipeline.getBindGroupLayout(0),
        entries,
      });
      program.commands.push({ pipeline, bindGroup, workgroups: d.workgroups });
      offset += record(d);
    }
    device.queue.writeBuffer(uniforms, 0, data);
    const error = await device.popErrorScope();
    if (error) throw new Error(`the compiled step did not validate: ${error.message}`);
    return program;
  }

  private async program(mode: 'train' | 'eval', batch: number, stats: boolean): Promise<Program> {
    const key = programKey(mode, batch, stats);
    let program = this.programs.get(key);
    if (!program) {
      if (batch > this.options.batch) {
        throw new Error(
          `a batch of ${batch} is larger than the ${this.options.batch} the compiled step was made for`,
        );
      }
      const plan =
        key === programKey('train', this.options.batch, false)
          ? this.train
          : planStep(rebatch(this.model.inference, batch), {
              ...planOptions(this.options, mode, batch, this.device),
              layerStats: stats,
            });
      program = await this.build(plan);
      this.programs.set(key, program);
    }
    return program;
  }

  private get trainProgram(): Program {
    return this.programs.get(programKey('train', this.options.batch, false)) as Program;
  }

  private checkUsable(): void {
    if (this.lostReason) throw new DeviceLost(this.lostReason);
    if (this.disposed) throw new Error('the compiled step was released');
  }

  private writeStepUniform(): void {
    const view = new DataView(this.stepData);
    const { optimizer } = this.options;
    const [beta1, beta2] = optimizer.betas ?? [0.9, 0.999];
    const t = this.stepCount;
    view.setFloat32(0, this.lr, true);
    view.setFloat32(4, 1 - beta1 ** t, true);
    view.setFloat32(8, 1 - beta2 ** t, true);
    view.setUint32(12, t, true);
    view.setUint32(16, (this.options.seed ?? 0) >>> 0, true);
    this.device.queue.writeBuffer(this.stepUniform, 0, this.stepData);
  }

  private writeInput(plan: Plan, input: StepInput): void {
    const { queue } = this.device;
    const [n, h, w, c] = plan.imageShape;
    if (input.images.length !== n * h * w * c) {
      throw new Error(
        `the compiled step takes ${n}×${h}×${w}×${c} images (NHWC) but got ${input.images.length} values`,
      );
    }
    queue.writeBuffer(this.external.images, 0, input.images);
    if (input.labels) {
      queue.writeBuffer(this.external.labels, 0, Uint32Array.from(input.labels));
    }
    if (input.targets) queue.writeBuffer(this.external.targets, 0, input.targets);
  }

  private encode(program: Program, encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass();
    let last: GPUComputePipeline | undefined;
    for (const c of program.commands) {
      if (c.pipeline !== last) {
        pass.setPipeline(c.pipeline);
        last = c.pipeline;
      }
      pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(c.workgroups[0], c.workgroups[1], c.workgroups[2]);
    }
    pass.end();
  }

  /** After the update: the buffers tfjs sees get the new trainable weights. */
  private encodeMirrorCopies(encoder: GPUCommandEncoder): void {
    const params = this.arenas.get('params') as GPUBuffer[];
    for (const p of this.train.params) {
      if (!p.trainable) continue;
      encoder.copyBufferToBuffer(
        params[p.heap as number],
        p.offset as number,
        this.mirrors.get(p.key) as GPUBuffer,
        0,
        p.elements * 4,
      );
    }
  }

  /**
   * Submits one training step on a batch (of the compiled size, or another:
   * the last batch of an epoch is planned on first use). Resolves once it is
   * submitted; `metrics` resolves when its numbers are read back (a few
   * steps later: the next steps do not wait for it).
   */
  async step(
    input: StepInput,
    opts: { layerStats?: boolean } = {},
  ): Promise<{ metrics: Promise<StepMetrics> }> {
    this.checkUsable();
    const batch = input.labels?.length ?? this.options.batch;
    const program = await this.program('train', batch, opts.layerStats === true);
    await this.resyncIfReplaced();
    const slot = this.readback[this.nextReadback];
    this.nextReadback = (this.nextReadback + 1) % READBACK_DEPTH;
    if (slot.pending) await slot.pending.catch(() => undefined);
    this.checkUsable();
    const backend = tfjsWebgpuBackend(this.tf);
    if (backend) flushTfjs(backend);
    this.stepCount++;
    this.writeStepUniform();
    this.writeInput(program.plan, input);
    const encoder = this.device.createCommandEncoder();
    this.encode(program, encoder);
    this.encodeMirrorCopies(encoder);
    encoder.copyBufferToBuffer(this.external.metrics, 0, slot.buffer, 0, METRICS_FLOATS * 4);
    let statsRead: GPUBuffer | undefined;
    if (program.stats) {
      statsRead = this.device.createBuffer({
        size: program.stats.size,
        usage: MAP_READ | COPY_DST,
      });
      encoder.copyBufferToBuffer(program.stats, 0, statsRead, 0, program.stats.size);
    }
    this.device.queue.submit([encoder.finish()]);
    const metrics = this.readMetrics(slot.buffer, program.plan, statsRead);
    slot.pending = metrics;
    return { metrics };
  }

  /**
   * Everything a step does on the CPU but submit: the batch and uniform
   * written, the dispatches encoded (the bench's cost of issuing a step,
   * measured without waiting for the GPU).
   */
  issueOnly(input: StepInput): void {
    const program = this.trainProgram;
    this.writeStepUniform();
    this.writeInput(program.plan, input);
    const encoder = this.device.createCommandEncoder();
    this.encode(program, encoder);
    this.encodeMirrorCopies(encoder);
    encoder.finish();
  }

  private async readMetrics(
    buffer: GPUBuffer,
    plan: Plan,
    statsRead?: GPUBuffer,
  ): Promise<StepMetrics> {
    try {
      await buffer.mapAsync(1);
    } catch (error) {
      this.checkUsable();
      throw error;
    }
    const [loss, correct] = new Float32Array(buffer.getMappedRange().slice(0));
    buffer.unmap();
    const result: StepMetrics = { loss, correct };
    if (statsRead) {
      await statsRead.mapAsync(1);
      const s = new Float32Array(statsRead.getMappedRange().slice(0));
      statsRead.destroy();
      result.layerStats = plan.statsPoints.map((p) => layerStat(p, s));
    }
    return result;
  }

  /**
   * Summed cross-entropy and correct rows over batches in evaluation mode
   * (running statistics, no dropout), read back once at the end.
   */
  async evaluate(batches: Iterable<StepInput>): Promise<{ lossSum: number; correct: number }> {
    this.checkUsable();
    await this.resyncIfReplaced();
    const backend = tfjsWebgpuBackend(this.tf);
    if (backend) flushTfjs(backend);
    const { device } = this;
    const clear = device.createCommandEncoder();
    clear.clearBuffer(this.external.metrics);
    device.queue.submit([clear.finish()]);
    for (const input of batches) {
      const batch = input.labels?.length ?? this.options.batch;
      const program = await this.program('eval', batch, false);
      this.checkUsable();
      this.writeInput(program.plan, input);
      const encoder = device.createCommandEncoder();
      this.encode(program, encoder);
      device.queue.submit([encoder.finish()]);
    }
    const read = device.createBuffer({ size: METRICS_FLOATS * 4, usage: MAP_READ | COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.external.metrics, 0, read, 0, METRICS_FLOATS * 4);
    device.queue.submit([encoder.finish()]);
    try {
      await read.mapAsync(1);
    } catch (error) {
      this.checkUsable();
      throw error;
    }
    const [lossSum, correct] = new Float32Array(read.getMappedRange().slice(0));
    read.destroy();
    return { lossSum, correct };
  }

  /** Waits until every submitted step has run. */
  async settle(): Promise<void> {
    await Promise.all(this.readback.map((s) => s.pending?.catch(() => undefined)));
    await this.device.queue.onSubmittedWorkDone();
    this.checkUsable();
  }

  private async readBuffer(
    buffer: GPUBuffer,
    offset: number,
    bytes: number,
  ): Promise<Float32Array> {
    const read = this.device.createBuffer({
      size: Math.max(16, bytes),
      usage: MAP_READ | COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset, read, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await read.mapAsync(1);
    const data = new Float32Array(read.getMappedRange().slice(0, bytes));
    read.destroy();
    return data;
  }

  /** A value of the last training step still held at its end (its output, the input gradient). */
  async readValue(id: number): Promise<Float32Array> {
    const binding = this.binding({ value: id }, this.train, this.trainProgram);
    return this.readBuffer(binding.buffer, binding.offset ?? 0, binding.size as number);
  }

  /** The gradients of the last step, by weight key (tests). */
  async readGradients(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const program = this.trainProgram;
    for (const p of this.train.params.filter((q) => q.trainable)) {
      const b = this.binding({ grad: p.key }, this.train, program);
      out.set(p.key, await this.readBuffer(b.buffer, b.offset ?? 0, b.size as number));
    }
    return out;
  }

  /** Optimizer state in the checkpoint's form (PyTorch's slot names); none before the first step. */
  async getOptimizerState(): Promise<OptimizerState> {
    await this.settle();
    const slots: TensorMap = new Map();
    const names = this.train.optimizerSlots;
    if (this.stepCount > 0) {
      for (const [i, name] of names.entries()) {
        const arena = this.arenas.get(`slot${i}` as ArenaName) as GPUBuffer[];
        for (const p of this.train.params.filter((q) => q.trainable)) {
          const data = await this.readBuffer(
            arena[p.heap as number],
            p.offset as number,
            p.elements * 4,
          );
          slots.set(`${p.key}.${name}`, { shape: p.shape, data });
        }
      }
    }
    return { name: this.options.optimizer.name, step: this.stepCount, slots };
  }

  setOptimizerState(state: OptimizerState): void {
    const { name } = this.options.optimizer;
    if (state.name !== name) {
      throw new Error(
        `the checkpoint's optimizer is ${state.name} but this run uses ${name}; resume with --optimizer ${state.name}`,
      );
    }
    const names = this.train.optimizerSlots;
    const byKey = new Map(this.train.params.map((p) => [p.key, p]));
    for (const [id, t] of state.slots) {
      const dot = id.lastIndexOf('.');
      const p = byKey.get(id.slice(0, dot));
      const slot = names.indexOf(id.slice(dot + 1));
      if (!p?.trainable || slot < 0)
        throw new Error(`optimizer state names unknown parameter "${id}"`);
      if (t.data.length !== p.elements) {
        throw new Error(
          `optimizer state "${id}" has shape ${t.shape.join('×')} but the parameter is ${p.shape.join('×')}`,
        );
      }
      const arena = (this.arenas.get(`slot${slot}` as ArenaName) as GPUBuffer[])[p.heap as number];
      this.device.queue.writeBuffer(arena, p.offset as number, t.data);
    }
    this.stepCount = state.step;
  }

  /**
   * GPU time per kernel class of one step, each dispatch in its own timed
   * pass; undefined where the device cannot time passes.
   */
  async profile(input: StepInput): Promise<StepProfile> {
    const plan = this.train;
    const byClass: Record<string, number> = {};
    for (const d of plan.dispatches) byClass[d.kernel.class] = (byClass[d.kernel.class] ?? 0) + 1;
    const result: StepProfile = { dispatches: plan.dispatches.length, byClass };
    if (!this.device.features.has('timestamp-query') || plan.dispatches.length > 2048)
      return result;
    const program = await this.program('train', this.options.batch, false);
    const count = program.commands.length;
    const querySet = this.device.createQuerySet({ type: 'timestamp', count: count * 2 });
    const resolved = this.device.createBuffer({
      size: count * 16,
      usage: QUERY_RESOLVE | COPY_SRC,
    });
    const read = this.device.createBuffer({ size: count * 16, usage: MAP_READ | COPY_DST });
    this.stepCount++;
    this.writeStepUniform();
    this.writeInput(plan, input);
    const encoder = this.device.createCommandEncoder();
    program.commands.forEach((c, i) => {
      const pass = encoder.beginComputePass({
        timestampWrites: {
          querySet,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(c.workgroups[0], c.workgroups[1], c.workgroups[2]);
      pass.end();
    });
    this.encodeMirrorCopies(encoder);
    encoder.resolveQuerySet(querySet, 0, count * 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, read, 0, count * 16);
    this.device.queue.submit([encoder.finish()]);
    await read.mapAsync(1);
    const times = new BigInt64Array(read.getMappedRange().slice(0));
    read.destroy();
    resolved.destroy();
    querySet.destroy();
    const gpuMs: Partial<Record<KernelClass, number>> = {};
    result.dispatchMs = plan.dispatches.map((d, i) => {
      const ms = Number(times[2 * i + 1] - times[2 * i]) / 1e6;
      gpuMs[d.kernel.class] = (gpuMs[d.kernel.class] ?? 0) + ms;
      return { label: d.label, kernel: d.kernel.key, ms };
    });
    result.gpuMs = gpuMs;
    return result;
  }

  /**
   * Releases the step's buffers. The model's variables keep wrapping the
   * per-weight buffers, so those are handed back to tfjs first: each
   * variable gets a copy tfjs owns. Resolves once the buffers are destroyed
   * (a worker terminated while Dawn destroys one takes its process down).
   */
  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.disposed = true;
    const { tf, model } = this;
    if (!this.lostReason) {
      for (const [key, dataId] of this.wrapped) {
        const v = model.weights.get(key);
        if (!v || v.isDisposed || v.dataId !== dataId) continue;
        const mirror = this.mirrors.get(key) as GPUBuffer;
        const own = tf.tensor({ buffer: mirror }, [...v.shape], 'float32');
        v.assign(own);
        own.dispose();
      }
    }
    const all = [
      ...this.pool,
      ...[...this.arenas.values()].flat(),
      ...this.mirrors.values(),
      ...Object.values(this.external),
      this.stepUniform,
      ...this.readback.map((r) => r.buffer),
      ...[...this.programs.values()].flatMap((p) => [p.uniforms, ...(p.stats ? [p.stats] : [])]),
    ];
    // Destroyed once the queue has run what uses them (tfjs's copies above included).
    const backend = tfjsWebgpuBackend(tf);
    if (backend) flushTfjs(backend);
    return this.device.queue.onSubmittedWorkDone().then(
      () => {
        for (const b of all) b.destroy();
      },
      () => undefined,
    );
  }
}

/** A LayerStat from the stats kernel's [count, mean, M2, zeros, saturated] slots. */
function layerStat(point: Plan['statsPoints'][number], raw: Float32Array): LayerStat {
  const at = (slot: number) => raw.subarray(slot * 5, slot * 5 + 5);
  const [n, mean, m2, zeros, saturated] = at(point.activationSlot);
  const stat: LayerStat = {
    id: point.id,
    type: point.type,
    activationMean: mean,
    activationStd: Math.sqrt(Math.max(0, m2) / n),
  };
  if (point.gradientSlot !== undefined) {
    const [gn, gmean, gm2] = at(point.gradientSlot);
    stat.gradientMean = gmean;
    stat.gradientStd = Math.sqrt(Math.max(0, gm2) / gn);
  }
  if (point.type === 'ReLU') stat.deadFraction = zeros / n;
  if (point.type === 'Sigmoid' || point.type === 'Tanh') stat.saturatedFraction = saturated / n;
  return stat;
}

/** The refusal of a batch: what it needs, why it does not fit, and what does. */
function tooLarge(why: string, batch: number, bytes: number, fits: number): TooLarge {
  const advice =
    fits > 0
      ? `a batch of ${fits} fits (--batch-size ${fits})`
      : 'not even a batch of 1 fits: make the network or its input smaller';
  return new TooLarge(
    `a training step of ${batch} images needs ${mib(bytes)} on the GPU, and ${why}; ${advice}`,
    bytes,
    fits,
  );
}

/**
 * After an allocation failed: the largest of batch/2, batch/4, … whose
 * buffers the device does allocate (tried and released at once).
 */
async function probeFittingBatch(
  device: GPUDevice,
  inference: GraphInference,
  options: PlanOptions,
): Promise<number> {
  for (let batch = Math.floor(options.batch / 2); batch >= 1; batch = Math.floor(batch / 2)) {
    const plan = planStep(rebatch(inference, batch), { ...options, batch });
    device.pushErrorScope('out-of-memory');
    const buffers: GPUBuffer[] = [];
    for (let left = plan.bytes.total; left > 0; left -= device.limits.maxBufferSize) {
      buffers.push(
        device.createBuffer({ size: Math.min(left, device.limits.maxBufferSize), usage: STORAGE }),
      );
    }
    const error = await device.popErrorScope();
    for (const b of buffers) b.destroy();
    if (!error) return batch;
  }
  return 0;
}

function programKey(mode: 'train' | 'eval', batch: number, stats: boolean): string {
  return `${mode}:${batch}${stats ? ':stats' : ''}`;
}

function planOptions(
  options: CompiledStepOptions & { loss: LossKind; imageSize: [number, number] },
  mode: 'train' | 'eval',
  batch: number,
  device: GPUDevice,
): PlanOptions {
  const o = options.optimizer;
  const [beta1, beta2] = o.betas ?? [0.9, 0.999];
  return {
    mode,
    batch,
    imageSize: options.imageSize,
    loss: mode === 'eval' ? 'cross-entropy' : options.loss,
    optimizer: {
      kind: OPTIMIZER_KIND(o),
      weightDecay: o.weightDecay ?? 0,
      momentum: o.momentum ?? 0,
      beta1,
      beta2,
      eps: o.eps ?? 1e-8,
    },
    inputGradient: mode === 'train' && options.inputGradient,
    limits: deviceLimits(device),
  };
}
