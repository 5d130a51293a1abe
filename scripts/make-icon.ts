// Renders the app's icon (resources/icon.svg) to resources/icon.png, 1024×1024, from which
// electron-builder makes each platform's icons (.icns, .ico, the Linux sizes):
// npx tsx scripts/make-icon.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

const svg = readFileSync('resources/icon.svg', 'utf8');
const png = new Resvg(svg, { fitTo: { mode: 'width', value: 1024 } }).render().asPng();
writeFileSync('resources/icon.png', png);
