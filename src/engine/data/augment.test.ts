import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeWith, PYTHON, pytorch, torchvision } from '../../../test/support/requirements';
import { augmentBatch, drawPlacements, type Placement, placeImage } from './augment';

/** A 5×6 image with 2 channels whose every value says where it came from. */
const shape = [5, 6, 2] as const;
const image = Float32Array.from({ length: 5 * 6 * 2 }, (_, i) => (i + 1) / 100);

function placed(padding: number, placement: Placement): number[] {
  const out = new Float32Array(image.length);
  placeImage(image, out, shape, padding, placement);
  return [...out];
}

/** torchvision's transforms, on the same image (as C×H×W), for each placement. */
const TORCHVISION = `
import json, sys, torch
import torchvision.transforms.functional as F
job = json.load(sys.stdin)
h, w, c = job['shape']
img = torch.tensor(job['image'], dtype=torch.float32).reshape(h, w, c).permute(2, 0, 1)
out = []
for p in job['placements']:
    x = F.crop(F.pad(img, job['padding'], fill=0), p['top'], p['left'], h, w)
    if p['flip']:
        x = F.hflip(x)
    out.append(x.permute(1, 2, 0).reshape(-1).tolist())
print(json.dumps(out))
`;

describeWith([pytorch, torchvision], 'augmentation as torchvision does it', () => {
  it('crops from the zero-padded image and flips exactly as RandomCrop and RandomHorizontalFlip', () => {
    const padding = 2;
    const placements: Placement[] = [
      { top: 0, left: 0, flip: false },
      { top: 4, left: 4, flip: false },
      { top: 2, left: 2, flip: false },
      { top: 1, left: 3, flip: true },
      { top: 4, left: 0, flip: true },
    ];
    const reference = JSON.parse(
      execFileSync(PYTHON, ['-c', TORCHVISION], {
        input: JSON.stringify({ shape, image: [...image], padding, placements }),
        encoding: 'utf8',
      }),
    ) as number[][];
    placements.forEach((placement, i) => {
      expect(placed(padding, placement)).toEqual(reference[i].map((v) => Math.fround(v)));
    });
  });
});

describe('drawing the placements', () => {
  it('cuts anywhere in [0, 2·padding] and flips about half the images, the same for the same batch', () => {
    const draw = { seed: 3, epoch: 1, batch: 7 };
    const placements = drawPlacements(4000, { cropPadding: 4, flip: true }, draw);
    const tops = new Set(placements.map((p) => p.top));
    expect([...tops].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const flipped = placements.filter((p) => p.flip).length / placements.length;
    expect(flipped).toBeGreaterThan(0.46);
    expect(flipped).toBeLessThan(0.54);
    expect(drawPlacements(4000, { cropPadding: 4, flip: true }, draw)).toEqual(placements);
    expect(drawPlacements(4000, { cropPadding: 4, flip: true }, { ...draw, batch: 8 })).not.toEqual(
      placements,
    );
  });

  it('leaves images alone without padding or flips, and changes a batch when asked', () => {
    const batch = Float32Array.from(
      { length: image.length * 3 },
      (_, i) => image[i % image.length],
    );
    const still = batch.slice();
    augmentBatch(still, shape, { cropPadding: 0, flip: false }, { seed: 0, epoch: 0, batch: 0 });
    expect(still).toEqual(batch);
    const moved = batch.slice();
    augmentBatch(moved, shape, { cropPadding: 2, flip: true }, { seed: 0, epoch: 0, batch: 0 });
    expect(moved).not.toEqual(batch);
    // Every value still comes from the image, or is the zero padding.
    for (const v of moved) expect(v === 0 || image.includes(v)).toBe(true);
  });
});
