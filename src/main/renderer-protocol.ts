/**
 * The desktop window loads the renderer from app://studio/, a protocol of the
 * app's own, instead of file:// (Electron's security checklist, item 18):
 * file:// pages may read any file the user can and share one origin with every
 * other file; app://studio/ serves only the built renderer's folder, under the
 * studio's Content-Security-Policy, and is the one origin the main process
 * trusts. Plain functions over web-standard Request/Response, so they are
 * tested in Node; index.ts registers them with Electron's `protocol`.
 */
import { readFile } from 'node:fs/promises';
import { CONTENT_SECURITY_POLICY } from '../api/content-security-policy';
import { contentType, staticFile } from '../node/static-files';

export const STUDIO_SCHEME = 'app';
export const STUDIO_ORIGIN = `${STUDIO_SCHEME}://studio`;
export const STUDIO_ENTRY_URL = `${STUDIO_ORIGIN}/index.html`;

/**
 * Registered before the app is ready: a standard scheme (an origin, relative
 * URLs, 'self' in the CSP), a secure context, fetch() for the renderer's own
 * assets, V8's code cache. It does not bypass the CSP.
 */
export const STUDIO_SCHEME_PRIVILEGES = {
  scheme: STUDIO_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

/** The file of the renderer folder `root` that an app:// URL names, or null. */
export function rendererFileFor(url: string, root: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (`${parsed.protocol}//${parsed.host}` !== STUDIO_ORIGIN) return null;
  return staticFile(root, parsed.pathname);
}

function notFound(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/** Answers one app:// request from the renderer folder `root`. */
export async function serveRendererRequest(request: Request, root: string): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  const file = rendererFileFor(request.url, root);
  if (!file) return notFound(403, 'outside the studio');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return notFound(404, `not found: ${new URL(request.url).pathname}`);
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    headers: {
      'content-type': contentType(file),
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    },
  });
}
