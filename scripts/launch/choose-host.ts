/**
 * What `npm start` opens: the desktop app wherever it can run, the web host
 * (the same studio in a browser) only when it cannot, and always saying why.
 *
 * - `--web` asks for the browser: no download, no window.
 * - Electron's binary missing: it is downloaded with Electron's own machinery
 *   (electron-runtime.ts), with progress; a failed download falls back to the
 *   browser with the error, the address tried, and how to retry or use a mirror.
 * - Linux without DISPLAY or WAYLAND_DISPLAY: no window can open.
 *
 * The download comes before the display check so that the binary is in
 * Electron's cache the first time a display is there (an `ssh -X` session, a
 * desktop login) and so a headless first start says everything at once.
 */
import {
  type DownloadProgress,
  type ElectronPackage,
  type InstallResult,
  installElectron,
  installedElectron,
} from './electron-runtime';

/** The host to start; for the web host, why the desktop app cannot run (none when --web asked). */
export type HostChoice = { host: 'desktop'; binary: string } | { host: 'web'; why?: string };

export interface ChooseHostOptions {
  /** `npm start`'s arguments. */
  args: string[];
  /** The platform whose display rules apply (this one unless a test says otherwise). */
  platform?: NodeJS.Platform;
  electron: ElectronPackage;
  /** Lines for the terminal. */
  say: (line: string) => void;
  progress?: (progress: DownloadProgress) => void;
  stallTimeoutMs?: number;
}

export const WEB_FLAG = '--web';

/** Why no window can open here, or null when one can (as far as the environment tells). */
export function displayProblem(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string | null {
  if (platform === 'darwin' || platform === 'win32') return null;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return null;
  return 'there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set (a headless machine, or SSH without X forwarding). Start it from a desktop session, or with `ssh -X`, to get the window';
}

/** The explanation for a failed download: the error, where it was tried, and the ways out. */
export function downloadFailure(
  electron: ElectronPackage,
  result: Extract<InstallResult, { ok: false }>,
): string {
  return [
    `Electron ${electron.version} (the desktop app's runtime) could not be downloaded: ${result.problem}.`,
    ...(result.url ? [`  tried: ${result.url}`] : []),
    '  retry:          npm start   (or npx install-electron, then npm start)',
    "  use a mirror:   ELECTRON_MIRROR=https://your-mirror/electron/ npm start   (Electron's mirror settings; ELECTRON_CUSTOM_DIR if the mirror lays out folders differently)",
    '  behind a proxy: HTTPS_PROXY=http://proxy:port npm start',
    `  offline:        unpack Electron ${electron.version} yourself and set ELECTRON_OVERRIDE_DIST_PATH to its folder`,
  ].join('\n');
}

export async function chooseHost(options: ChooseHostOptions): Promise<HostChoice> {
  const { electron, say } = options;
  const platform = options.platform ?? process.platform;
  if (options.args.includes(WEB_FLAG)) return { host: 'web' };

  const binary = installedElectron(electron);
  let installed: InstallResult = { ok: true, binary: binary ?? '' };
  if (!binary) {
    say(
      `Electron ${electron.version}, the desktop app's runtime, is not installed yet: getting it with Electron's installer (once; it is kept in Electron's cache).`,
    );
    installed = await installElectron(electron, {
      onStart: (url) => say(`Downloading ${url}`),
      onProgress: options.progress,
      stallTimeoutMs: options.stallTimeoutMs,
    });
  }
  const noDisplay = displayProblem(platform, process.env);
  if (!installed.ok) {
    const failure = downloadFailure(electron, installed);
    return {
      host: 'web',
      why: noDisplay ? `${failure}\nAlso, ${noDisplay}.` : failure,
    };
  }
  if (noDisplay) return { host: 'web', why: `The desktop app cannot open a window: ${noDisplay}.` };
  return { host: 'desktop', binary: installed.binary };
}
