/**
 * The page the main process trusts, and the guards that keep every web page
 * of the app on it. Electron cannot run here: the guards are attached to
 * stand-ins for a WebContents and a Session, and the events Electron would
 * emit are emitted by hand.
 */
import { EventEmitter } from 'node:events';
import type { Session, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { guardWebContents, refusePermissions } from './guards';
import { developmentServerUrl, isStudioUrl } from './origins';

describe('the studio page', () => {
  it('is app://studio/ and nothing that resembles it', () => {
    expect(isStudioUrl('app://studio/index.html')).toBe(true);
    expect(isStudioUrl('app://studio/index.html?x=1#editor')).toBe(true);
    for (const url of [
      'app://studio.evil.example/index.html',
      'app://evil/index.html',
      'app://user@studio.evil/index.html',
      'file:///opt/ConvNet Studio/resources/app.asar/out/renderer/index.html',
      'https://studio/index.html',
      'http://localhost:5173/',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'not a url',
      undefined,
    ])
      expect(isStudioUrl(url), String(url)).toBe(false);
  });

  it("includes the development server's origin only when given one", () => {
    expect(isStudioUrl('http://localhost:5173/src/main.tsx', 'http://localhost:5173/')).toBe(true);
    expect(isStudioUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isStudioUrl('app://studio/index.html', 'http://localhost:5173/')).toBe(true);
  });

  it('takes ELECTRON_RENDERER_URL in development builds only, and only a local http address', () => {
    const dev = { development: true, packaged: false };
    expect(developmentServerUrl({ ...dev, rendererUrl: 'http://localhost:5173' })).toBe(
      'http://localhost:5173/',
    );
    expect(developmentServerUrl({ ...dev, rendererUrl: 'http://127.0.0.1:5173/' })).toBe(
      'http://127.0.0.1:5173/',
    );
    for (const rendererUrl of [
      'https://evil.example/',
      'http://192.168.1.5:5173/',
      'file:///tmp/x.html',
      'nonsense',
      undefined,
    ])
      expect(developmentServerUrl({ ...dev, rendererUrl }), String(rendererUrl)).toBeUndefined();
    // A production build (electron-vite build) or a packaged app ignores the variable.
    expect(
      developmentServerUrl({
        development: false,
        packaged: false,
        rendererUrl: 'http://localhost:5173/',
      }),
    ).toBeUndefined();
    expect(
      developmentServerUrl({
        development: true,
        packaged: true,
        rendererUrl: 'http://localhost:5173/',
      }),
    ).toBeUndefined();
  });
});

/** A stand-in for Electron's WebContents: an EventEmitter with a window-open handler. */
function fakeContents() {
  const contents = new EventEmitter() as EventEmitter & {
    openHandler?: (details: { url: string }) => { action: string };
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void;
  };
  contents.setWindowOpenHandler = (handler) => {
    contents.openHandler = handler;
  };
  return contents;
}

function emitNavigation(contents: EventEmitter, event: string, url: string): boolean {
  let prevented = false;
  contents.emit(event, { url, preventDefault: () => (prevented = true) });
  return prevented;
}

describe('the guards on every web page', () => {
  const contents = fakeContents();
  guardWebContents(contents as unknown as WebContents, (url) => isStudioUrl(url));

  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect'])(
    'stop %s away from the studio, and allow it within',
    (event) => {
      expect(emitNavigation(contents, event, 'https://evil.example/')).toBe(true);
      expect(emitNavigation(contents, event, 'file:///etc/passwd')).toBe(true);
      expect(emitNavigation(contents, event, 'app://studio/index.html')).toBe(false);
    },
  );

  it('deny new windows and <webview>', () => {
    expect(contents.openHandler?.({ url: 'app://studio/index.html' })).toEqual({ action: 'deny' });
    let prevented = false;
    contents.emit('will-attach-webview', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
  });

  it('refuse every permission request and check', () => {
    const handlers: Record<string, (...args: unknown[]) => unknown> = {};
    const session = {
      setPermissionRequestHandler: (h: never) => (handlers.request = h),
      setPermissionCheckHandler: (h: never) => (handlers.check = h),
      setDevicePermissionHandler: (h: never) => (handlers.device = h),
    };
    refusePermissions(session as unknown as Session);
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'hid']) {
      const granted: boolean[] = [];
      handlers.request({}, permission, (answer: boolean) => granted.push(answer), {});
      expect(granted).toEqual([false]);
      expect(handlers.check({}, permission, 'app://studio', {})).toBe(false);
    }
    expect(handlers.device({ deviceType: 'usb' })).toBe(false);
  });
});
