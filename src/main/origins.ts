/**
 * Which page the main process trusts: the studio's own, at app://studio/ in
 * every build, or Vite's development server in `npm run dev` only. The dev
 * server's address comes from ELECTRON_RENDERER_URL, which electron-vite sets;
 * a packaged or production build ignores the variable, so nobody can point the
 * app at another page (and hand it the API) by setting it.
 */
import { STUDIO_ORIGIN } from './renderer-protocol';

/** Local addresses the development server may have. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The development server to load the renderer from, or undefined to load
 * app://studio/. `development` is the build's own flag (`import.meta.env.DEV`,
 * false in `electron-vite build` output), `packaged` is `app.isPackaged`.
 */
export function developmentServerUrl(build: {
  development: boolean;
  packaged: boolean;
  rendererUrl: string | undefined;
}): string | undefined {
  if (!build.development || build.packaged || !build.rendererUrl) return undefined;
  try {
    const url = new URL(build.rendererUrl);
    return url.protocol === 'http:' && LOOPBACK.has(url.hostname) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    // URL.origin is "null" for schemes Node does not know, such as app:.
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

/** Whether a URL is a page of the studio (and may call the API, navigate, be loaded). */
export function isStudioUrl(url: string | undefined, devServer?: string): boolean {
  if (!url) return false;
  const origin = originOf(url);
  if (origin === null) return false;
  return origin === STUDIO_ORIGIN || (devServer !== undefined && origin === originOf(devServer));
}
