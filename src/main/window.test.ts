/** The studio window's settings are Electron's security checklist. */
import { describe, expect, it } from 'vitest';
import { studioWindowOptions } from './window';

describe('the studio window', () => {
  it('isolates the page: sandboxed, no Node, no webview, web security on', () => {
    const options = studioWindowOptions({ preload: '/app/out/preload/index.cjs' });
    expect(options.webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    });
    expect(options.show).toBe(false); // shown on ready-to-show, when it has painted
    expect(options).not.toHaveProperty('icon');
    expect(studioWindowOptions({ preload: 'p', icon: '/app/icon.png' }).icon).toBe('/app/icon.png');
  });
});
