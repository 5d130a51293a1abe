/**
 * Data augmentation for training batches, as torchvision's transforms do it
 * to each image: RandomCrop(size, padding) pads every side with zeros and
 * cuts a window of the original size at a random place; RandomHorizontalFlip
 * mirrors half the images. Applied to training batches only (never to the
 * images a run is validated or evaluated on), at the images' stored size
 * before any resize, with draws that depend only on (seed, epoch, batch) so a
 * run, and a resumed run, repeats exactly.
 */
import { seededRandom } from './random';

export interface Augmentation {
  /** RandomCrop's padding in pixels on each side; 0: no cropping. */
  cropPadding: number;
  /** RandomHorizontalFlip with p = 0.5. */
  flip: boolean;
}

/** Which draw of a run a training batch is: its placements depend only on this. */
export interface AugmentDraw {
  seed: number;
  epoch: number;
  batch: number;
}

/** A training batch's augmentation: what to do and which draw it is. */
export interface BatchAugmentation {
  augmentation: Augmentation;
  draw: AugmentDraw;
}

/** Where one image is cut from its padded self, and whether it is mirrored. */
export interface Placement {
  top: number;
  left: number;
  flip: boolean;
}

/** Whether the augmentation changes anything. */
export function augments(augmentation: Augmentation): boolean {
  return augmentation.cropPadding > 0 || augmentation.flip;
}

/** A run's augmentation as its start event records it; undefined when it changes nothing. */
export function augmentationOf(options: Augmentation): Augmentation | undefined {
  return augments(options) ? { cropPadding: options.cropPadding, flip: options.flip } : undefined;
}

/**
 * The placements of a batch's images, drawn as torchvision draws them: the
 * crop's top and left each uniformly in [0, 2·padding] (RandomCrop.get_params),
 * then a flip with probability 0.5.
 */
export function drawPlacements(
  count: number,
  augmentation: Augmentation,
  draw: AugmentDraw,
): Placement[] {
  const next = seededRandom(
    Math.imul(draw.seed | 0, 0x2c1b3c6d) ^
      Math.imul(draw.epoch + 1, 0x297a2d39) ^
      Math.imul(draw.batch + 1, 0x6c8e9cf5),
  );
  const span = 2 * augmentation.cropPadding + 1;
  return Array.from({ length: count }, () => {
    const top = Math.floor(next() * span);
    const left = Math.floor(next() * span);
    return { top, left, flip: augmentation.flip && next() < 0.5 };
  });
}

/**
 * One H×W×C image cropped from its zero-padded self and mirrored if asked:
 * torchvision's hflip(crop(pad(img, padding), top, left, H, W)). Writes into
 * `out` (which must not be `image`).
 */
export function placeImage(
  image: Float32Array,
  out: Float32Array,
  [h, w, c]: readonly [number, number, number],
  padding: number,
  { top, left, flip }: Placement,
): void {
  for (let y = 0; y < h; y++) {
    const sy = y + top - padding;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + left - padding;
      const to = (y * w + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) out.fill(0, to, to + c);
      else for (let k = 0; k < c; k++) out[to + k] = image[(sy * w + sx) * c + k];
    }
  }
}

/** Augments a gathered batch (N×H×W×C, `shape` is one image's H×W×C) in place. */
export function augmentBatch(
  images: Float32Array,
  shape: readonly [number, number, number],
  augmentation: Augmentation,
  draw: AugmentDraw,
): void {
  const size = shape[0] * shape[1] * shape[2];
  const count = images.length / size;
  const placements = drawPlacements(count, augmentation, draw);
  const original = new Float32Array(size);
  for (let i = 0; i < count; i++) {
    const image = images.subarray(i * size, (i + 1) * size);
    original.set(image);
    placeImage(original, image, shape, augmentation.cropPadding, placements[i]);
  }
}
