/**
 * A smaller GPU than SwiftShader's, for the tests of what does not fit:
 * `navigator.gpu` replaced, before the webgpu backend starts, by one whose
 * adapter offers only WebGPU's default limits (maxStorageBufferBindingSize
 * 128 MiB and maxBufferSize 256 MiB, what every WebGPU device guarantees;
 * SwiftShader offers 1 GiB of each), so tfjs's device is made with those
 * requiredLimits. WebGPU does not say how much memory a GPU has (and
 * SwiftShader takes the computer's), so the device can also be given a
 * memory: creating a buffer that would take more than it in live buffers
 * is reported as out-of-memory by the error scope around it, as a full GPU
 * reports it. Everything else is the real SwiftShader device.
 */
import * as webgpu from 'webgpu';

export const DEFAULT_LIMITS = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
};

export interface LimitedGpu {
  /** Bytes in live buffers made through the device. */
  liveBytes(): number;
  /** From now on the device holds at most this many bytes (undefined: no memory limit). */
  setMemory(bytes: number | undefined): void;
}

/** Forwards to a native object, binding its methods to it (Dawn's objects check their receiver). */
function forward<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, key) {
      if (key in overrides) return overrides[key as keyof T];
      const value = Reflect.get(t, key);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

export function installLimitedGpu(): LimitedGpu {
  Object.assign(globalThis, webgpu.globals);
  // As the studio starts Dawn on a software adapter (src/engine/backends/index.ts).
  const gpu = webgpu.create(['enable-dawn-features=disable_workgroup_init']);
  let live = 0;
  let memory: number | undefined;
  const wrapDevice = (device: GPUDevice): GPUDevice => {
    const scopes: { filter: GPUErrorFilter; outOfMemory?: string }[] = [];
    return forward(device, {
      pushErrorScope(filter: GPUErrorFilter) {
        scopes.push({ filter });
        device.pushErrorScope(filter);
      },
      async popErrorScope() {
        const scope = scopes.pop();
        const error = await device.popErrorScope();
        if (error || !scope?.outOfMemory) return error;
        return new GPUOutOfMemoryError(scope.outOfMemory);
      },
      createBuffer(descriptor: GPUBufferDescriptor) {
        const buffer = device.createBuffer(descriptor);
        if (memory !== undefined && live + descriptor.size > memory) {
          const scope = scopes.findLast((s) => s.filter === 'out-of-memory');
          if (scope) {
            scope.outOfMemory = `a buffer of ${descriptor.size} bytes does not fit in the ${memory} bytes of this GPU (${live} in use)`;
            return buffer;
          }
        }
        live += descriptor.size;
        const destroy = buffer.destroy.bind(buffer);
        let destroyed = false;
        buffer.destroy = () => {
          if (!destroyed) live -= descriptor.size;
          destroyed = true;
          destroy();
        };
        return buffer;
      },
    });
  };
  const wrapAdapter = (adapter: GPUAdapter): GPUAdapter => {
    const limits = forward(adapter.limits, DEFAULT_LIMITS);
    return forward(adapter, {
      limits,
      async requestDevice(descriptor?: GPUDeviceDescriptor) {
        const requiredLimits = { ...descriptor?.requiredLimits, ...DEFAULT_LIMITS };
        return wrapDevice(await adapter.requestDevice({ ...descriptor, requiredLimits }));
      },
    });
  };
  const limited = forward(gpu, {
    async requestAdapter(options?: GPURequestAdapterOptions) {
      const adapter = await gpu.requestAdapter(options);
      return adapter && wrapAdapter(adapter);
    },
  });
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu: limited },
    configurable: true,
  });
  return {
    liveBytes: () => live,
    setMemory: (bytes) => {
      memory = bytes;
    },
  };
}
