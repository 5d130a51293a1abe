/**
 * Electron's binary for `npm start`: where it is, and getting it with
 * Electron's own machinery when it is missing. Electron 42+ fetches its binary
 * on first launch (or with `npx install-electron`), never at `npm ci`; this
 * does the same thing, in two steps, so the terminal can show progress and a
 * failure can be explained:
 *
 * 1. `@electron/get` downloads the archive into Electron's cache, with the
 *    options `electron/install.js` uses (its version, its checksums file, the
 *    cache root `electron_config_cache`, the platform and architecture
 *    overrides). `@electron/get` itself honours `ELECTRON_MIRROR`,
 *    `ELECTRON_CUSTOM_DIR`, `ELECTRON_CUSTOM_FILENAME` and their `.npmrc`
 *    forms, and verifies the SHA-256 checksum before anything is cached.
 * 2. `electron/install.js` (what `npx install-electron` runs) then finds the
 *    archive in the cache, checks it again and unpacks it into
 *    `node_modules/electron/dist`, exactly as it would have on its own.
 *
 * No downloader of our own: the watchdog below only aborts a connection that
 * has gone quiet, and the progress callback is `@electron/get`'s.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { downloadArtifact, FetchDownloader, initializeProxy } from '@electron/get';

const require = createRequire(import.meta.url);

/** The installed `electron` package: its folder and the version whose binary it wants. */
export interface ElectronPackage {
  dir: string;
  version: string;
}

export function electronPackage(): ElectronPackage {
  const manifest = require.resolve('electron/package.json');
  return {
    dir: path.dirname(manifest),
    version: JSON.parse(readFileSync(manifest, 'utf8')).version,
  };
}

/**
 * The binary for this `electron` package, found as `require('electron')` finds
 * it but without triggering a download (requiring the package would), and
 * only if it is this package's version (as install.js checks: after an
 * upgrade the old binary is replaced): null when there is none.
 */
export function installedElectron(electron: ElectronPackage, env = process.env): string | null {
  const pathFile = path.join(electron.dir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const binary = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative ?? 'electron');
    return existsSync(binary) ? binary : null;
  }
  if (!relative) return null;
  const versionFile = path.join(electron.dir, 'dist', 'version');
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : '';
  const binary = path.join(electron.dir, 'dist', relative);
  return version.replace(/^v/, '') === electron.version && existsSync(binary) ? binary : null;
}

export interface DownloadProgress {
  transferred: number;
  /** Bytes in all, when the server said (Content-Length). */
  total: number | null;
}

export interface InstallOptions {
  /** Called when the archive's download starts, with its address. */
  onStart?: (url: string) => void;
  /** Called as bytes of the archive arrive. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Give up when no bytes arrive for this long (default 30 s). */
  stallTimeoutMs?: number;
}

export type InstallResult =
  | { ok: true; binary: string }
  | {
      ok: false;
      /** What went wrong, in a sentence. */
      problem: string;
      /** The address the archive was asked from, when a request was made. */
      url?: string;
    };

/**
 * The archive `electron/install.js` would fetch for this machine, with the same
 * overrides. (On a Mac under Rosetta install.js asks for arm64 instead; there
 * it downloads that archive itself, without this progress.)
 */
function artifactTarget(env: NodeJS.ProcessEnv): { platform: string; arch: string } {
  return {
    platform: env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform,
    arch: env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch,
  };
}

/**
 * Proxy settings: `@electron/get` routes its requests through `HTTPS_PROXY` /
 * `HTTP_PROXY` (minus `NO_PROXY`) only when asked to (`ELECTRON_GET_USE_PROXY`);
 * a user who set a proxy expects it used, so it is switched on for them.
 */
function proxyConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    env.ELECTRON_GET_USE_PROXY ||
      env.HTTPS_PROXY ||
      env.https_proxy ||
      env.HTTP_PROXY ||
      env.http_proxy,
  );
}

class Stalled extends Error {
  constructor(
    readonly host: string,
    readonly seconds: number,
  ) {
    super(`no data from ${host} for ${seconds} s`);
  }
}

/**
 * Downloads and unpacks Electron's binary for the installed `electron`
 * package (a no-op when it is already there). Never throws: a failure comes
 * back with what went wrong and the address that was tried.
 */
