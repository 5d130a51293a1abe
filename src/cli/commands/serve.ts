/** `convnet-studio serve`: the studio in a browser, served from this machine (the web host). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { HostInfo } from '../../api/project-api';
import { createStudioBackend } from '../../backend';
import { getPreset, presetNames } from '../../core/presets';
import { ensureRendererBuilt, repoRoot, webRendererDir } from '../../server/renderer-build';
import { startWebHost } from '../../server/web-host';
import { CliError } from '../errors';

interface ServeOptions {
  port: string;
  host: string;
  project?: string;
  dir?: string;
  dataDir?: string;
  stateDir?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the studio to a browser: the UI over HTTP, its API over a WebSocket')
    .option('--port <P>', 'port to listen on (0: any free port)', '5178')
    .option(
      '--host <ADDRESS>',
      'address to listen on; anything but 127.0.0.1 exposes your files',
      '127.0.0.1',
    )
    .option('--project <FILE|PRESET>', 'open this project file or preset (e.g. lenet) at start')
    .option(
      '--dir <FOLDER>',
      'project folder: files are opened and saved here (default: the current folder)',
    )
    .option('--data-dir <DIR>', 'dataset folder offered to training')
    .option(
      '--state-dir <DIR>',
      'where recent files and the autosave are kept (default ~/.config/convnet-studio)',
    )
    .action(async (opts: ServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be a whole number from 0 to 65535, got '${opts.port}'`);
      let projectFolder = path.resolve(opts.dir ?? process.cwd());
      const startup = resolveStartup(opts.project, projectFolder);
      if (startup.kind === 'file' && path.isAbsolute(startup.path)) {
        projectFolder = path.dirname(startup.path);
        startup.path = path.basename(startup.path);
      }
      await ensureRendererBuilt((line) => process.stderr.write(`${line}\n`));
      const { version } = JSON.parse(
        await readFile(path.join(repoRoot, 'package.json'), 'utf8'),
      ) as {
        version: string;
      };
      const host = await startWebHost({
        port,
        host: opts.host,
        staticDir: webRendererDir,
        createApi: (push) =>
          createStudioBackend({
            host: 'web',
            version,
            projectFolder,
            stateFolder: path.resolve(
              opts.stateDir ?? path.join(os.homedir(), '.config', 'convnet-studio'),
            ),
            startup,
            dataDir: opts.dataDir ? path.resolve(opts.dataDir) : undefined,
            push,
          }),
      });
      process.stdout.write(`ConvNet Studio is served at ${host.url}\n`);
      process.stdout.write(`Project folder: ${projectFolder}\n`);
      if (opts.host !== '127.0.0.1' && opts.host !== 'localhost' && opts.host !== '::1')
        process.stderr.write(
          `warning: listening on ${opts.host}: anyone who can reach this address can read and write project files in ${projectFolder}\n`,
        );
      const stop = () => {
        host.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** --project names a preset or a file; a file must exist and sit inside (or become) the project folder. */
function resolveStartup(project: string | undefined, folder: string): HostInfo['startup'] {
  if (project === undefined) return { kind: 'new' };
  if (getPreset(project)) return { kind: 'preset', name: project };
  const file = path.resolve(project);
  if (!existsSync(file))
    throw new CliError(
      `--project: '${project}' is neither a preset (${presetNames().join(', ')}) nor an existing file`,
    );
  const relative = path.relative(folder, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return { kind: 'file', path: file };
  return { kind: 'file', path: relative.split(path.sep).join('/') };
}
