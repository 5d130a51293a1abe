/**
 * Electron's main process: one window on the renderer, locked down
 * (context isolation, sandbox, no Node in the page, a strict CSP, no new
 * windows, no navigation away), and the StudioApi served over IPC: one handler
 * per method, each validating its arguments before the backend sees them.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../api/content-security-policy';
import type { HostInfo } from '../api/project-api';
import { fail } from '../api/result';
import { type StudioApi, type StudioPush, studioMethods } from '../api/studio-api';
import { createStudioBackend } from '../backend';
import { invoke } from '../backend/dispatch';
import { getPreset } from '../core/presets';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '../renderer/index.html');
const devServerUrl = process.env.ELECTRON_RENDERER_URL;

let mainWindow: BrowserWindow | null = null;

/** `--project FILE|PRESET`, `--dir FOLDER` and `--data-dir DIR`, as the web host takes them. */
function startupOptions(): {
  startup: HostInfo['startup'];
  projectFolder: string;
  dataDir?: string;
} {
  const argv = process.argv;
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const projectFolder = path.resolve(
    option('--dir') ?? path.join(app.getPath('documents'), 'ConvNet Studio'),
  );
  const dataDir = option('--data-dir');
  const project = option('--project');
  if (!project) return { startup: { kind: 'new' }, projectFolder, dataDir };
  if (getPreset(project))
    return { startup: { kind: 'preset', name: project }, projectFolder, dataDir };
  const file = path.resolve(project);
  return {
    startup: { kind: 'file', path: path.basename(file) },
    projectFolder: path.dirname(file),
    dataDir,
  };
}

/** Only our own page may call the API: the packaged file, or the dev server in development. */
function trustedSender(url: string | undefined): boolean {
  if (!url) return false;
  if (devServerUrl && url.startsWith(devServerUrl)) return true;
  return (
    url.startsWith('file://') && fileURLToPath(url.split('#')[0].split('?')[0]) === rendererIndex
  );
}

function serveApi(api: StudioApi): void {
  for (const method of studioMethods) {
    ipcMain.handle(`studio:${method}`, (event, ...args: unknown[]) => {
      if (!trustedSender(event.senderFrame?.url))
        return fail('calls are accepted only from the studio window');
      return invoke(api, method, args);
    });
  }
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1480,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#0f1419',
    title: 'ConvNet Studio',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  mainWindow.webContents.on('will-navigate', (event, url) => {
    if (!trustedSender(url)) event.preventDefault();
  });
  // The page asks before unsaved work is lost; Electron needs the question asked natively.
  mainWindow.webContents.on('will-prevent-unload', (event) => {
    const choice = dialog.showMessageBoxSync(mainWindow!, {
      type: 'question',
      buttons: ['Discard changes', 'Cancel'],
      defaultId: 1,
      cancelId: 1,
      message: 'The project has unsaved changes.',
      detail: 'Close the window and lose them?',
    });
    if (choice === 0) event.preventDefault();
  });
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  if (devServerUrl) void mainWindow.loadURL(devServerUrl);
  else void mainWindow.loadFile(rendererIndex);
}

app.whenReady().then(() => {
  // The page's meta tag carries the policy; the header covers anything served over http
  // (the development server relaxes it for its inline reload script, so not there).
  if (!devServerUrl)
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
        },
      });
    });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  const { startup, projectFolder, dataDir } = startupOptions();
  const api = createStudioBackend({
    host: 'electron',
    version: app.getVersion(),
    projectFolder,
    stateFolder: app.getPath('userData'),
    startup,
    dataDir: dataDir ? path.resolve(dataDir) : undefined,
    push: (event: StudioPush) => mainWindow?.webContents.send('studio:push', event),
  });
  serveApi(api);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (os.platform() !== 'darwin') app.quit();
});