export async function installElectron(
  electron: ElectronPackage,
  options: InstallOptions = {},
): Promise<InstallResult> {
  const env = process.env;
  const existing = installedElectron(electron);
  if (existing) return { ok: true, binary: existing };
  if (env.ELECTRON_OVERRIDE_DIST_PATH)
    return {
      ok: false,
      problem: `ELECTRON_OVERRIDE_DIST_PATH is set to ${env.ELECTRON_OVERRIDE_DIST_PATH}, which holds no Electron binary (unset it to download one)`,
    };
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  let artifactUrl: string | undefined;
  let stalled: Stalled | undefined;

  // @electron/get's own downloader, wrapped to learn the address it fetches and
  // to abort a connection that stops sending.
  const fetcher = new FetchDownloader();
  const downloader = {
    async download(url: string, target: string, downloadOptions: object = {}) {
      const isArtifact = !url.endsWith('SHASUMS256.txt');
      if (isArtifact) {
        artifactUrl = url;
        options.onStart?.(url);
      }
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const watch = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          stalled = new Stalled(new URL(url).host, stallTimeoutMs / 1000);
          abort.abort(stalled);
        }, stallTimeoutMs);
      };
      watch();
      try {
        await fetcher.download(url, target, {
          ...downloadOptions,
          quiet: true,
          signal: abort.signal,
          getProgressCallback: async ({ transferred, total }) => {
            watch();
            if (isArtifact) options.onProgress?.({ transferred, total });
          },
        });
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const proxied = proxyConfigured(env);
  if (proxied) initializeProxy();
  const useRemoteChecksums =
    env.electron_use_remote_checksums || env.npm_config_electron_use_remote_checksums;
  try {
    await downloadArtifact({
      version: electron.version,
      artifactName: 'electron',
      cacheRoot: env.electron_config_cache,
      checksums: useRemoteChecksums
        ? undefined
        : JSON.parse(readFileSync(path.join(electron.dir, 'checksums.json'), 'utf8')),
      ...artifactTarget(env),
      downloader,
    });
  } catch (err) {
    return { ok: false, problem: describeFailure(stalled ?? err, artifactUrl), url: artifactUrl };
  }

  // Electron's installer takes the verified archive from the cache and unpacks it.
  try {
    await promisify(execFile)(process.execPath, [path.join(electron.dir, 'install.js')], {
      env: { ...env, ...(proxied ? { ELECTRON_GET_USE_PROXY: '1' } : {}) },
    });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    const firstLine = stderr.split('\n').find((line) => line.trim()) ?? (err as Error).message;
    return {
      ok: false,
      problem: `Electron's installer could not unpack the downloaded archive: ${firstLine}`,
      url: artifactUrl,
    };
  }
  const binary = installedElectron(electron);
  return binary
    ? { ok: true, binary }
    : {
        ok: false,
        problem: `Electron's installer finished, but no binary is in ${path.join(electron.dir, 'dist')}`,
        url: artifactUrl,
      };
}

/** A download error as a sentence that names the host and what happened. */
export function describeFailure(err: unknown, url: string | undefined): string {
  const host = url ? new URL(url).host : 'the download host';
  if (err instanceof Stalled) return `${err.message} (a stalled or very slow connection)`;
  const error = err as Error & {
    cause?: { code?: string; message?: string };
    response?: { status: number; statusText: string };
  };
  if (error.name === 'HTTPError' && error.response) {
    const { status, statusText } = error.response;
    return `${host} answered ${status}${statusText ? ` ${statusText}` : ''}`;
  }
  if (error.constructor?.name === 'ChecksumMismatchError')
    return `the archive from ${host} is damaged or not Electron's: its SHA-256 checksum does not match the one Electron publishes, so it was discarded`;
  if (error.constructor?.name === 'NoChecksumFoundError')
    return `${host} served a checksum file that does not list ${path.basename(url ?? 'the archive')}`;
  const code = error.cause?.code;
  const network: Record<string, string> = {
    ENOTFOUND: `cannot resolve ${host} (no internet access, or no DNS)`,
    EAI_AGAIN: `cannot resolve ${host} (no internet access, or no DNS)`,
    ECONNREFUSED: `${host} refused the connection`,
    ECONNRESET: `${host} closed the connection`,
    ETIMEDOUT: `the connection to ${host} timed out`,
    UND_ERR_CONNECT_TIMEOUT: `the connection to ${host} timed out`,
    UND_ERR_SOCKET: `the connection to ${host} broke off`,
  };
  if (code && network[code]) return `${network[code]} [${code}]`;
  if (code) return `${host}: ${error.cause?.message ?? error.message} [${code}]`;
  return error.message;
}
