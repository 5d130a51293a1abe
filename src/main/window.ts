/**
 * The studio window's options: Electron's security checklist as settings
 * (context isolation, the sandbox, no Node in the page, web security on, no
 * <webview>, no insecure content, no navigation by dropping a file onto it).
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/** Printed by the main process once the window is shown; `npm start` waits for it. */
export const WINDOW_READY_LINE = 'ConvNet Studio: the window is open.';

export function studioWindowOptions(files: {
  preload: string;
  /** The window icon where the platform takes one from the window (Linux). */
  icon?: string;
}): BrowserWindowConstructorOptions {
  return {
    width: 1480,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#0f1419',
    title: 'ConvNet Studio',
    ...(files.icon ? { icon: files.icon } : {}),
    webPreferences: {
      preload: files.preload,
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
    },
  };
}
