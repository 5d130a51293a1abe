import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { EpochEvent } from '../../api/training-protocol';
import { CURVES_FONT, renderCurvesPng, renderCurvesSvg } from './curves';

const epoch = (n: number, trainLoss: number, valLoss: number, valAcc: number): EpochEvent => ({
  event: 'epoch',
  epoch: n,
  epochs: 3,
  trainLoss,
  trainAcc: valAcc,
  valLoss,
  valAcc,
  samplesPerSec: 100,
  etaSec: 0,
  lr: 0.1,
  seconds: 1,
  backend: 'cpu',
  memoryBytes: 0,
  tensors: 0,
});

describe('training curves', () => {
  const epochs = [epoch(1, 2.3, 2.2, 0.1), epoch(2, 1.2, 1.0, 0.6), epoch(3, 0.8, 0.7, 0.72)];

  it('draws the three course series with a legend, scaled to the largest value', () => {
    const svg = renderCurvesSvg(epochs, 'LeNet <5>');
    for (const label of ['train_loss', 'val_loss', 'val_acc']) expect(svg).toContain(label);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('LeNet &lt;5&gt;');
    // The y axis reaches past the largest loss (2.3).
    expect(svg).toContain('>2.42<');
  });

  it('renders to a PNG of the SVG size with the series colours in it', () => {
    const png = PNG.sync.read(Buffer.from(renderCurvesPng(renderCurvesSvg(epochs, 'run'))));
    expect([png.width, png.height]).toEqual([560, 320]);
    let blue = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      if (png.data[i] < 60 && png.data[i + 1] > 100 && png.data[i + 2] > 160) blue++;
    }
    expect(blue).toBeGreaterThan(100);
  });

  it('writes its text with the shipped font, not only where the system has fonts', () => {
    // Found, the shipped font is the only one loaded.
    expect(CURVES_FONT).toMatch(/resources\/fonts\/DejaVuSans\.ttf$/);
    const png = PNG.sync.read(Buffer.from(renderCurvesPng(renderCurvesSvg(epochs, 'LeNet-5'))));
    // The title's glyphs are the only dark pixels in the top 22 rows.
    let dark = 0;
    for (let i = 0; i < png.width * 22 * 4; i += 4) {
      if (png.data[i] < 80 && png.data[i + 1] < 80 && png.data[i + 2] < 80) dark++;
    }
    expect(dark).toBeGreaterThan(30);
  });
});
