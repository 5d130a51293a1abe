/**
 * How much one project may make the studio compute. A project file is small,
 * but blocks that reuse each other multiply (ten uses of a block of ten uses
 * of a block… is 10^depth layers) and one number can ask for a tensor no
 * machine holds; shape inference runs on every edit, in the editor and on the
 * host, so it refuses such projects quickly with a message naming the limit
 * instead of stalling or running out of memory. docs/layers.md explains each.
 */

export const LIMITS = {
  /**
   * Layers after every block is expanded. The largest classic networks have
   * about a thousand (ResNet-152: 500, DenseNet-264: 1,000; the presets here
   * at most 300); each layer is several tfjs kernels per step, so beyond this
   * a network is a mistake (blocks reusing each other) rather than a design.
   */
  layers: 10_000,
  /** Edges in one graph (the project's or a block's inside): a few per layer. */
  edges: 40_000,
  /** Blocks inside blocks (the presets nest two deep). */
  depth: 16,
  /**
   * Values in one weight tensor: 2^28 (1 GiB of float32). VGG-16's largest,
   * its first Linear, has 103 M; tfjs and the exporters hold a tensor in one
   * array, and the wasm backend has 4 GiB in all.
   */
  tensorValues: 2 ** 28,
  /** Values of one layer's output for one image: 2^28 (1 GiB); VGG at 224×224 peaks at 3.2 M. */
  activationValues: 2 ** 28,
  /**
   * Trainable parameters of the whole network: 2^30 (4 GiB of float32).
   * Training holds at least the weights, their gradients and the optimizer's
   * state, which is more than any backend here can hold past this.
   */
  params: 2 ** 30,
} as const;

/** 268435456 → "268.4 M" (for limit messages). */
export function formatLimit(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return n.toLocaleString('en-US');
}

/** A limit exceeded while expanding blocks: stops inference at once (the work could be exponential). */
export class LimitError extends Error {
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}
