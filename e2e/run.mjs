// `npm run test:e2e`: builds what the tests drive (the web renderer; the
// Electron bundle where Electron can run), then runs the end-to-end suite.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { electronBinary } from '../scripts/electron-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
register();
const { ensureRendererBuilt } = await import('../src/server/renderer-build.ts');
await ensureRendererBuilt((line) => console.log(line));

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (electronBinary())
  run([path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);
run([
  path.join(root, 'node_modules/vitest/vitest.mjs'),
  'run',
  '--config',
  path.join(root, 'e2e/vitest.config.mts'),
  ...process.argv.slice(2),
]);
