/**
 * Small images drawn on canvases: dataset images and feature maps (bytes,
 * grey or a perceptual colour map) and convolution kernels (a diverging map:
 * blue negative, white zero, red positive). Pixels stay crisp when scaled.
 */
import { useEffect, useRef } from 'react';
import type { ImageBytes } from '../../api/evaluation-api';

export function decodeBase64(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Viridis at 9 stops, interpolated: dark blue (low) to yellow (high), readable in grey print. */
const VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** -1..1 to blue-white-red. */
function diverging(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(-1, t));
  return v < 0
    ? [255 + v * (255 - 33), 255 + v * (255 - 102), 255 + v * (255 - 172)]
    : [255 - v * (255 - 178), 255 - v * (255 - 24), 255 - v * (255 - 43)];
}

export type Palette = 'grey' | 'viridis';

/** RGBA pixels from H×W×C bytes (C = 1 or 3). */
export function rgbaFromBytes(
  bytes: Uint8Array,
  width: number,
  height: number,
  channels: number,
  palette: Palette = 'grey',
  offset = 0,
): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    if (channels === 3) {
      rgba.set(bytes.subarray(offset + p * 3, offset + p * 3 + 3), p * 4);
    } else {
      const v = bytes[offset + p];
      const [r, g, b] = palette === 'viridis' ? viridis(v / 255) : [v, v, v];
      rgba[p * 4] = r;
      rgba[p * 4 + 1] = g;
      rgba[p * 4 + 2] = b;
    }
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}

/** RGBA pixels of one kernel slice, values scaled by ±absMax. */
export function rgbaFromWeights(
  values: ArrayLike<number>,
  offset: number,
  width: number,
  height: number,
  absMax: number,
): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = diverging(values[offset + p] / (absMax || 1));
    rgba.set([r, g, b, 255], p * 4);
  }
  return rgba;
}

interface PixelsProps {
  rgba: Uint8ClampedArray<ArrayBuffer>;
  width: number;
  height: number;
  /** Displayed size in CSS pixels (the longer side). */
  size: number;
  title?: string;
  /** Draw this tall whatever the aspect (a one-row strip of values). */
  stretchHeight?: number;
}

export function Pixels({ rgba, width, height, size, title, stretchHeight }: PixelsProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (context) context.putImageData(new ImageData(rgba, width, height), 0, 0);
  }, [rgba, width, height]);
  const scale = size / Math.max(width, height);
  return (
    <canvas
      ref={canvas}
      width={width}
      height={height}
      title={title}
      className="pixels"
      style={{ width: width * scale, height: stretchHeight ?? height * scale }}
    />
  );
}

export function ImageView({
  image,
  size,
  title,
}: {
  image: ImageBytes;
  size: number;
  title?: string;
}) {
  const rgba = rgbaFromBytes(decodeBase64(image.base64), image.width, image.height, image.channels);
  return <Pixels rgba={rgba} width={image.width} height={image.height} size={size} title={title} />;
}

/**
 * A dropped picture, drawn onto a canvas of the model's input size (covering
 * it, centred) and read back as bytes: grey (luminance) for one channel.
 * Fashion-MNIST shows light garments on black, while photos are mostly light
 * backgrounds; `invert: 'auto'` inverts a picture whose mean is light.
 */
export async function imageFileToBytes(
  file: Blob,
  width: number,
  height: number,
  channels: number,
  invert: boolean | 'auto' = 'auto',
): Promise<ImageBytes> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  const scale = Math.max(width / bitmap.width, height / bitmap.height);
  const w = bitmap.width * scale;
  const h = bitmap.height * scale;
  context.drawImage(bitmap, (width - w) / 2, (height - h) / 2, w, h);
  const { data } = context.getImageData(0, 0, width, height);
  const bytes = new Uint8Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = [data[p * 4], data[p * 4 + 1], data[p * 4 + 2]];
    if (channels === 1) bytes[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else bytes.set([r, g, b], p * 3);
  }
  const mean = bytes.reduce((a, b) => a + b, 0) / bytes.length;
  if (invert === true || (invert === 'auto' && mean > 127)) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = 255 - bytes[i];
  }
  return { width, height, channels, base64: encodeBase64(bytes) };
}
