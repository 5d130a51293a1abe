// `npm run test:e2e`: builds what the tests drive (the web renderer; the Electron bundle where
// Electron can run), then runs the end-to-end suite. Electron's binary is fetched as `npm start`
// fetches it (Electron's own installer, its cache and mirror settings), so the desktop tests run
// wherever it can be had; where it cannot, they are reported as skipped with the reason.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
register();
const { ensureRendererBuilt } = await import('../src/server/renderer-build.ts');
const { electronPackage, installElectron } = await import('../scripts/launch/electron-runtime.ts');
const { progressLine } = await import('../scripts/launch/progress-line.ts');
await ensureRendererBuilt((line) => console.log(line));

function run(args, env = process.env) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const electron = electronPackage();
const progress = progressLine();
const installed = await installElectron(electron, {
  onStart: (url) =>
    console.log(`Getting Electron ${electron.version} for the desktop tests: ${url}`),
  onProgress: progress.update,
});
progress.finish();
const env = { ...process.env };
if (installed.ok)
  run([path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);
else
  env.STUDIO_E2E_NO_ELECTRON = `Electron ${electron.version} could not be downloaded: ${installed.problem}`;
run(
  [
    path.join(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--config',
    path.join(root, 'e2e/vitest.config.mts'),
    ...process.argv.slice(2),
  ],
  env,
);
