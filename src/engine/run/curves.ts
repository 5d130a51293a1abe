/**
 * The course's training plot (d2l's ProgressBoard): train loss, val loss and
 * val accuracy against the epoch on one set of axes, as SVG and rendered to PNG
 * with resvg (Node only); the recorder writes both into the run folder.
 */
import { Resvg } from '@resvg/resvg-js';
import type { EpochEvent } from '../../api/training-protocol';
import { findShippedFile } from '../../node/shipped-files';

const WIDTH = 560;
const HEIGHT = 320;
/** The legend sits right of the plot, where it cannot hide a curve. */
const MARGIN = { left: 48, right: 106, top: 28, bottom: 40 };

/** Colours and dashes as matplotlib draws d2l's three series. */
const SERIES = [
  { key: 'trainLoss', label: 'train_loss', color: '#1f77b4', dash: '' },
  { key: 'valLoss', label: 'val_loss', color: '#ff7f0e', dash: '6 4' },
  { key: 'valAcc', label: 'val_acc', color: '#2ca02c', dash: '8 3 2 3' },
] as const;

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );

export function renderCurvesSvg(epochs: EpochEvent[], title: string): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lastEpoch = Math.max(1, epochs.length);
  const finite = epochs.flatMap((e) => SERIES.map((s) => e[s.key])).filter(Number.isFinite);
  const yMax = Math.max(1, ...finite) * 1.05;
  const x = (epoch: number) =>
    MARGIN.left + (lastEpoch === 1 ? plotW / 2 : ((epoch - 1) / (lastEpoch - 1)) * plotW);
  const y = (value: number) => MARGIN.top + plotH - (Math.min(value, yMax) / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = (yMax * i) / 4;
    parts.push(
      `<line x1="${MARGIN.left - 4}" x2="${MARGIN.left}" y1="${y(value)}" y2="${y(value)}" stroke="#444"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${value.toFixed(2)}</text>`,
    );
  }
  const tickStep = Math.max(1, Math.ceil(lastEpoch / 10));
  for (let epoch = 1; epoch <= lastEpoch; epoch += tickStep) {
    parts.push(
      `<line x1="${x(epoch)}" x2="${x(epoch)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#444"/>`,
      `<text x="${x(epoch)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${epoch}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">epoch</text>`,
  );
  SERIES.forEach((series, i) => {
    const points = epochs
      .filter((e) => Number.isFinite(e[series.key]))
      .map((e) => `${x(e.epoch).toFixed(1)},${y(e[series.key]).toFixed(1)}`);
    if (points.length > 1) {
      parts.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2" stroke-dasharray="${series.dash}"/>`,
      );
    }
    for (const point of points) {
      const [px, py] = point.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${series.color}"/>`);
    }
    const legendY = MARGIN.top + 14 + i * 16;
    const legendX = MARGIN.left + plotW + 10;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${series.color}" stroke-width="2" stroke-dasharray="${series.dash}"/>`,
      `<text x="${legendX + 30}" y="${legendY}">${series.label}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Shipped, so that the PNG has its text on machines without fonts (servers, containers). */
export const CURVES_FONT = findShippedFile('resources/fonts/DejaVuSans.ttf');

export function renderCurvesPng(svg: string): Uint8Array {
  const font = CURVES_FONT
    ? { fontFiles: [CURVES_FONT], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' }
    : { loadSystemFonts: true };
  return new Resvg(svg, { font, background: 'white' }).render().asPng();
}
