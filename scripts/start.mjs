// `npm start`: the desktop app where Electron can run; otherwise (no Electron
// binary, as on a headless box) the same studio served to a browser.
// Either way it opens the LeNet preset, with the bundled sample data offered
// to training. Extra arguments go to `convnet-studio serve` (e.g. --port 8080).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary, electronMissingReason } from './electron-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sampleData = path.join(root, 'resources', 'sample');
const dataArgs = existsSync(sampleData) ? ['--data-dir', sampleData] : [];
const extra = process.argv.slice(2);

function run(command, args) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

const binary = electronBinary();
if (binary) {
  console.log('Building the desktop app (electron-vite build)…');
  const build = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (build.status !== 0) process.exit(build.status ?? 1);
  run(binary, ['.', '--project', 'lenet', ...dataArgs, ...extra]);
} else {
  console.log(`Electron cannot run here: ${electronMissingReason}.`);
  console.log('Starting the web host instead; open the address below in a browser.');
  run(process.execPath, [
    path.join(root, 'bin/convnet-studio.mjs'),
    'serve',
    '--project',
    'lenet',
    ...dataArgs,
    ...extra,
  ]);
}
