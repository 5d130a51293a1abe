/**
 * app://studio/ serves the built renderer and nothing else: every way out of
 * its folder (dot segments, encoded slashes, other hosts, malformed escapes)
 * is refused, and every page comes with the studio's CSP.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../api/content-security-policy';
import {
  rendererFileFor,
  STUDIO_ENTRY_URL,
  STUDIO_SCHEME_PRIVILEGES,
  serveRendererRequest,
} from './renderer-protocol';

const base = mkdtempSync(path.join(os.tmpdir(), 'studio-protocol-'));
const root = path.join(base, 'renderer');
mkdirSync(path.join(root, 'assets'), { recursive: true });
writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>ConvNet Studio</title>');
writeFileSync(path.join(root, 'assets', 'index.js'), 'console.log(1)');
writeFileSync(path.join(root, 'assets', 'index.css'), 'body{}');
writeFileSync(path.join(root, 'assets', 'kernels.wasm'), Buffer.from([0, 97, 115, 109]));
writeFileSync(path.join(base, 'secret.json'), '{"secret": true}');

const get = (url: string, method = 'GET') =>
  serveRendererRequest(new Request(url, { method }), root);

describe('the app:// protocol', () => {
  it('serves the renderer with its content types, the CSP and nosniff', async () => {
    const page = await get(STUDIO_ENTRY_URL);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>ConvNet Studio</title>');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await get('app://studio/')).status).toBe(200);
    expect((await get('app://studio/assets/index.js')).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await get('app://studio/assets/index.css')).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
    const wasm = await get('app://studio/assets/kernels.wasm');
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
  });

  it.each([
    'app://studio/..%2fsecret.json',
    'app://studio/assets/..%2f..%2fsecret.json',
    'app://studio/%2e%2e%2fsecret.json',
    'app://studio/..%5csecret.json',
    `app://studio/${encodeURIComponent(path.join(base, 'secret.json'))}`,
    'app://studio/%E0%A4%A',
    'app://studio/index.html%00.js',
    'app://other/index.html',
    'app://studio.evil/index.html',
    'file:///etc/passwd',
  ])('refuses %s', async (url) => {
    const answer = await get(url);
    expect([403, 404]).toContain(answer.status);
    expect(await answer.text()).not.toContain('"secret": true');
  });

  it('resolves dot segments inside its own folder only', async () => {
    expect(rendererFileFor('app://studio/../secret.json', root)).toBe(
      path.join(root, 'secret.json'),
    );
    expect((await get('app://studio/../secret.json')).status).toBe(404);
    expect(rendererFileFor('app://studio/assets/../index.html', root)).toBe(
      path.join(root, 'index.html'),
    );
  });

  it('answers 404 for a missing file and 405 for anything but GET and HEAD', async () => {
    expect((await get('app://studio/nothing.js')).status).toBe(404);
    expect((await get('app://studio/assets')).status).toBe(404);
    expect((await get(STUDIO_ENTRY_URL, 'POST')).status).toBe(405);
    const head = await get(STUDIO_ENTRY_URL, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('is a standard, secure scheme that does not bypass the CSP', () => {
    expect(STUDIO_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true });
    expect(STUDIO_SCHEME_PRIVILEGES.privileges).not.toHaveProperty('bypassCSP');
  });
});
