/**
 * `npm start` after the Node check (scripts/start.mjs): choose the host
 * (choose-host.ts), then build and open the desktop app, or serve the web UI
 * and say why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseHost, WEB_FLAG } from './choose-host';
import { electronPackage } from './electron-runtime';
import { launchDesktop } from './launch-desktop';
import { progressLine } from './progress-line';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sampleData = path.join(root, 'resources', 'sample');
const studioArgs = [
  '--project',
  'lenet',
  ...(existsSync(sampleData) ? ['--data-dir', sampleData] : []),
  ...process.argv.slice(2).filter((arg) => arg !== WEB_FLAG),
];

/** The web host, after saying why (nothing to say when --web asked for it). */
function serveWeb(why: string | undefined): void {
  if (why)
    console.log(`${why}\nServing the studio to your browser instead: open the address below.`);
  else console.log('Serving the studio to your browser (--web): open the address below.');
  const child = spawn(
    process.execPath,
    [path.join(root, 'bin/convnet-studio.mjs'), 'serve', ...studioArgs],
    { cwd: root, stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

const progress = progressLine();
const choice = await chooseHost({
  args: process.argv.slice(2),
  electron: electronPackage(),
  say: (line) => {
    progress.finish();
    console.log(line);
  },
  progress: progress.update,
});
progress.finish();
if (choice.host === 'web') serveWeb(choice.why);
else {
  console.log('Building the desktop app (electron-vite build)…');
  const build = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    { cwd: root, stdio: 'inherit' },
  );
  if (build.status !== 0) process.exit(build.status ?? 1);
  const outcome = await launchDesktop(choice.binary, ['.', ...studioArgs], root);
  if (outcome.kind === 'closed') process.exit(outcome.code);
  serveWeb(outcome.why);
}
