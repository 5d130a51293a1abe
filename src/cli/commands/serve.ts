/** `convnet-studio serve`: the studio in a browser, served from this machine (the web host). */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { HostInfo } from '../../api/project-api';
import { createStudioBackend } from '../../backend';
import { findDownload } from '../../backend/downloads';
import { getPreset, presetNames } from '../../core/presets';
import { isInside } from '../../node/confined-path';
import { chooseWorkspace, openWorkspace, type WorkspaceChoice } from '../../node/workspace';
import { ensureRendererBuilt, repoRoot, webRendererDir } from '../../server/renderer-build';
import { startWebHost } from '../../server/web-host';
import { CliError } from '../errors';

interface ServeOptions {
  port: string;
  host: string;
  project?: string;
  workspace?: string;
  dataDir: string[];
  stateDir?: string;
  allowHost: string[];
}

/** Environment variable that fixes the access token (kept out of the command line, which `ps` shows). */
export const TOKEN_VARIABLE = 'CONVNET_STUDIO_TOKEN';
const MIN_TOKEN_LENGTH = 16;

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the studio to a browser: the UI over HTTP, its API over a WebSocket')
    .option('--port <P>', 'port to listen on (0: any free port)', '5178')
    .option(
      '--host <ADDRESS>',
      `address to listen on; one other than this machine's own (127.0.0.1, ::1, localhost) lets others on the network reach it, and needs ${TOKEN_VARIABLE} set`,
      '127.0.0.1',
    )
    .option('--project <FILE|PRESET>', 'open this project file or preset (e.g. lenet) at start')
    .option(
      '--workspace <FOLDER>',
      'where projects, runs and exports are kept (default: the saved choice, else ~/Documents/ConvNet Studio)',
    )
    .option(
      '--data-dir <DIR>',
      'dataset folder training may read (repeatable; the first is offered by default)',
      collect,
      [],
    )
    .option(
      '--state-dir <DIR>',
      'where settings, recent files and the autosave are kept (default ~/.config/convnet-studio)',
    )
    .option(
      '--allow-host <NAME>',
      'a host name the browser may use for this machine besides its own (repeatable)',
      collect,
      [],
    )
    .addHelpText(
      'after',
      `
Access: every launch makes a secret token and prints the address with it
(http://127.0.0.1:5178/?token=…); the page, downloads and the API need it.
Set ${TOKEN_VARIABLE} (at least ${MIN_TOKEN_LENGTH} characters) to choose it yourself;
an address other than this machine's own (--host 0.0.0.0) is refused without it.`,
    )
    .action(async (opts: ServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be a whole number from 0 to 65535, got '${opts.port}'`);
      const chosenToken = process.env[TOKEN_VARIABLE];
      const token = accessToken(chosenToken);
      if (!isLoopback(opts.host) && chosenToken === undefined)
        throw new CliError(remoteRefusal(opts.host, port));
      const stateFolder = path.resolve(
        opts.stateDir ?? path.join(os.homedir(), '.config', 'convnet-studio'),
      );
      let workspace = chooseWorkspace({ flag: opts.workspace, stateFolder });
      const startup = resolveStartup(opts.project);
      if (startup.kind === 'file') {
        // A project file outside the workspace brings its own folder as the workspace.
        if (!isInside(startup.path, path.resolve(workspace.folder))) {
          workspace = { folder: path.dirname(startup.path), source: 'flag' };
        }
        startup.path = path.relative(workspace.folder, startup.path).split(path.sep).join('/');
      }
      let projectFolder: string;
      try {
        projectFolder = openWorkspace(workspace.folder, repoRoot);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const dataDirs = opts.dataDir.map((dir) => path.resolve(dir));
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
        token,
        allowedHosts: opts.allowHost,
        createApi: (push) =>
          createStudioBackend({
            host: 'web',
            version,
            projectFolder,
            stateFolder,
            startup,
            dataDir: dataDirs[0],
            dataDirs,
            push,
          }),
        findDownload: (request) => findDownload(projectFolder, request),
      });
      process.stdout.write(`ConvNet Studio is served at ${host.url}\n`);
      process.stdout.write(`Workspace: ${projectFolder} (${describeChoice(workspace)})\n`);
      if (!isLoopback(opts.host))
        process.stderr.write(
          `warning: listening on ${opts.host}: anyone who can reach it and has the address with its token can read and write the workspace ${projectFolder}. The address travels unencrypted over HTTP: prefer an SSH tunnel (${sshTunnel(Number(new URL(host.url).port))}) or a TLS proxy.\n`,
        );
      const stop = () => {
        host.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/**
 * Whether an address to listen on is this machine's own (127.0.0.0/8, ::1,
 * localhost). A host name is not: it may resolve to any address.
 */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * Why serving beyond this machine needs a token the user chose: the printed
 * address (with its token) then reaches whoever it is shown or sent to, so
 * the user must decide to share it, knowing that plain HTTP carries it
 * unencrypted.
 */
function remoteRefusal(host: string, port: number): string {
  return [
    `--host ${host} would serve the studio (and read and write access to its workspace) to other machines, which is refused unless you choose the access token yourself:`,
    `set ${TOKEN_VARIABLE} to a secret of at least ${MIN_TOKEN_LENGTH} printable characters (for example: export ${TOKEN_VARIABLE}=$(openssl rand -hex 32)) and start again.`,
    `Plain HTTP carries that token unencrypted; safer is to keep the default --host 127.0.0.1 and reach it through an SSH tunnel (${sshTunnel(port)}) or a TLS reverse proxy (give its name with --allow-host).`,
  ].join('\n');
}

/** The command that reaches a studio on `port` of this machine through SSH (0: the port it will get). */
function sshTunnel(port: number): string {
  const shown = port === 0 ? 'PORT' : String(port);
  return `ssh -L ${shown}:127.0.0.1:${shown} this-machine`;
}

/** The token from the environment, or a fresh random one (256 bits). */
function accessToken(fromEnvironment: string | undefined): string {
  if (fromEnvironment === undefined) return randomBytes(32).toString('base64url');
  if (fromEnvironment.length < MIN_TOKEN_LENGTH || /[^\x21-\x7e]/.test(fromEnvironment)) {
    throw new CliError(
      `${TOKEN_VARIABLE} must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces; unset it to get a random token`,
    );
  }
  return fromEnvironment;
}

function describeChoice(choice: WorkspaceChoice): string {
  if (choice.source === 'flag') return 'for this launch';
  if (choice.source === 'settings') return 'the saved choice; another with --workspace';
  return 'the default; another with --workspace';
}

/** --project names a preset or an existing file (made absolute). */
function resolveStartup(project: string | undefined): HostInfo['startup'] {
  if (project === undefined) return { kind: 'new' };
  if (getPreset(project)) return { kind: 'preset', name: project };
  const file = path.resolve(project);
  if (!existsSync(file))
    throw new CliError(
      `--project: '${project}' is neither a preset (${presetNames().join(', ')}) nor an existing file`,
    );
  return { kind: 'file', path: file };
}
